"""Whether the registry answered lately, for the status page: services mark a failure when
Tunduk does not answer; a success clears it. Kept in the cache (Redis in production), so
every app node shows the same."""

from __future__ import annotations

from django.core.cache import cache

KEY = "kattoo:registry:last_failure"
WINDOW_SECONDS = 120


def registry_failure_mark() -> None:
    cache.set(KEY, 1, timeout=WINDOW_SECONDS)


def registry_success_mark() -> None:
    cache.delete(KEY)


def registry_recently_failed() -> bool:
    return cache.get(KEY) is not None
