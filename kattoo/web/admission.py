"""Admission control: a full server says "busy, retry in N s" at once instead of queueing.

At the opening minute more requests arrive than the database can take. Queued requests only
grow everyone's latency until clients time out and retry on top of the queue — the way
portals fall over. Each process admits at most ``settings.KATTOO_ADMISSION_LIMIT`` requests
at a time (twice the database pool in production, ADR 0065), and of those at most the
pool's size that Django serves: such a request holds its connection to the end, so one
admitted beyond the pool would only wait in the pool's line. The opening minute's plain
submit borrows a connection per statement (ADR 0050) and waits for its batch holding none,
so above the pool it counts against the limit alone (ADR 0053); the next one is
answered ``503 service_busy`` with a jittered ``Retry-After`` and changes nothing. Clients
(our web pages and apps, API.md) wait and retry; the jitter spreads the retries out.

It wraps the WSGI application (``config/wsgi.py``), in front of Django: a refusal costs a
counter, a header lookup and a prepared body — no request object, middleware, session or
database — so a storm of refusals does not eat the CPU the admitted requests need. Like every
other answer it names its request (``X-Request-Id``). Health,
readiness and metrics are never refused: the load balancer and monitoring must see a busy
node as alive.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from kattoo.core.errors import ERRORS, PROBLEM_TYPE
from kattoo.core.metrics import ADMISSION_REFUSED
from kattoo.core.request_id import request_id_from

EXEMPT_PREFIXES = ("/healthz", "/readyz", "/metrics", "/static/")
LANGUAGES = ("ky", "ru", "uz", "en")
# The refusal bodies nginx serves (collectstatic copies them to STATIC_ROOT/busy/).
BUSY_PAGES_DIR = Path(__file__).resolve().parent / "static" / "busy"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# The page needs no stylesheet request: the server that sends it is full.
_BUSY_STYLE = (
    "body{font:1.125rem/1.5 system-ui,sans-serif;margin:2rem auto;max-width:34rem;padding:0 1rem}"
    "h1{font-size:1.5rem}"
)


def _bodies() -> dict[tuple[str, bool], bytes]:
    """The refusal in each language, as problem+json (API) and as a small page (web)."""
    bodies = {}
    for language in LANGUAGES:
        with translation.override(language):
            title = str(ERRORS["service_busy"][1])
        problem = {
            "type": PROBLEM_TYPE + "service_busy",
            "title": title,
            "status": 503,
            "detail": title,
            "code": "service_busy",
        }
        bodies[language, True] = json.dumps(problem, ensure_ascii=False).encode()
        bodies[language, False] = (
            f'<!doctype html><html lang="{language}"><meta charset="utf-8">'
            # Readable on a phone: without a viewport the text is drawn at desktop width.
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Kattoo</title><style>{_BUSY_STYLE}</style>"
            f"<main><h1>Kattoo</h1><p>{title}</p></main></html>"
        ).encode()
    return bodies


def busy_pages() -> dict[str, bytes]:
    """The refusal bodies by file name, as nginx serves them: ``ky.json`` (problem+json, for
    ``/api/``), ``ky.html`` (a page) and so on for each language."""
    return {
        f"{language}.{'json' if api else 'html'}": body
        for (language, api), body in _bodies().items()
    }


def _language(accept: str) -> str:
    """The most wanted of ky/ru/uz/en in Accept-Language, read by Django's own parser (q-values
    honoured); Kyrgyz, the state language, by default."""
    for code, _quality in parse_accept_lang_header(accept):
        if code[:2] in LANGUAGES:
            return code[:2]
    return "ky"


def _both(
    first: threading.BoundedSemaphore, then: threading.BoundedSemaphore
) -> Callable[[], None]:
    def release() -> None:
        try:
            first.release()
        finally:
            then.release()

    return release


class _Closing:
    """The application's response, with one more thing to do when the server closes it."""

    def __init__(self, result: Iterable[bytes], then: Callable[[], object]) -> None:
        self.result, self.then = result, then

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.result)

    def close(self) -> None:
        try:
            close = getattr(self.result, "close", None)
            if close is not None:
                close()
        finally:
            self.then()


class AdmissionControl:
    """Bounded in-flight requests per process around a WSGI app; limit 0 = off.

    ``pool`` and ``borrows`` (ADR 0053): a request Django serves holds a database connection
    to its end, so at most ``pool`` (the pool's size) of those are admitted at once — one
    more would only wait in the pool's line. A request for which ``borrows(environ)`` is
    true holds none while it waits (the slim submit borrows one per statement, ADR 0050) and
    counts only against ``limit``: at the opening minute the submits fill larger batches."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        limit: int,
        retry_after: int,
        pool: int = 0,
        borrows: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.retry_after = retry_after
        self.slots = threading.BoundedSemaphore(limit) if limit > 0 else None
        self.borrows = borrows
        self.holding = (
            threading.BoundedSemaphore(pool)
            if self.slots is not None and borrows is not None and 0 < pool < limit
            else None
        )
        self.bodies = _bodies()

    @classmethod
    def from_settings(
        cls, app: WSGIApp, *, borrows: Callable[[dict[str, Any]], bool] | None = None
    ) -> AdmissionControl:
        options = settings.DATABASES["default"].get("OPTIONS", {})
        pool = options.get("pool") if isinstance(options.get("pool"), dict) else None
        return cls(
            app,
            limit=int(settings.KATTOO_ADMISSION_LIMIT),
            retry_after=int(settings.KATTOO_ADMISSION_RETRY_AFTER),
            pool=int(pool["max_size"]) if pool and pool.get("max_size") else 0,
            borrows=borrows,
        )

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if self.slots is None or path.startswith(EXEMPT_PREFIXES):
            return self.app(environ, start_response)
        if not self.slots.acquire(blocking=False):
            return self.busy(environ, start_response, path)
        holding = self.holding
        if holding is not None and self.borrows is not None and self.borrows(environ):
            holding = None  # holds no connection while it waits: the limit alone
        if holding is not None and not holding.acquire(blocking=False):
            self.slots.release()
            return self.busy(environ, start_response, path)
        done = self.slots.release if holding is None else _both(holding, self.slots)
        try:
            result = self.app(environ, start_response)
        except BaseException:
            done()
            raise
        # The slot is held until the server closes the response (Django returns its database
        # connection to the pool in that close, so both end together; streams keep streaming).
        return _Closing(result, done)

    def busy(
        self, environ: dict[str, Any], start_response: Callable[..., Any], path: str
    ) -> Iterable[bytes]:
        ADMISSION_REFUSED.inc()
        language = _language(environ.get("HTTP_ACCEPT_LANGUAGE", ""))
        api = path.startswith("/api/")
        body = self.bodies[language, api]
        # 1 … 2×Retry-After seconds: retries of one burst do not all come back together.
        wait = random.randint(1, 2 * self.retry_after)  # noqa: S311 (jitter, not a secret)
        kind = "application/problem+json" if api else "text/html"
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", f"{kind}; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Content-Language", language),
                ("Retry-After", str(wait)),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
                # As every other answer: the id the client or nginx sent (else a new one), so
                # a client matches this refusal to its request and retries that one.
                ("X-Request-Id", request_id_from(environ.get("HTTP_X_REQUEST_ID", ""))),
            ],
        )
        return [body]
