"""Prometheus metrics (ADR 0014): requests, latencies, registrations and the
fill of the seat pools, scraped at ``/metrics``.

Several worker processes (granian, gunicorn) each count on their own; with
``PROMETHEUS_MULTIPROC_DIR`` set in the environment *before the server starts*, prometheus_client
keeps every counter in a memory-mapped file of that directory and a scrape adds them up, so any
worker answers for all. The directory must be emptied when the server (re)starts.

The request middleware does two label look-ups and two additions per request (a few
microseconds); the pool fill is a gauge computed from the database at scrape time, never on
the request path.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar, overload

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector

from kattoo.core.errors import RuleViolation

REQUESTS = Counter(
    "kattoo_http_requests",
    "HTTP requests answered, by view, method and status.",
    ["view", "method", "status"],
)
LATENCY = Histogram(
    "kattoo_http_request_duration_seconds",
    "Time from the request entering Django to the response leaving it.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REGISTRATIONS = Counter(
    "kattoo_registrations",
    "Registration attempts by outcome: accepted (counted after commit), full (no free seat), "
    "refused (any other rule).",
    ["outcome"],
)
# Requests refused "busy" by admission control before they reached Django (web/admission.py).
ADMISSION_REFUSED = Counter(
    "kattoo_admission_refused_total",
    "Requests answered 503 service_busy by admission control.",
)
# Statements that served several concurrent requests at once (core/combining.py, ADR 0048):
# requests ÷ statements is the mean batch.
COMBINED_STATEMENTS = Counter(
    "kattoo_combined_statements",
    "Statements sent for requests combined into batches, by statement (read, submit).",
    ["statement"],
)
COMBINED_REQUESTS = Counter(
    "kattoo_combined_requests",
    "Requests served by combined statements, by statement (read, submit).",
    ["statement"],
)
_ACCEPTED = REGISTRATIONS.labels(outcome="accepted")
_FULL = REGISTRATIONS.labels(outcome="full")
_REFUSED = REGISTRATIONS.labels(outcome="refused")

# Any other method is one label, so a client cannot grow the series by inventing verbs.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# (view, method, status) -> the counter's and the histogram's series, looked up once.
_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}

P = ParamSpec("P")
R = TypeVar("R")


class MetricsMiddleware:
    """Counts and times every response. The view label is the URL name, never the path (a path
    with ids would make a series per object)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        view = (match.view_name or match._func_path) if match is not None else "unresolved"
        request_observed(view, request.method or "", response.status_code, elapsed)
        return response


def request_observed(view: str, method: str, status: int, elapsed: float) -> None:
    """Count and time one answered request (the middleware's, and the slim submit handler's
    in front of Django: kattoo/api/hot.py)."""
    method = method if method in _METHODS else "other"
    key = (view, method, status)
    children = _CHILDREN.get(key)
    if children is None:  # once per series and process: labels() validates and locks
        children = _CHILDREN.setdefault(
            key, (REQUESTS.labels(view, method, str(status)), LATENCY.labels(view, method))
        )
    children[0].inc()
    children[1].observe(elapsed)


def batch_observer(statement: str) -> Callable[[int], None]:
    """What a ``Combiner`` calls after each batch of ``statement``: one statement, its requests."""
    statements, requests = (
        COMBINED_STATEMENTS.labels(statement=statement),
        COMBINED_REQUESTS.labels(statement=statement),
    )

    def observed(size: int) -> None:
        statements.inc()
        requests.inc(size)

    return observed


@overload
def registration_counted(register: Callable[P, R], /) -> Callable[P, R]: ...
@overload
def registration_counted(*, committed: bool) -> Callable[[Callable[P, R]], Callable[P, R]]: ...
def registration_counted(
    register: Callable[P, R] | None = None, /, *, committed: bool = False
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Count a registration service's outcomes. An accepted registration is counted only when
    its transaction commits (a rolled-back one never happened); a refusal at once. A service
    that answers ``None`` has not decided (the fast path handing over) and is not counted.
    ``committed``: the service answers only what it committed already — one statement in
    autocommit, never inside an atomic block (the fast path) — so Django's connection is not
    asked (the slim handler's statements never check it out, ADR 0047)."""

    def decorate(register: Callable[P, R]) -> Callable[P, R]:
        @wraps(register)
        def counted(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                result = register(*args, **kwargs)
            except RuleViolation as exc:
                (_FULL if exc.code == "no_free_seats" else _REFUSED).inc()
                raise
            if result is not None:
                if not committed and connection.in_atomic_block:
                    transaction.on_commit(_ACCEPTED.inc)
                else:  # committed already
                    _ACCEPTED.inc()
            return result

        return counted

    return decorate if register is None else decorate(register)


# Gauges computed from the database at scrape time, never on the request path. The app that
# owns the rows adds its collector in its AppConfig.ready() (the seat pools:
# enrollment/metrics.py), so core reads no app's tables.
SCRAPE_TIME_COLLECTORS: list[Collector] = []


def scrape_time_collector_add(collector: Collector) -> None:
    if collector not in SCRAPE_TIME_COLLECTORS:
        SCRAPE_TIME_COLLECTORS.append(collector)


def exposition(multiproc_dir: str | None = None) -> bytes:
    """The text a scrape gets: the counters of every worker (multiprocess mode) or of this
    process, then the pool fill."""
    multiproc_dir = multiproc_dir or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if multiproc_dir:
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted, path=multiproc_dir)
    else:
        counted = REGISTRY
    scraped = CollectorRegistry(auto_describe=False)
    for collector in SCRAPE_TIME_COLLECTORS:
        scraped.register(collector)
    return generate_latest(counted) + generate_latest(scraped)


def scraper_allowed(request: HttpRequest) -> bool:
    """A scraper shows the bearer token of ``KATTOO_METRICS["TOKEN"]``, or calls directly from
    an address of the allow-list. A request relayed by a proxy (it carries X-Forwarded-For or
    X-Real-IP) needs the token: the proxy's own loopback address proves nothing."""
    config: dict[str, Any] = settings.KATTOO_METRICS
    token = config.get("TOKEN") or ""
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header[7:].strip().encode(), token.encode())
    if "X-Forwarded-For" in request.headers or "X-Real-IP" in request.headers:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in config["ALLOW"])


def metrics_response() -> HttpResponse:
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
