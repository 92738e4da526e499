"""Keys of the rows written in great numbers (ADR 0040): time-ordered UUIDs.

A random key (UUIDv4) lands on a random page of every index it is in. With a season of rows
already in the tables, nearly every registration then dirties pages no one touched since
the last checkpoint, and each such page is written whole to the WAL (a full-page image). A
UUIDv7 (RFC 9562) starts with the Unix time in milliseconds, so new keys go to the right edge
of the index, where the previous registration's page already is. Its other 74 bits are
random: the key is as hard to guess as before. It tells when the row was made, which its
own ``created_at`` tells anyway.
"""

from __future__ import annotations

import uuid

import uuid6


def time_ordered_uuid() -> uuid.UUID:
    """A new UUIDv7, as a plain ``uuid.UUID``."""
    return uuid.UUID(int=uuid6.uuid7().int)
