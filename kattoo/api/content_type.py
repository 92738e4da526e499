"""Every API write with a body speaks JSON (issue 13, ADR 0023).

A browser sends a cross-site POST without asking first (no CORS preflight) only when its body
is ``text/plain``, ``application/x-www-form-urlencoded`` or ``multipart/form-data``. Were the
API to read such bodies, any web page could make its visitors' browsers ask for sign-in codes
(an SMS flood from thousands of real addresses) or post anything else on their behalf. So a
write that carries a body must say ``application/json``; ``multipart/form-data`` is taken
only with an ``Authorization`` header (the upload operations: guardian acts, catalog files),
which no cross-site form can send. Anything else is ``415 unsupported_media_type`` before any
handler runs. A write without a body (a cancel, a logout) is not affected.

The same gate refuses a query string holding a NUL character (``%00``) with ``400
bad_request``: PostgreSQL cannot compare text with one, as the JSON body parser already
refuses one in a body (kattoo/api/parsing.py; the fuzz found a 500 in the address lookup).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .problems import on_the_api, problem

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _has_body(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 1  # a malformed length: treat it as a body, so the type is checked
    return length > 0 or "HTTP_TRANSFER_ENCODING" in request.META


def acceptable(request: HttpRequest) -> bool:
    media_type = (request.content_type or "").lower()  # without parameters such as charset
    if media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        return True
    return media_type == "multipart/form-data" and "HTTP_AUTHORIZATION" in request.META


class JsonWritesMiddleware:
    """After the locale middleware, so the refusal speaks the request's language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if on_the_api(request):
            if request.method in WRITES and _has_body(request) and not acceptable(request):
                return problem(request, "unsupported_media_type")
            if any("\x00" in value for values in request.GET.lists() for value in values[1]):
                return problem(request, "bad_request")
        return self.get_response(request)
