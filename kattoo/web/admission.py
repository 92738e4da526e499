"""Admission control: a full server says "busy, retry in N s" at once instead of queueing.

At the opening minute more requests arrive than the database can take. Queued requests only
grow everyone's latency until clients time out and retry on top of the queue — the way
portals fall over. Each process admits at most ``settings.KATTOO_ADMISSION_LIMIT`` requests
at a time (a little above its database pool, so the pool stays busy but never has a long
line); the next one is answered ``503`` with ``Retry-After`` in well under a millisecond, before any
session, database or template work, and changes nothing. Clients (our web pages and apps,
API.md) wait and retry; the jittered ``Retry-After`` spreads the retries out.

Health, readiness and metrics are never refused: the load balancer and monitoring must see
a busy node as alive.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from kattoo.core.errors import ERRORS, PROBLEM_TYPE

EXEMPT_PREFIXES = ("/healthz", "/readyz", "/metrics", "/static/")


class AdmissionMiddleware:
    """Bounded in-flight requests per process; 0 (the default outside production) = off."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.limit = int(settings.KATTOO_ADMISSION_LIMIT)
        self.slots = threading.BoundedSemaphore(self.limit) if self.limit > 0 else None
        self.retry_after = int(settings.KATTOO_ADMISSION_RETRY_AFTER)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.slots is None or request.path.startswith(EXEMPT_PREFIXES):
            return self.get_response(request)
        if not self.slots.acquire(blocking=False):
            return self.busy(request)
        try:
            return self.get_response(request)
        finally:
            self.slots.release()

    def busy(self, request: HttpRequest) -> HttpResponse:
        # 1 … 2×Retry-After seconds: retries of one burst do not all come back together.
        wait = str(random.randint(1, 2 * self.retry_after))  # noqa: S311 (jitter, not a secret)
        language = translation.get_language_from_request(request)
        with translation.override(language):
            title = str(ERRORS["service_busy"][1])
        if request.path.startswith("/api/"):
            body = {
                "type": PROBLEM_TYPE + "service_busy",
                "title": title,
                "status": 503,
                "detail": title,
                "code": "service_busy",
            }
            response = HttpResponse(
                json.dumps(body, ensure_ascii=False),
                status=503,
                content_type="application/problem+json; charset=utf-8",
            )
        else:
            response = HttpResponse(
                f'<!doctype html><html lang="{language}"><meta charset="utf-8">'
                f"<title>Kattoo</title><p>{title}</p></html>",
                status=503,
                content_type="text/html; charset=utf-8",
            )
        response["Retry-After"] = wait
        response["Content-Language"] = language
        response["Cache-Control"] = "no-store"
        return response
