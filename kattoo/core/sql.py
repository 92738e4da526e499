"""Hand-written SQL as the driver sees it."""

from __future__ import annotations

import re

_SPACE = re.compile(r"\s+")
_AFTER = re.compile(r"([(,]) ")
_BEFORE = re.compile(r" \)")
_EQUALS = re.compile(r" = ")


def compact_sql(statement: str) -> str:
    """``statement`` without the whitespace it was laid out with: runs of spaces and newlines
    become one space, and the spaces after ``(`` and ``,``, before ``)`` and around ``=`` go.
    String literals are left as written; ``--`` comments are refused (on one line they would
    swallow the rest).

    Why: psycopg converts a query with parameters (``%(name)s`` → ``$n``) on every execute and
    caches the conversion only for queries up to ``psycopg._queries.MAX_CACHED_STATEMENT_LENGTH``
    bytes (4096); the opening minute's read is longer as laid out for people, shorter as sent."""
    parts = statement.split("'")
    if len(parts) % 2 == 0:
        raise ValueError("an unclosed string literal")
    for i in range(0, len(parts), 2):
        if "--" in parts[i]:
            raise ValueError("a -- comment in a statement to compact")
        text = _SPACE.sub(" ", parts[i])
        text = _AFTER.sub(r"\1", text)
        text = _BEFORE.sub(")", text)
        parts[i] = _EQUALS.sub("=", text)
    return "'".join(parts).strip()
