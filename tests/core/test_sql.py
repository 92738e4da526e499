"""kattoo/core/sql.py: a statement compacted for the driver says the same, and the opening
minute's statements fit psycopg's cache of converted queries."""

from __future__ import annotations

import pytest
from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH

from kattoo.core.sql import compact_sql
from kattoo.enrollment import fastpath


def test_layout_goes_and_literals_stay() -> None:
    statement = """
    SELECT a.id,  b.name
      FROM t a
      JOIN u b ON b.id = a.id AND b.note = '  two  spaces, ( kept ) = '
     WHERE a.x IN ( 'a b', 'c' ) AND a.y >= %(low)s
    """
    assert compact_sql(statement) == (
        "SELECT a.id,b.name FROM t a JOIN u b ON b.id=a.id AND b.note='  two  spaces, ( kept ) = '"
        " WHERE a.x IN ('a b','c') AND a.y >= %(low)s"
    )


@pytest.mark.parametrize("statement", ["SELECT 1 -- one\n, 2", "SELECT 'open"])
def test_what_cannot_be_compacted_safely_is_refused(statement: str) -> None:
    with pytest.raises(ValueError):
        compact_sql(statement)


@pytest.mark.parametrize("name", ["_FACTS", "_TOKEN_FACTS", "_SUBMIT", "_REFUSED"])
def test_the_hot_statements_are_converted_once_per_process(name: str) -> None:
    """psycopg converts ``%(name)s`` placeholders on every execute of a longer query (issue 15:
    ~18 µs of the read's Python per registration)."""
    assert len(getattr(fastpath, name).encode()) <= MAX_CACHED_STATEMENT_LENGTH
