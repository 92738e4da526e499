"""The shared cache (Redis in production) when Redis is gone: never a 500 (ADR 0020).

``RedisCache`` is Django's own Redis backend with one change: a Redis that does not answer
(refused connection, timeout, a restart still loading its data) raises ``CacheUnavailable``
instead of the client library's errors, from every operation. Callers decide what an outage
means for them, in one place each:

- what the cache only speeds up (the public seat lists, ``kattoo.api.cache``) uses
  ``cache_get``/``cache_set``: a miss, and the database answers;
- remembered hints (the registry's recent failure) ignore it;
- rate-limit counters let it through: ``CacheUnavailable`` is answered like a database that
  does not answer (``kattoo.core.unavailable``) — ``503 service_unavailable`` with
  ``Retry-After``, nothing changed. A limit that cannot count does not let anyone through;
- ``/readyz`` reports it (``503``, ``"cache": "unavailable: …"``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("kattoo.core")

# A Redis that is down, unreachable, too slow, or restarting (loading its snapshot).
REDIS_DOWN: tuple[type[Exception], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    BusyLoadingError,
)


class CacheUnavailable(Exception):
    """The shared cache does not answer."""


def _translated(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except REDIS_DOWN as exc:
            raise CacheUnavailable(f"{type(exc).__name__}: {exc}") from exc

    return wrapper


class RedisCache(DjangoRedisCache):
    """Django's RedisCache whose connection failures are ``CacheUnavailable``."""


for _name in (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
):
    setattr(RedisCache, _name, _translated(getattr(DjangoRedisCache, _name)))


def cache_get(key: str) -> Any:
    """The cached value, or None when it is absent or the cache does not answer."""
    try:
        return cache.get(key)
    except CacheUnavailable as exc:
        logger.warning("cache unavailable, read as a miss: %s", exc)
        return None


def cache_set(key: str, value: Any, *, timeout: float) -> None:
    """Remember a value if the cache answers; an outage only costs the next reader a miss."""
    try:
        cache.set(key, value, timeout=timeout)
    except CacheUnavailable as exc:
        logger.warning("cache unavailable, value not kept: %s", exc)


def cache_delete(key: str) -> None:
    try:
        cache.delete(key)
    except CacheUnavailable as exc:
        logger.warning("cache unavailable, key not deleted: %s", exc)
