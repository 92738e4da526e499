"""Fixed-window counters in the shared cache (Redis in production), for limits that must hold
across every application process: sign-in codes per PIN, per client, per (PIN, client), wrong
codes per client, and the country-wide budget of codes a minute.

A window is aligned on the clock (``kattoo.core.clock``, so tests can move it): the count of
``key`` in the window that holds *now*. Over the limit the caller learns how many seconds are
left, which it tells the person (``Retry-After`` and a sentence with the minutes) instead of a
vague "wait a little". A cache that does not answer raises ``CacheUnavailable`` from the cache
itself, answered ``503`` (kattoo.core.cache): a limit that cannot count lets nobody through.

Counters hold no personal data: a key that names a person (a PIN) is a keyed hash of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from .clock import now
from .errors import RuleViolation


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``limit`` hits of one key in ``seconds``."""

    name: str
    limit: int
    seconds: int


def pseudonym(*parts: object) -> str:
    """A short keyed hash naming a person (or a PIN and a client together) in a cache key:
    whoever reads Redis learns nothing about who signed in."""
    text = "\n".join(str(p) for p in parts)
    return hmac.new(settings.SECRET_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


def _bucket(limit: Limit, at: float | None = None) -> tuple[str, int]:
    """The window's number (of now, or of the moment ``at``) and the seconds left in it."""
    stamp = now().timestamp() if at is None else at
    number = int(stamp // limit.seconds)
    left = max(1, int((number + 1) * limit.seconds - stamp + 0.999))
    return str(number), left


def hit(limit: Limit, key: str) -> int:
    """Count one hit; 0 while within the limit, else the seconds until the window passes."""
    number, left = _bucket(limit)
    cache_key = f"limit:{limit.name}:{key}:{number}"
    cache.add(cache_key, 0, timeout=limit.seconds + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=limit.seconds + 5)
        count = 1
    return left if count > limit.limit else 0


def refund(limit: Limit, key: str, at: float) -> None:
    """Give back a hit counted at the moment ``at`` (a code the registry outage kept from being
    sent); nothing when that window has passed."""
    number, _left = _bucket(limit, at)
    with contextlib.suppress(ValueError):  # the window's counter is gone: nothing to give back
        cache.decr(f"limit:{limit.name}:{key}:{number}")


def over(limit: Limit, key: str) -> int:
    """Like ``hit`` without counting: whether the key is already at its limit."""
    number, left = _bucket(limit)
    count = int(cache.get(f"limit:{limit.name}:{key}:{number}", 0))
    return left if count >= limit.limit else 0


def too_many(retry_after: int) -> RuleViolation:
    """``429 rate_limited`` that says how long to wait (``Retry-After`` in the API)."""
    minutes = max(1, (retry_after + 59) // 60)
    detail = _("Too many attempts. Try again in %(minutes)d min.") % {"minutes": minutes}
    return RuleViolation("rate_limited", detail, retry_after=retry_after)


def busy(retry_after: int) -> RuleViolation:
    """``503 service_busy``: the country-wide budget is spent for this window; nobody is
    locked out, the next window serves again."""
    return RuleViolation("service_busy", retry_after=retry_after)
