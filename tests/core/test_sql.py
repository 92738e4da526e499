"""kattoo/core/sql.py: a statement compacted for the driver says the same, and the opening
minute's statements fit psycopg's cache of converted queries."""

from __future__ import annotations

import pytest
from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH, PostgresQuery
from psycopg.adapt import Transformer

from kattoo.core.sql import bigints, compact_sql
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


def test_every_int_is_sent_as_a_bigint_whatever_its_value() -> None:
    """psycopg would type 5 as smallint, 10⁵ as integer and 10¹⁰ as bigint: three prepared
    statements for one text. Through ``bigints`` the types are the same whatever the values;
    bools, None and everything else pass as they were."""
    transformer = Transformer()

    def types(params: dict[str, object]) -> tuple[int, ...]:
        query = PostgresQuery(transformer)
        query.convert("SELECT %(a)s, %(b)s, %(c)s, %(d)s", params)
        return tuple(query.types)

    raw = [types({"a": a, "b": True, "c": None, "d": "x"}) for a in (5, 10**5, 10**10)]
    assert len(set(raw)) == 3  # the trap, as psycopg has it
    sent = [bigints({"a": a, "b": True, "c": None, "d": "x"}) for a in (5, 10**5, 10**10)]
    assert len({types(p) for p in sent}) == 1
    assert [p["a"] for p in sent] == [5, 10**5, 10**10]
    assert sent[0]["b"] is True and sent[0]["c"] is None and sent[0]["d"] == "x"
