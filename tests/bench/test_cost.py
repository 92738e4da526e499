"""bench/cost.py's ``Activity``: what the cluster was doing during a run, sampled from
``pg_stat_activity`` (issue 15: how ADR 0033 found the lock manager)."""

from __future__ import annotations

import secrets
import subprocess
import threading
import time
from typing import Any

import psycopg
import pytest
from django.db import connection

from bench import cost

from ..conftest import pg_params

pytestmark = pytest.mark.postgres


class _Cluster:
    """The one thing ``Activity`` asks of a cluster: where to connect."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    def url(self, dbname: str = "postgres") -> str:
        p = self.params
        password = f":{p['password']}" if p["password"] else ""
        return f"postgresql://{p['user']}{password}@{p['host']}:{p['port']}/{p['dbname']}"


def test_activity_counts_the_runs_backends_by_what_they_wait_on() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("pg_stat_activity is PostgreSQL's")
    params = pg_params()
    started = threading.Event()

    def sleeper() -> None:
        with psycopg.connect(**params, autocommit=True) as conn:
            started.set()
            conn.execute("SELECT pg_sleep(1.2)")

    worker = threading.Thread(target=sleeper)
    with cost.Activity(_Cluster(params), params["dbname"], every=0.05) as activity:
        worker.start()
        started.wait(5)
        time.sleep(0.8)
    worker.join()
    result = activity.result()
    assert result["samples"] >= 5
    # The sleeping backend, seen in most samples under its wait event; the sampler's own
    # backend is never counted.
    assert result["active_backends_by_wait"].get("Timeout:PgSleep", 0) >= 0.5
    assert result["active_backends_by_wait"].get("CPU", 0) < 0.5  # its own query: active
    assert isinstance(result["autovacuum_workers"], dict)
    # The run's connections, in any state (ADR 0050): the sleeper's at least, in most samples.
    assert result["backends_max"] >= 1 and result["backends_mean"] >= 0.5


def test_activity_outlives_a_cluster_it_cannot_reach() -> None:
    """The durability runs kill the postmaster mid-run: the sampler keeps trying, and the run
    still gets its record (empty when nothing could be read)."""
    unreachable = _Cluster(
        {"host": "127.0.0.1", "port": 9, "user": "nobody", "password": "", "dbname": "none"}
    )
    with cost.Activity(unreachable, "none", every=0.05) as activity:
        time.sleep(0.3)
    assert activity.result() == {
        "samples": 0,
        "backends_max": 0,
        "backends_mean": 0.0,
        "active_backends_by_wait": {},
        "autovacuum_workers": {},
    }


class _Psql:
    """``PgCluster.psql`` over the test database: a failed statement raises as psql's exit
    status does there."""

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        try:
            with psycopg.connect(**pg_params(), autocommit=True) as conn:
                cursor = conn.execute(sql)
                row = cursor.fetchone() if cursor.description else None
        except psycopg.Error as exc:
            raise subprocess.CalledProcessError(3, "psql", stderr=str(exc)) from exc
        return "" if row is None else "|".join(str(v) for v in row)


def _lsn_now(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    return cost._lsn(row[0])


@pytest.mark.django_db(transaction=True)
def test_the_runs_wal_is_read_from_the_wal_of_its_own_database() -> None:
    """The cost table's WAL bytes and full-page images come from the WAL between the run's two
    positions (``pg_walinspect``), the records of the run's database only: another database's
    writes in the same window (autovacuum after an earlier run) are not the run's."""
    if connection.vendor != "postgresql":
        pytest.skip("the WAL is PostgreSQL's")
    pg, params = _Psql(), pg_params()
    other = f"bench_cost_other_{secrets.token_hex(3)}"
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {other}")
    try:
        with (
            psycopg.connect(**params, autocommit=True) as conn,
            psycopg.connect(**{**params, "dbname": other}, autocommit=True) as elsewhere,
        ):
            for c in (conn, elsewhere):
                c.execute("CREATE TABLE bench_cost_touched (id int PRIMARY KEY, n int)")
                c.execute(
                    "INSERT INTO bench_cost_touched SELECT g, 0 FROM generate_series(1, 2000) g"
                )
            try:
                conn.execute("CHECKPOINT")
                start = _lsn_now(conn)
                # The first change of each page after the checkpoint writes the page whole: three
                # pages here, and a whole table's in the other database.
                conn.execute("UPDATE bench_cost_touched SET n = 1 WHERE id IN (1, 1000, 2000)")
                elsewhere.execute("UPDATE bench_cost_touched SET n = 1")
                end = _lsn_now(conn)
            finally:
                conn.execute("DROP TABLE bench_cost_touched")
        own = cost.wal_of(pg, params["dbname"], start, end)
        theirs = cost.wal_of(pg, other, start, end)
    finally:
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {other} WITH (FORCE)")
    assert own is not None and theirs is not None
    # Three heap pages and their index's (other tests may add their own to this database).
    assert 3 <= own[1] < theirs[1]
    assert own[0] < theirs[0] < end - start
    assert cost.wal_of(pg, params["dbname"], end, end) == (0, 0)
    # WAL recycled long ago: no answer, and the window falls back to the cluster's counts.
    assert cost.wal_of(pg, params["dbname"], 1, 2) is None
