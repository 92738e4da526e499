"""Request bodies larger than their endpoint accepts are refused before anything reads them.

Django parses a multipart body by writing every file part above
``FILE_UPLOAD_MAX_MEMORY_SIZE`` to a temporary file, and any POST is parsed (the CSRF check
reads the form): a 400 MB body sent to any page was spooled to disk before a view could say
"too large" (issue 13, item 8). Here each path has the largest body it may receive — the
upload endpoints their file limit plus the multipart overhead, every other path
``KATTOO_BODY_MAX_BYTES`` — and:

- ``BodyLimitMiddleware`` (before the session, CSRF and every view) answers ``413`` when the
  declared ``Content-Length`` is larger, without reading a byte: a problem document
  ``payload_too_large`` for the API, a translated page for the web;
- ``BodyLimit`` wraps the WSGI application (``config/wsgi.py``) for bodies sent without a
  length (``Transfer-Encoding: chunked``, which Django would read as empty): it reads at most
  the limit into memory and hands Django a body with its length, or, past the limit, stops
  reading and lets the middleware answer ``413``.

nginx in front refuses earlier still (``client_max_body_size``, docs/deployment.md).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from .errors import ERRORS, PROBLEM_TYPE

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Set by BodyLimit when a body without a length went past its limit.
EXCEEDED = "kattoo.body_limit_exceeded"
CHUNK = 64 * 1024

# The upload endpoints and the setting holding their file limit.
UPLOADS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^/api/v1/me/children/[^/]+/guardian-document$"), "KATTOO_UPLOAD_MAX_BYTES"),
    (re.compile(r"^/api/v1/applications/[^/]+/guardian-document$"), "KATTOO_UPLOAD_MAX_BYTES"),
    (re.compile(r"^/children/[^/]+/act/$"), "KATTOO_UPLOAD_MAX_BYTES"),
    (re.compile(r"^/api/v1/campaigns/[^/]+/catalog$"), "KATTOO_CATALOG_UPLOAD_MAX_BYTES"),
    (re.compile(r"^/staff/catalog/$"), "KATTOO_CATALOG_UPLOAD_MAX_BYTES"),
)


def body_limit(path: str) -> int:
    """The largest body, in bytes, that ``path`` accepts."""
    for pattern, setting in UPLOADS:
        if pattern.match(path):
            return int(getattr(settings, setting)) + int(settings.KATTOO_BODY_OVERHEAD_BYTES)
    return int(settings.KATTOO_BODY_MAX_BYTES)


def _declared_length(meta: dict[str, Any]) -> int:
    try:
        return max(int(meta.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    """The refusal, in the language the request asks for (the locale middleware comes later)."""
    megabytes = max(limit // 2**20, 1)
    with translation.override(translation.get_language_from_request(request)):
        detail = _(
            "The request is larger than %(mb)d MB, the most this address accepts. Nothing was "
            "saved."
        ) % {"mb": megabytes}
        if request.path_info.startswith("/api/"):  # as kattoo.api.problems.problem writes it
            status, title = ERRORS["payload_too_large"]
            body = {
                "type": PROBLEM_TYPE + "payload_too_large",
                "title": str(title),
                "status": status,
                "detail": detail,
                "code": "payload_too_large",
            }
            response = HttpResponse(
                json.dumps(body, ensure_ascii=False),
                status=status,
                content_type="application/problem+json; charset=utf-8",
            )
            response["Content-Language"] = translation.get_language() or "ky"
        else:
            html = render_to_string(
                "core/413.html",
                {
                    "language": translation.get_language() or "ky",
                    "message": detail,
                    "back": request.path_info,
                },
            )
            response = HttpResponse(html, status=413)
    response["Cache-Control"] = "no-store"
    return response


class BodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request.path_info)
        if request.META.get(EXCEEDED) or _declared_length(request.META) > limit:
            return too_large(request, limit)
        return self.get_response(request)


class BodyLimit:
    """Bodies without ``Content-Length`` are read up to their limit, never further."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            limit = body_limit(environ.get("PATH_INFO", ""))
            stream, body = environ["wsgi.input"], io.BytesIO()
            while body.tell() <= limit:
                chunk = stream.read(min(CHUNK, limit + 1 - body.tell()))
                if not chunk:
                    break
                body.write(chunk)
            if body.tell() > limit:
                environ[EXCEEDED] = True
                body = io.BytesIO()
            environ["CONTENT_LENGTH"] = str(body.tell())
            body.seek(0)
            environ["wsgi.input"] = body
        return self.app(environ, start_response)
