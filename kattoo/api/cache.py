"""Short-lived shared cache for the public seat lists (issue 6: the read path at the rush).

At the opening minute every parent's page polls "schools with free seats". The answer is the
same for everyone asking the same question, so one process computes it and the others read
it from Redis for ``KATTOO_SEATS_CACHE_SECONDS`` (1 s in production): a count shown is never
older than that, and the database answers the question about once a second instead of once
per parent. Personal lists (a child's own schools) are never cached. When Redis does not
answer, every read is a miss and the database answers (ADR 0020).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.translation import get_language

from kattoo.core.cache import cache_get, cache_set


def seats_cached(key_parts: list[Any], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    seconds = float(settings.KATTOO_SEATS_CACHE_SECONDS)
    if seconds <= 0:
        return compute()
    # Names are localized: the language is part of the question.
    raw = json.dumps([get_language(), *key_parts], default=str)
    key = "seats:" + hashlib.sha256(raw.encode()).hexdigest()[:32]
    hit = cache_get(key)
    if hit is not None:
        return hit
    value = compute()
    cache_set(key, value, timeout=seconds)
    return value
