"""Whether the registry answered lately, for the status page: services mark a failure when
Tunduk does not answer; a success clears it. Kept in the cache (Redis in production), so
every app node shows the same; a hint only, so a Redis outage forgets it (ADR 0020)."""

from __future__ import annotations

from kattoo.core.cache import cache_delete, cache_get, cache_set

KEY = "kattoo:registry:last_failure"
WINDOW_SECONDS = 120


def registry_failure_mark() -> None:
    cache_set(KEY, 1, timeout=WINDOW_SECONDS)


def registry_success_mark() -> None:
    cache_delete(KEY)


def registry_recently_failed() -> bool:
    return cache_get(KEY) is not None
