"""bench/sqlpath.py's script of the app's batches (ADR 0048): the app's own batch statements,
their text unchanged, each sent only when its batch has a request — valid SQL on the app's
schema, its first query giving them their values in their own column order."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.db.models import F

from bench.sqlpath import _to_pgbench, batch_args_sql, batched_pgbench_script
from kattoo.enrollment import fastpath
from kattoo.enrollment.models import SeatPool

from ..conftest import World
from .test_ablation import _numbered
from .test_batched import _ARGS

pytestmark = pytest.mark.django_db


def _statements(script: str) -> list[str]:
    return [line for line in script.splitlines() if line and not line.startswith(("--", "\\"))]


def _batch_args(cursor: Any) -> None:
    """``bench_batch_args`` as the benchmark makes it, from the test's ``bench_args``."""
    for statement in batch_args_sql(temporary=True):
        cursor.execute(statement)


def _app(sql: str, variable: str) -> str:
    """The app's statement as the script sends it: its batch parameters named ``variable``
    (the JSON) and ``variable_<name>`` (the arrays beside it)."""
    return _to_pgbench(sql.replace("%(batch", f"%({variable}")).rstrip()


def test_a_batch_reads_once_then_submits_and_refuses_each_once_when_it_has_one() -> None:
    lines = batched_pgbench_script(3).splitlines()
    assert lines[1].startswith("SELECT '[' || string_agg(a.read,")
    assert "a.n < f.first + 3" in lines[1]
    assert lines[2] == "\\gset"
    assert lines[4] == _app(fastpath._TOKEN_FACTS_BATCH, "reads")
    # The submit after its locks, in one pipeline: one transaction (ADR 0063), as the app.
    assert lines[5:12] == [
        "\\if :seats > 0",
        lines[6],
        "\\startpipeline",
        _to_pgbench(fastpath._BATCH_LOCKS).rstrip(),
        _app(fastpath._SUBMIT_BATCH, "submits"),
        "\\endpipeline",
        "\\endif",
    ]
    assert lines[12:] == [
        "\\if :full_pools > 0",
        lines[13],
        _app(fastpath._REFUSED_BATCH, "refusals"),
        "\\endif",
    ]
    refused = batched_pgbench_script(3, refused=True)
    assert _statements(refused)[1:] == [
        _app(fastpath._TOKEN_FACTS_BATCH, "reads"),
        _app(fastpath._REFUSED_BATCH, "refusals"),
    ]


@pytest.mark.postgres
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the statements are PostgreSQL's")
def test_the_batch_script_is_valid_sql_and_its_values_are_the_statements_columns(
    world: World,
) -> None:
    """Every statement prepares on the app's schema; the first query takes the next batch's
    children and gives each statement one array of its own columns per child, split by
    whether the child's pool has a free seat."""
    script = batched_pgbench_script(2)
    pools = list(SeatPool.objects.filter(school=world.school).order_by("id")[:2])
    SeatPool.objects.filter(pk=pools[1].pk).update(taken=F("capacity"))
    with connection.cursor() as cursor:
        cursor.execute(_ARGS)
        _batch_args(cursor)
        cursor.execute("CREATE TEMPORARY SEQUENCE bench_target_seq INCREMENT BY 2")
        for line in _statements(script):
            cursor.execute(f"PREPARE batch_statement AS {_numbered(line.rstrip(';'))}")
            cursor.execute("DEALLOCATE batch_statement")
        cursor.execute(
            "INSERT INTO bench_args"
            " (n, digest, pool_id, child_id, user_id, data, address, key, draft_id)"
            " SELECT n, 'd' || n, CASE WHEN n %% 2 = 1 THEN %s ELSE %s END, 100 + n, 7,"
            " '{\"a\": \"x\\\\y\"}', '\\x01', gen_random_uuid(), 200 + n"
            " FROM generate_series(1, 4) n",
            [pools[0].pk, pools[1].pk],
        )
        _batch_args(cursor)
        cursor.execute("SELECT now()")
        (now,) = cursor.fetchone()
        first = _statements(script)[0].rstrip(";")
        cursor.execute(first)
        batches = [cursor.fetchone()]
        cursor.execute(first)
        batches.append(cursor.fetchone())
        names = [c.name for c in cursor.description]
    one, two = (dict(zip(names, row, strict=True)) for row in batches)
    assert json.loads(one["reads"]) == [["d1", 101], ["d2", 102]]
    assert json.loads(two["reads"]) == [["d3", 103], ["d4", 104]]
    submits, refusals = json.loads(one["submits"]), json.loads(one["refusals"])
    assert (one["seats"], one["full_pools"], len(submits), len(refusals)) == (1, 1, 1, 1)
    columns = [
        name
        for name, _kind in fastpath._SUBMIT_BATCH_COLUMNS
        if name not in fastpath._SUBMIT_BATCH_ARRAYS
    ]
    assert len(submits[0]) == len(columns)
    assert submits[0][columns.index("child_id")] == 101
    # The long texts, each an array of its own beside the JSON, one element per child with a
    # seat: as the server reads them, the values themselves, quotes and backslashes included.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], %s::bytea[], %s::text[]",
            [one["submits_data"], one["submits_address"], one["submits_response"]],
        )
        data, address, response = cursor.fetchone()
    assert (data, [bytes(a) for a in address]) == (['{"a": "x\\\\y"}'], [b"\x01"])
    assert json.loads(response[0])["position"] == fastpath._ANSWER_MARK
    assert len(json.loads(one["submits"])) == len(data) == 1
    # The request's time is the run's (the transaction's here), as the app's is its own.
    assert dt.datetime.fromisoformat(submits[0][columns.index("now")]) == now
    # The locks' parameters: the submit's children's drafts and pools, as bigint[] literals.
    assert submits[0][columns.index("draft_id")] == 201
    assert (one["drafts"], one["pools"]) == ("{201}", f"{{{pools[0].pk}}}")
    refused = [name for name, _kind in fastpath._REFUSED_BATCH_COLUMNS]
    assert len(refusals[0]) == len(refused)
    assert (refusals[0][refused.index("child")], refusals[0][refused.index("data")]) == (
        "102",
        {"a": "x\\y"},
    )
    assert dt.datetime.fromisoformat(refusals[0][refused.index("now")]) == now


@pytest.mark.postgres
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the statements are PostgreSQL's")
def test_the_first_query_looks_up_each_childs_pool_by_its_key() -> None:
    """The first query is the benchmark's own, not the app's: it must cost next to nothing.
    Joined plainly, the generic plan of its range read every pool into a hash (about 1 ms of
    the database's CPU a batch, a fifth of what the batch's own statements cost); each
    child's pool is looked up by its key instead, whatever the planner estimates (here it is
    told to avoid nested loops, as a generic plan's estimate of the range made it do)."""
    first = _statements(batched_pgbench_script(8))[0].rstrip(";")
    with connection.cursor() as cursor:
        cursor.execute(_ARGS)
        _batch_args(cursor)
        cursor.execute("CREATE TEMPORARY SEQUENCE bench_target_seq INCREMENT BY 8")
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(f"PREPARE first_query AS {_numbered(first)}")
        cursor.execute("EXPLAIN EXECUTE first_query")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE first_query")
    assert "Hash" not in plan
    assert "Index Cond: (id = a.pool_id)" in plan
