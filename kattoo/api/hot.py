"""The opening-minute submit, served in front of Django (issue 15, ADR 0027).

At 10:00 on April 1 nearly every request is ``POST /api/v1/drafts/<child>/submit`` with a
bearer token, and the database work is two statements (``enrollment.fastpath``). Through
Django the same request also pays for thirteen middleware (sessions, CSRF, messages, OTP …),
URL resolution, Ninja's request and response models and the ORM's ``User``: several times the
CPU of the work itself. ``SlimSubmit`` wraps the Django WSGI application (``config/wsgi.py``,
inside admission control and the body limit) and answers the *plain case* itself:

- ``POST`` on exactly that path, no query string, a host Django allows, over HTTPS when
  Django would redirect plain HTTP, a body of an accepted JSON type within the body limit
  (or none), ``Authorization: Bearer <token>`` of a valid token (the rules of
  ``accounts.services.user_for_token``) held by an applicant with a person, a well-formed
  ``Idempotency-Key`` (or none) — the token's holder and the draft's facts read in one
  statement (``fastpath.token_draft_facts``);
- then ``draft_submit_fast`` — the same call, with the same arguments, as the Ninja endpoint
  (kattoo/api/v1/drafts.py ``submit_draft``), given the facts already read — and its two
  answers: ``201`` with the registration, or ``409 no_free_seats`` with its refusal audit row.

Anything else goes to Django unchanged (the body is never read here), which answers it
exactly as before: a refusal of a rule, a representative (§21), a replayed key, a bad token
(401), a staff token (403), a bad key (422), a wrong media type (415), a large body (413), an
insecure request (301), SQLite. When the fast path itself handed over (``None``), Django is
told so (``FAST_PATH_TRIED``) and goes straight to the ordinary path instead of repeating the
facts query. Every answer given here carries what Django's would: the same status, body bytes
(Ninja's encoder), ``Content-Language`` and ``Vary`` (the locale middleware's choice of
language), the security headers of the security, CSP and frame-options middleware (computed
by those middleware once, at start), ``X-Request-Id`` (echoed or made up), the request
metrics under the operation's view name and Django's warning log line for a refusal.
``tests/api/test_hot.py`` proves the two paths equal, property-tested on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import functools
import http
import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection
from django.dispatch import receiver
from django.http import HttpResponse, parse_cookie
from django.http.request import split_domain_port, validate_host
from django.urls import resolve
from django.utils import translation
from ninja.responses import NinjaJSONEncoder

from kattoo.accounts.models import Role, token_digest
from kattoo.core.actors import Actor
from kattoo.core.body_limit import EXCEEDED, body_limit
from kattoo.core.errors import FieldError
from kattoo.core.logging import log_user_bound
from kattoo.core.metrics import request_observed
from kattoo.core.proxy import client_address, networks
from kattoo.core.request_id import request_id_bound, request_id_from
from kattoo.core.unavailable import DATABASE_DOWN, RETRY_AFTER_SECONDS
from kattoo.enrollment.fastpath import SeatRefused, draft_submit_fast, pooled, token_draft_facts
from kattoo.enrollment.idempotency import idempotency_key_parse

from .problems import problem_document
from .v1.drafts import FAST_PATH_TRIED
from .v1.serializers import registration_out

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

PATH = re.compile(r"/api/v1/drafts/([0-9]{1,18})/submit")
_BEARER = re.compile(r"Bearer ([A-Za-z0-9_\-.~+/=]{1,200})")
_SAMPLE_PATH = "/api/v1/drafts/1/submit"

logger = logging.getLogger("kattoo.api")
request_logger = logging.getLogger("django.request")


def _json_type(content_type: str) -> bool:
    """kattoo/api/content_type.py's JSON media types (multipart is Django's to judge)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class _Answer:
    """The response body, and Django's end of a request when the server closes it (the
    database connection goes back to the pool then, as after a Django response)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.finished = True  # False when the statements ran on the pool's own connections

    def __iter__(self) -> Iterator[bytes]:
        yield self.body

    def close(self) -> None:
        if self.finished:
            signals.request_finished.send(sender=SlimSubmit)


class SlimSubmit:
    """The plain draft submit in front of Django; everything else is Django's."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._ready = False

    def _prepare(self) -> None:
        """What never changes while the process runs, read from Django itself."""
        match = resolve(_SAMPLE_PATH)
        self.view = match.view_name or match._func_path
        self.trusted = networks(getattr(settings, "KATTOO_TRUSTED_PROXIES", ()))
        allowed = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not allowed:  # as HttpRequest.get_host
            allowed = [".localhost", "127.0.0.1", "[::1]"]
        self.allowed_hosts = allowed
        self._hosts: dict[str, bool] = {}
        self.redirect_insecure = bool(settings.SECURE_SSL_REDIRECT)
        self.proxy_ssl = settings.SECURE_PROXY_SSL_HEADER
        # Anything that makes the common middleware answer by itself: left to Django.
        self.enabled = (
            bool(getattr(settings, "KATTOO_SLIM_SUBMIT", True))
            and connection.vendor == "postgresql"
            and not settings.DISALLOWED_USER_AGENTS
            and not settings.PREPEND_WWW
            and not settings.USE_X_FORWARDED_HOST
            and not any(p.search(_SAMPLE_PATH.lstrip("/")) for p in self._redirect_exempt())
        )
        self.headers = {secure: self._security_headers(secure) for secure in (False, True)}
        # Django's own pool (production settings): the plain submit's statements borrow their
        # connections from it directly, outside Django's connection wrapper, each for as long
        # as it runs (ADR 0047, 0050). None without a pool: then Django's connection, with its
        # request signals.
        self.pool: Any = database_pool() if self.enabled else None
        if self.pool is not None:
            self.pool.open()  # as Django opens it at its first checkout
        self._ready = True

    @staticmethod
    def _redirect_exempt() -> list[re.Pattern[str]]:
        return [re.compile(r) for r in settings.SECURE_REDIRECT_EXEMPT]

    def _security_headers(self, secure: bool) -> list[tuple[str, str]]:
        """The headers the security, CSP and frame-options middleware add to an API answer,
        asked of those middleware themselves (in Django's order: the last one first)."""
        from csp.middleware import CSPMiddleware
        from django.middleware.clickjacking import XFrameOptionsMiddleware
        from django.middleware.security import SecurityMiddleware

        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": _SAMPLE_PATH,
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "443" if secure else "80",
            "wsgi.url_scheme": "https" if secure else "http",
            "wsgi.input": io.BytesIO(),
        }
        if self.proxy_ssl:
            environ[self.proxy_ssl[0]] = self.proxy_ssl[1] if secure else "http"
        request = WSGIRequest(environ)
        response = HttpResponse(b"", content_type="application/json")
        before = set(response.headers)

        def unused(_request: Any) -> HttpResponse:
            raise AssertionError

        XFrameOptionsMiddleware(unused).process_response(request, response)
        csp = CSPMiddleware(unused)
        csp.process_request(request)
        csp.process_response(request, response)
        SecurityMiddleware(unused).process_response(request, response)
        return [(k, v) for k, v in response.headers.items() if k not in before]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        match = PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None:
            return self.app(environ, start_response)
        if not self._ready:
            self._prepare()
        if not self.enabled:
            return self.app(environ, start_response)
        return self.submit(environ, start_response, match[1])

    # -- the plain case -----------------------------------------------------------------------

    def _secure(self, environ: dict[str, Any]) -> bool:
        """``HttpRequest.is_secure`` on the environ."""
        if self.proxy_ssl:
            header, value = self.proxy_ssl
            sent = environ.get(header)
            if sent is not None:
                return str(sent).split(",", 1)[0].strip() == value
        return environ.get("wsgi.url_scheme") == "https"

    def _plain(self, environ: dict[str, Any]) -> tuple[str, str | None, bool] | None:
        """(token, idempotency key, secure) when Django would take the request to the view as
        it is; ``None`` when anything may make Django answer otherwise."""
        if environ.get("QUERY_STRING") or environ.get(EXCEEDED):
            return None
        if "HTTP_TRANSFER_ENCODING" in environ or "HTTP_X_FORWARDED_HOST" in environ:
            return None
        if not self._host_allowed(environ.get("HTTP_HOST", "")):
            return None  # Django's 400 (DisallowedHost), or a host from SERVER_NAME
        secure = self._secure(environ)
        if self.redirect_insecure and not secure:
            return None  # the security middleware's redirect
        length = environ.get("CONTENT_LENGTH") or "0"
        if not length.isascii() or not length.isdigit():
            return None
        if int(length) > 0 and (
            int(length) > body_limit(_SAMPLE_PATH)
            or not _json_type(environ.get("CONTENT_TYPE", ""))
        ):
            return None  # 413 or 415 (or multipart with a token), said by Django
        bearer = _BEARER.fullmatch(environ.get("HTTP_AUTHORIZATION", ""))
        if bearer is None:
            return None
        try:
            key = idempotency_key_parse(environ.get("HTTP_IDEMPOTENCY_KEY"))
        except FieldError:
            return None  # Django's 422
        return bearer[1], key, secure

    def _host_allowed(self, host: str) -> bool:
        """``HttpRequest.get_host``'s check of the Host header, once a process for each host
        (the site's one or two names; at most 64 kept)."""
        allowed = self._hosts.get(host)
        if allowed is None:
            domain, _port = split_domain_port(host)
            allowed = bool(domain) and validate_host(domain, self.allowed_hosts)
            if len(self._hosts) >= 64:
                self._hosts.clear()
            self._hosts[host] = allowed
        return allowed

    def _language(self, environ: dict[str, Any]) -> str:
        """The locale middleware's choice: the language cookie, Accept-Language, Kyrgyz — as
        it names it in ``Content-Language``."""
        cookie = environ.get("HTTP_COOKIE")
        chosen = parse_cookie(cookie).get(settings.LANGUAGE_COOKIE_NAME) if cookie else None
        return _language_chosen(chosen, environ.get("HTTP_ACCEPT_LANGUAGE", ""))

    def submit(
        self, environ: dict[str, Any], start_response: Callable[..., Any], child: str
    ) -> Any:
        plain = self._plain(environ)
        if plain is None:
            return self.app(environ, start_response)
        raw_token, key, secure = plain
        started = time.perf_counter()
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID", ""))
        pool = self.pool
        if pool is None:
            signals.request_started.send(sender=SlimSubmit, environ=environ)
        # Each statement borrows a connection of the pool while it runs (ADR 0050): none is
        # held when Django takes its own, or when the answer goes out. The pool's timeout, or
        # no server, is Django's to say (503) as ever: the read's DATABASE_DOWN below.
        with pooled(pool=pool) if pool is not None else contextlib.nullcontext():
            answer = self._fast(
                environ, start_response, child, raw_token, key, secure, request_id, started
            )
        if answer is None:
            return self.app(environ, start_response)
        answer.finished = pool is None  # Django's request_finished only after its start
        return answer

    def _fast(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        child: str,
        raw_token: str,
        key: str | None,
        secure: bool,
        request_id: str,
        started: float,
    ) -> _Answer | None:
        """The slim answer, or ``None``: Django's to give (no connection of the pool is held
        by then: each statement gives its own back as it ends)."""
        try:
            user, draft = token_draft_facts(
                digest=token_digest(raw_token), child_id=int(child), key=key
            )
        except DATABASE_DOWN:
            user = draft = None  # Django says it (503) with its own log line
        if user is None or user.role != Role.APPLICANT or user.person_id is None:
            return None  # 401 / 403 / 503: Django's words
        language = self._language(environ)
        actor = Actor(user=user, channel="api", request_id=request_id)
        # No language is activated for the registration: its answer names the school in the
        # parent's language (``registration_out``'s ``language``), its SMS is in the parent's
        # own (``fastpath._sms_body``), and the refusal's document is the one made in that
        # language once a process (``_problem``). An activation and its end are four writes
        # of asgiref's Local, each under one lock of the whole process (docs/performance.md).
        with request_id_bound(request_id), log_user_bound(user):
            answer = (language, environ.get("PATH_INFO", ""), secure)
            try:
                body = draft_submit_fast(
                    user=user,
                    child_id=int(child),
                    key=key,
                    fingerprint_payload={"draft": child},  # the endpoint's, the path as sent
                    actor=actor,
                    respond=_responder(language),
                    draft=draft,
                    encode=_ninja_json,
                )
            except SeatRefused as refused:
                # §7: the refusal's audit row is written already (``fastpath._REFUSED``).
                document = _problem(refused.code, refused.detail, language)
                return self._answer(
                    start_response, environ, document, answer, request_id, started,
                    status=refused.status, audited=True,
                )  # fmt: skip
            except DATABASE_DOWN as exc:
                logger.warning(
                    "database unavailable in POST %s: %s: %s",
                    environ.get("PATH_INFO", ""),
                    type(exc).__name__,
                    str(exc).splitlines()[0] if str(exc) else "",
                    extra={"client": self._client(environ)},
                )
                document = _problem("service_unavailable", None, language)
                return self._answer(
                    start_response, environ, document, answer, request_id, started,
                    status=document["status"],
                    headers=[("Retry-After", str(RETRY_AFTER_SECONDS))],
                )  # fmt: skip
            except Exception:
                logger.exception(
                    "unhandled error in POST %s",
                    environ.get("PATH_INFO", ""),
                    extra={"client": self._client(environ)},
                )
                document = _problem("server_error", None, language)
                return self._answer(
                    start_response, environ, document, answer, request_id, started,
                    status=document["status"],
                )  # fmt: skip
        if body is None:
            environ[FAST_PATH_TRIED] = True
            return None
        return self._answer(start_response, environ, body, answer, request_id, started)

    def _client(self, environ: dict[str, Any]) -> str:
        """The client's address as kattoo/core/proxy.py tells it (for the log line)."""
        remote = environ.get("REMOTE_ADDR", "")
        forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
        return client_address(remote, forwarded, self.trusted) if forwarded else remote

    def _answer(
        self,
        start_response: Callable[..., Any],
        environ: dict[str, Any],
        body: dict[str, Any],
        answer: tuple[str, str, bool],
        request_id: str,
        started: float,
        *,
        status: int = 201,
        headers: list[tuple[str, str]] | None = None,
        audited: bool = False,
    ) -> _Answer:
        """The response as Django would send it: Ninja's JSON or the problem document, and
        the headers the view and the middleware add. ``audited``: a refusal the audit trail
        records, which Django's handler does not log either (``api.problems.quiet``)."""
        language, _path, secure = answer
        problem = status != 201
        encoded = getattr(body, "encoded", None)  # a registration's, built once
        data = (encoded if encoded is not None else _ninja_json(body)).encode()
        kind = "application/problem+json" if problem else "application/json"
        response_headers = [
            ("Content-Type", f"{kind}; charset=utf-8"),
            ("Content-Language", language),
            *(headers or []),
            ("Content-Length", str(len(data))),
            ("Vary", "Accept-Language"),
            *self.headers[secure],
            ("X-Request-Id", request_id),
        ]
        phrase = _PHRASES[status]
        if status >= 400 and not audited:  # Django's log line (django.request)
            log = request_logger.error if status >= 500 else request_logger.warning
            log("%s: %s", phrase, environ.get("PATH_INFO", ""), extra={"status_code": status})
        start_response(f"{status} {phrase}", response_headers)
        request_observed(self.view, "POST", status, time.perf_counter() - started)
        return _Answer(data)


_PHRASES = {status.value: status.phrase for status in http.HTTPStatus}


def borrows(environ: dict[str, Any]) -> bool:
    """Whether a request is the submit this handler takes, which holds no database connection
    while it waits for its batch (ADR 0050): admission control counts it apart from those
    Django serves with a connection to their end (kattoo/web/admission.py, ADR 0053). A
    submit handed over to Django is counted with it all the same: at most it waits in the
    pool's line."""
    return environ.get("REQUEST_METHOD") == "POST" and bool(
        PATH.fullmatch(environ.get("PATH_INFO", ""))
    )


def database_pool() -> Any:
    """Django's pool of the default database (``OPTIONS["pool"]``), or None without one."""
    return getattr(connection, "pool", None)


def _ninja_json(body: dict[str, Any]) -> str:
    """The JSON of a body as Ninja's renderer writes it (its encoder, non-ASCII as is)."""
    return json.dumps(body, cls=_OnceEncoder, ensure_ascii=False)


class _OnceEncoder(NinjaJSONEncoder):
    """Ninja's encoder (an instance a body), which converts a value JSON has no form for once
    when the body holds that very object again: a registration's three moments are one
    (``registration_out``), and Ninja's ``default`` hands each to Django's. Only the same
    object: two equal moments in different zones are written differently."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last: object = None
        self._text: Any = None

    def default(self, o: Any) -> Any:
        if o is self._last:
            return self._text
        text = super().default(o)
        self._last, self._text = o, text
        return text


class _LocaleView:
    """What ``get_language_from_request`` reads of a request: its language cookie and its
    ``Accept-Language``."""

    def __init__(self, cookie: str | None, accept: str) -> None:
        self.META = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
        self.COOKIES = {} if cookie is None else {settings.LANGUAGE_COOKIE_NAME: cookie}


@functools.lru_cache(maxsize=256)
def _language_chosen(cookie: str | None, accept: str) -> str:
    """The locale middleware's language for this cookie value and ``Accept-Language``, as
    ``translation.get_language()`` names it once activated: parsed once a process for each
    pair (a few dozen at the opening: the apps' and browsers' headers)."""
    chosen = translation.get_language_from_request(_LocaleView(cookie, accept))  # type: ignore[arg-type]
    return translation.to_language(chosen)


@functools.lru_cache(maxsize=16)
def _responder(language: str) -> Callable[..., dict[str, Any]]:
    """The registration's serializer, its names in ``language``."""
    return functools.partial(registration_out, language=language)


@functools.lru_cache(maxsize=64)
def _problem_made(code: str, detail: str | None, language: str) -> dict[str, Any]:
    with translation.override(language):
        return problem_document(code, detail=detail)


def _problem(code: str, detail: str | None, language: str) -> dict[str, Any]:
    """``problem_document(code)`` in ``language`` (a refusal, or the database down, or an
    error): its words made once a process per language, as the catalogs are loaded once (a
    copy each time: it is the caller's)."""
    return dict(_problem_made(code, detail, language))


@receiver(signals.setting_changed)
def _languages_changed(*, setting: str, **kwargs: Any) -> None:
    """The tests' ``override_settings`` of the languages: choose and word afresh."""
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LANGUAGE_COOKIE_NAME", "LOCALE_PATHS"}:
        _language_chosen.cache_clear()
        _problem_made.cache_clear()
