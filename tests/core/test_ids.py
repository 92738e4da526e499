"""kattoo/core/ids.py: keys that go to the right edge of their indexes (ADR 0040)."""

from __future__ import annotations

import time
import uuid

from kattoo.core.ids import time_ordered_uuid


def test_a_key_is_a_plain_uuid_of_version_7_with_the_time_in_front() -> None:
    before = time.time_ns() // 1_000_000
    key = time_ordered_uuid()
    after = time.time_ns() // 1_000_000
    assert type(key) is uuid.UUID and key.version == 7 and key.variant == uuid.RFC_4122
    assert before <= key.int >> 80 <= after  # the first 48 bits: Unix milliseconds


def test_later_keys_sort_after_earlier_ones_and_none_repeats() -> None:
    keys = []
    for _ in range(5):
        keys += [time_ordered_uuid() for _ in range(200)]
        time.sleep(0.002)
    assert len(set(keys)) == len(keys)
    # Across milliseconds the order is the order of making, in bytes as in PostgreSQL's uuid.
    by_ms = [k.int >> 80 for k in keys]
    assert by_ms == sorted(by_ms)
    assert keys[0].bytes < keys[-1].bytes
