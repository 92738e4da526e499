"""Logs: personal identification numbers never reach them whole (§7), and in production every
line is one JSON object with the request id and the signed-in user's id."""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import LazyObject, empty
from pythonjsonlogger.json import JsonFormatter

PIN_LIKE = re.compile(r"(?<!\d)[12]\d{13}(?!\d)")

# What every LogRecord has; anything else on a record came in through ``extra=``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def mask_pins(text: str) -> str:
    return PIN_LIKE.sub(lambda m: m.group(0)[0] + "*" * 10 + m.group(0)[-3:], text)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_pins(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return type(value)(_masked(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and PIN_LIKE.fullmatch(str(value)):
        return mask_pins(str(value))
    return value


class MaskPinsFilter(logging.Filter):
    """Masks the message and every ``extra`` field, whichever formatter writes the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_pins(message)
        if masked != message:
            record.msg, record.args = masked, None
        for key in record.__dict__.keys() - _STANDARD:
            record.__dict__[key] = _masked(record.__dict__[key])
        return True


_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "kattoo_log_request", default=None
)


class LogContextMiddleware:
    """Keeps the request at hand for the log filter, which reads the user only if someone has
    already looked at it (a log line never costs a session or token query)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


class _UserOnly:
    """What the log filter reads of a request — its user — for a handler in front of Django
    (kattoo/api/hot.py), which has no request object."""

    def __init__(self, user: Any) -> None:
        self.user = user


class log_user_bound:  # noqa: N801 - a context manager, used as a function
    """Log lines written inside carry ``user``'s id, as under LogContextMiddleware (a class,
    as ``request_id_bound``: entered on every opening-minute submit)."""

    __slots__ = ("token", "user")

    def __init__(self, user: Any) -> None:
        self.user = user

    def __enter__(self) -> None:
        self.token = _request.set(_UserOnly(self.user))  # type: ignore[arg-type]

    def __exit__(self, *exc: object) -> None:
        _request.reset(self.token)


def current_user_id() -> int | None:
    request = _request.get()
    if request is None:
        return None
    user: Any = request.__dict__.get("user")  # the API's bearer auth sets a User here
    if isinstance(user, LazyObject):  # the session's user, resolved or not yet
        user = user._wrapped if user._wrapped is not empty else None  # type: ignore[attr-defined]
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    pk: int | None = user.pk
    return pk


class UserIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.user_id = current_user_id()
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object a line: timestamp, level, logger, message, request_id, user_id and any
    ``extra`` fields. The finished line is masked once more, so a PIN inside a traceback or
    an object's repr does not slip through either."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "{levelname}{name}{message}{request_id}{user_id}")
        kwargs.setdefault("style", "{")
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return mask_pins(super().format(record))
