"""kattoo/core/ids.py: keys that go to the right edge of their indexes (ADR 0040)."""

from __future__ import annotations

import os
import time
import uuid

from kattoo.core.ids import random_bits, time_ordered_uuid


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


def test_keys_made_faster_than_one_a_millisecond_keep_the_real_time() -> None:
    """ADR 0051: the opening minute makes more than one key a millisecond in each process; each
    key's time is still the millisecond it was made in, not one bumped past the last key's
    (uuid6's uuid7 ran 299 s ahead of the clock after 300,000 keys in 0.8 s)."""
    keys = [time_ordered_uuid() for _ in range(20_000)]
    now = time.time_ns() // 1_000_000
    assert keys[-1].int >> 80 <= now
    assert len(set(keys)) == len(keys)


def test_the_random_bits_are_never_the_parents_in_a_forked_child() -> None:
    """The bytes read ahead are the reading process's: a child of ``fork`` (granian's workers)
    reads its own instead of repeating the ones its parent will use next."""
    random_bits(8)  # the parent's bytes read ahead
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's side
        os.close(reader)
        os.write(writer, random_bits(128).to_bytes(16, "big"))
        os._exit(0)
    os.close(writer)
    theirs = int.from_bytes(os.read(reader, 16), "big")
    os.close(reader)
    os.waitpid(child, 0)
    assert theirs != random_bits(128)


def test_random_bits_are_as_many_as_asked() -> None:
    values = [random_bits(5) for _ in range(2_000)]
    assert min(values) == 0 and max(values) == 31
    assert all(0 <= random_bits(74) < 1 << 74 for _ in range(200))
