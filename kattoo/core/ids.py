"""Keys of the rows written in great numbers (ADR 0040): time-ordered UUIDs.

A random key (UUIDv4) lands on a random page of every index it is in. With a season of rows
already in the tables, nearly every registration then dirties pages no one touched since
the last checkpoint, and each such page is written whole to the WAL (a full-page image). A
UUIDv7 (RFC 9562) starts with the Unix time in milliseconds, so new keys go to the right edge
of the index, where the previous registration's page already is. Its other 74 bits are
random: the key is as hard to guess as before. It tells when the row was made, which its
own ``created_at`` tells anyway.

The random bits come from the operating system's generator (``os.urandom``), as ``secrets``
gives them, but read 4 KiB at a time per thread instead of one system call per key (ADR
0051). A call into the kernel lets go of the GIL, and under the opening minute's sixteen
threads a process every let-go hands the GIL to another thread and back: two registrations'
keys were two such round trips each.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_READ = 4096  # bytes of the system's generator read at a time: 409 keys
_RANDOM_A = 12  # RFC 9562's rand_a (after the version) and rand_b (after the variant)
_RANDOM_B = 62


class _Bytes(threading.local):
    """This thread's unused random bytes: ``data[at:]``. ``generation``: the process's when
    they were read (a child of ``fork`` must never reuse its parent's)."""

    def __init__(self) -> None:
        self.data = b""
        self.at = 0
        self.generation = -1


_bytes = _Bytes()
_generation = 0


def _forked() -> None:
    global _generation
    _generation += 1


os.register_at_fork(after_in_child=_forked)


def random_bits(n: int) -> int:
    """``n`` bits of the operating system's cryptographic generator, as an integer.
    Each byte is used once, by one thread, in the process that read it."""
    size = (n + 7) // 8
    mine = _bytes
    if mine.generation != _generation or mine.at + size > len(mine.data):
        mine.data, mine.at, mine.generation = os.urandom(_READ), 0, _generation
    start = mine.at
    mine.at = start + size
    return int.from_bytes(mine.data[start : start + size], "big") >> (8 * size - n)


def time_ordered_uuid() -> uuid.UUID:
    """A new UUIDv7 (RFC 9562), a plain ``uuid.UUID``: the Unix time in milliseconds, the
    version, 12 random bits, the variant, 62 random bits. Keys made in the same millisecond
    are in no particular order among themselves."""
    milliseconds = time.time_ns() // 1_000_000
    random = random_bits(_RANDOM_A + _RANDOM_B)
    return uuid.UUID(
        int=(milliseconds & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76
        | (random >> _RANDOM_B) << 64
        | 0b10 << 62
        | (random & ((1 << _RANDOM_B) - 1))
    )
