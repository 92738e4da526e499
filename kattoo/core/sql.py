"""Hand-written SQL as the driver sees it."""

from __future__ import annotations

import re
from typing import Any

from psycopg.types.numeric import Int8

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


def bigints(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with every ``int`` sent as a ``bigint``.

    Why: psycopg types an ``int`` by its value — ``smallint`` up to 32,767, ``integer`` up to
    2³¹ − 1, ``bigint`` beyond — and keeps one prepared statement per query *and* combination
    of parameter types (``psycopg/_preparing.py``: the key is both). A statement whose ids
    straddle 32,767 is prepared, and planned, once per combination on each connection: the
    opening minute's submit four times and its read twice over 1,500 registrations of the
    national seed (issue 15). Each is one more plan to build, and the first plan of a hot
    statement is the one built on the indexes (``fastpath._index_plan``); a later variant
    would be planned on whatever the statistics say then. One type, one statement. An
    ``int`` compared with or stored into an ``integer`` column as a ``bigint`` is the same
    comparison (the B-tree's integer family) and an assignment cast. ``bool`` stays ``bool``."""
    return {k: Int8(v) if type(v) is int else v for k, v in params.items()}
