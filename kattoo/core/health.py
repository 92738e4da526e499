"""Liveness and readiness for the load balancer and the orchestrator."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

from kattoo.core.cache import CacheUnavailable
from kattoo.integrations.registry.health import registry_recently_failed


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
    checks["registry"] = "degraded" if registry_recently_failed() else "ok"
    ready = checks["database"] == "ok" and checks["cache"] == "ok"
    body: dict[str, object] = {"status": "ok" if ready else "unavailable", "checks": checks}
    if not ready:  # the reasons at the top level too, for a probe that reads one field
        body.update({name: checks[name] for name in ("database", "cache") if checks[name] != "ok"})
    return JsonResponse(body, status=200 if ready else 503)


for _view in (healthz, readyz):
    _view.kattoo_access = "public"  # type: ignore[attr-defined]
