"""When the database does not answer (a restart, a failover, a full pool), requests fail
cleanly: ``503`` with ``Retry-After``, a problem document for the API and a translated page
for the web, never a hang or a 500 with a traceback (API.md "Conventions", issue 7).

Nothing was written: a transaction the database never committed is not a registration, and
a retry with the same ``Idempotency-Key`` cannot make a second one."""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.views import defaults

from .cache import CacheUnavailable

logger = logging.getLogger("kattoo.core")

# The database is down, restarting, unreachable, or refused the connection (pool timeout,
# "terminating connection due to administrator command"); also serialization failures and
# deadlocks, which are answered the same way: nothing was changed, try again.
# A shared cache (Redis) that does not answer where a rate limit must count is answered the
# same way (ADR 0020): a limit that cannot count lets nobody through, and says so with a 503.
DATABASE_DOWN: tuple[type[Exception], ...] = (OperationalError, InterfaceError, CacheUnavailable)
RETRY_AFTER_SECONDS = 5


def database_down_log(request: HttpRequest, exc: BaseException) -> None:
    logger.warning(
        "%s unavailable in %s %s: %s: %s",
        "cache" if isinstance(exc, CacheUnavailable) else "database",
        request.method,
        request.path,
        type(exc).__name__,
        str(exc).splitlines()[0] if str(exc) else "",
    )


def database_down_page(request: HttpRequest) -> HttpResponse:
    """The web's answer: a page that needs neither the database nor the session (the base
    layout would ask both), in the request's language."""
    from .errors import ERRORS

    html = render_to_string(
        "core/503.html",
        {
            "language": get_language() or "ky",
            "message": ERRORS["service_unavailable"][1],
            "retry": request.get_full_path(),
        },
    )
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database that does not answer is a 503 to retry, not our bug."""
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_DOWN):
        database_down_log(request, exc)
        return database_down_page(request)
    return defaults.server_error(request)
