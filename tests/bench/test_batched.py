"""The batches' scripts (bench/batched.py) are built from the app's own script: its constants,
its read unchanged for each child of the batch, and the batch's submit statement — valid SQL
on the app's schema."""

from __future__ import annotations

import pytest
from django.db import connection

from bench.batched import batched_script, copy_runs_out

from .test_ablation import SCRIPT, _numbered

pytestmark = pytest.mark.django_db

PRELUDE = (
    "SELECT a.*, 'api' AS channel, now() AS now, p.capacity - p.taken - p.held AS free"
    " FROM bench_args a JOIN enrollment_seatpool p ON p.id = a.pool_id"
    " WHERE a.n = (SELECT nextval('bench_target_seq'))"
)
APP = SCRIPT.replace("SELECT 1 AS n", PRELUDE).replace(
    "WITH u AS (SELECT 1 AS id)", "WITH u AS (SELECT :digest AS id, :child_id AS c)"
)


def test_a_batch_reads_once_or_once_per_child_and_submits_once() -> None:
    one = batched_script(APP, 3).splitlines()
    assert one[0] == "SELECT nextval('bench_batch_seq') AS first" and one[1] == "\\gset"
    assert "free" not in one[2] and "WHERE a.n = :first" in one[2] and one[3] == "\\gset"
    assert one[4].startswith("SELECT r.* FROM (SELECT a.*") and "b.digest" in one[4]
    assert ":first + 3 - 1" in one[4] and ":digest" not in one[4]
    assert one[5].startswith("WITH b AS MATERIALIZED") and len(one) == 6
    apart = batched_script(APP, 3, one_read=False).splitlines()
    reads = [line for line in apart if "CROSS JOIN LATERAL" in line]
    assert [r.endswith(f"WHERE b.n = :first + {i};") for i, r in enumerate(reads)] == [True] * 3
    assert apart[-1] == one[-1]


def test_a_script_that_is_not_the_apps_is_refused() -> None:
    with pytest.raises(StopIteration):
        batched_script(SCRIPT, 2)  # no prelude of the app's
    with pytest.raises(ValueError):
        batched_script(APP.replace(":digest", ":token"), 2)


# bench_args' columns (bench/sqlpath.py ``_ARGS``), for the statements to be analysed.
_ARGS = """CREATE TEMPORARY TABLE bench_args (
    n integer, digest text, user_id bigint, applicant_id bigint, child_id bigint,
    campaign_id bigint, pool_id bigint, school_id bigint, language text, route text,
    above boolean, extra integer, id uuid, note_id uuid, key uuid, request_id text, data text,
    has_phone boolean, user_language text, address bytea, note_body text, draft_id bigint,
    fingerprint text)"""


@pytest.mark.postgres
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the statement is PostgreSQL's")
def test_the_batches_statements_on_the_apps_own_script_are_valid_sql() -> None:
    from bench.sqlpath import pgbench_script

    script = batched_script(pgbench_script(), 4)
    with connection.cursor() as cursor:
        cursor.execute(_ARGS)
        for line in script.splitlines()[4:]:
            cursor.execute(f"PREPARE batch_statement AS {_numbered(line.rstrip(';'))}")
            cursor.execute("DEALLOCATE batch_statement")


def test_a_fresh_copy_comes_before_a_run_could_find_no_child_left() -> None:
    """`python -m bench.batched` with its defaults takes more children than the national seed
    has (variants x rounds x seconds): it copies the seed again before a run could run out."""
    assert not copy_runs_out(287_254, 0)
    assert not copy_runs_out(150_000, 90_000)
    assert copy_runs_out(120_000, 90_000)
    assert copy_runs_out(0, 1)
