"""Liveness and readiness for the load balancer and the orchestrator."""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

from kattoo.core.cache import CacheUnavailable
from kattoo.core.unavailable import RETRY_AFTER_SECONDS

# Outside systems reported as "degraded" but never making the node unready, each added by its
# adapter in AppConfig.ready() (the registry: integrations/registry/apps.py), so core imports
# no adapter.
DEGRADATION_CHECKS: dict[str, Callable[[], bool]] = {}


def degradation_check_add(name: str, degraded: Callable[[], bool]) -> None:
    DEGRADATION_CHECKS[name] = degraded


def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to take traffic: the database and the cache answer. The registry is reported but
    does not make the node unready — registration keeps working from verified data."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        cache.set("kattoo:readyz", 1, timeout=5)
        checks["cache"] = "ok" if cache.get("kattoo:readyz") == 1 else "error"
    except CacheUnavailable as exc:  # Redis is down (ADR 0020): sign-ins answer 503 meanwhile
        checks["cache"] = f"unavailable: {exc}"
    except Exception as exc:  # any failure means not ready
        checks["cache"] = f"error: {type(exc).__name__}"
    for name, degraded in DEGRADATION_CHECKS.items():
        checks[name] = "degraded" if degraded() else "ok"
    ready = checks["database"] == "ok" and checks["cache"] == "ok"
    body: dict[str, object] = {"status": "ok" if ready else "unavailable", "checks": checks}
    if not ready:  # the reasons at the top level too, for a probe that reads one field
        body.update({name: checks[name] for name in ("database", "cache") if checks[name] != "ok"})
    response = JsonResponse(body, status=200 if ready else 503)
    if not ready:  # a probe (or a person) told when to look again, as every 503 here does
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


for _view in (healthz, readyz):
    _view.kattoo_access = "public"  # type: ignore[attr-defined]
