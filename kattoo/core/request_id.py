"""A request id on every request: taken from the proxy's ``X-Request-Id`` when it is sane,
made up otherwise; sent back, written into every log line and every audit row."""

from __future__ import annotations

import contextvars
import logging
import re
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from kattoo.core.ids import random_bits

_current: contextvars.ContextVar[str] = contextvars.ContextVar("kattoo_request_id", default="")
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def current_request_id() -> str:
    return _current.get()


def request_id_from(incoming: str) -> str:
    """The proxy's id when it is sane, else a new one."""
    return incoming if _SANE.fullmatch(incoming) else request_id_new()


def request_id_new() -> str:
    """A new request id, made as nginx makes its own (deploy/nginx/kattoo.conf): the time in
    seconds to the millisecond, then 32 random hex digits — ``1775023200.123-5f0e…``. Time
    first (ADR 0041): every audit event keeps its request's id in an index (the viewer's
    request filter), and ids that grow with time are appended at that index's end, as the
    events are, where random ones land each on a page nothing has touched since the last
    checkpoint, which then goes into the WAL whole. The random digits are the system
    generator's, read ahead as the keys' are (ADR 0051): no system call a request, which
    under the opening minute's threads handed the GIL away and back."""
    return f"{time.time():.3f}-{random_bits(128):032x}"


class request_id_bound:  # noqa: N801 - a context manager, used as a function
    """Log lines (and audit rows) written inside carry ``request_id`` (for a handler outside
    Django: kattoo/api/hot.py). A class, not a generator: entered on every opening-minute
    submit, where a generator's context manager costs a few microseconds more."""

    __slots__ = ("request_id", "token")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id

    def __enter__(self) -> None:
        self.token = _current.set(self.request_id)

    def __exit__(self, *exc: object) -> None:
        _current.reset(self.token)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get("X-Request-Id", ""))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-Id"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True
