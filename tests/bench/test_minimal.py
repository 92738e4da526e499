"""The minimal durable registration of bench/minimal.py (issue 15): the statement the benchmark
measures the app against must itself be a correct registration — under a race, exactly the
pool's seats are taken, positions 1..N, never two active applications of one child."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection

from bench import cost, minimal

SEATS = 10


@pytest.fixture
def lean() -> Iterator[dict[str, Any]]:
    """The lean schema in a schema of its own inside the test database, one pool of SEATS."""
    s = connection.settings_dict
    params: dict[str, Any] = {
        "host": s["HOST"] or "127.0.0.1",
        "port": s["PORT"] or 5432,
        "user": s["USER"],
        "password": s["PASSWORD"],
        "dbname": s["NAME"],
        "autocommit": True,
    }
    schema = f"bench_minimal_{secrets.token_hex(4)}"
    with psycopg.connect(**params) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        admin.execute(f"SET search_path TO {schema}")
        admin.execute(minimal.SCHEMA)
        admin.execute(
            "INSERT INTO pool (id, school, language, seats_total) VALUES (1, 1000, 'ky', %s)",
            [SEATS],
        )
    params["options"] = f"-c search_path={schema}"
    try:
        yield params
    finally:
        with psycopg.connect(**{k: v for k, v in params.items() if k != "options"}) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def register(params: dict[str, Any], child: int) -> str:
    with psycopg.connect(**params) as conn:
        try:
            row = conn.execute(minimal.STATEMENT, {"pool": 1, "child": child}).fetchone()
        except psycopg.errors.UniqueViolation:
            return "duplicate"
    return "accepted" if row is not None else "refused"


def race(params: dict[str, Any], children: list[int]) -> Counter[str]:
    barrier = threading.Barrier(len(children))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(child: int) -> None:
        barrier.wait()
        try:
            result = register(params, child)
        except Exception as exc:  # an unexpected error is a failure below
            result = f"error:{type(exc).__name__}:{exc}"
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run, args=(c,)) for c in children]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="concurrency is proven on PostgreSQL"
)
def test_a_race_takes_exactly_the_seats_with_positions_one_to_n(lean: dict[str, Any]) -> None:
    # 30 children for 10 seats, 8 of them sending twice at the same instant.
    children = list(range(1, 31)) + list(range(1, 9))
    outcomes = race(lean, children)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert outcomes["accepted"] == SEATS
    assert outcomes["accepted"] + outcomes["refused"] + outcomes["duplicate"] == len(children)
    with psycopg.connect(**lean) as conn:
        positions = [
            r[0] for r in conn.execute("SELECT position FROM application ORDER BY position")
        ]
        twice = conn.execute(
            "SELECT count(*) FROM (SELECT child_id FROM application "
            "WHERE status IN ('registered', 'admitted') GROUP BY child_id "
            "HAVING count(*) > 1) d"
        ).fetchone()
        taken = conn.execute("SELECT seats_taken FROM pool WHERE id = 1").fetchone()
    assert positions == list(range(1, SEATS + 1))
    assert twice == (0,)
    assert taken == (SEATS,)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the statement is PostgreSQL's")
def test_a_full_pool_refuses_and_writes_nothing(lean: dict[str, Any]) -> None:
    with psycopg.connect(**lean) as conn:
        conn.execute("UPDATE pool SET seats_taken = seats_total")
    assert register(lean, 42) == "refused"
    with psycopg.connect(**lean) as conn:
        assert conn.execute("SELECT count(*) FROM application").fetchone() == (0,)
        assert conn.execute("SELECT seats_taken FROM pool").fetchone() == (SEATS,)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the statement is PostgreSQL's")
def test_a_second_active_application_of_a_child_rolls_back_its_seat(
    lean: dict[str, Any],
) -> None:
    assert register(lean, 7) == "accepted"
    assert register(lean, 7) == "duplicate"
    with psycopg.connect(**lean) as conn:
        assert conn.execute("SELECT seats_taken FROM pool").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM application").fetchone() == (1,)


def test_the_pgbench_script_is_the_one_statement() -> None:
    script = minimal.pgbench_script(2465)
    assert "\\set pool random(1, 2465)" in script
    assert ":pool" in script and ":child" in script and "%(" not in script
    assert cost.script_statements(script) == 1


def test_script_statements_counts_gset_and_semicolons() -> None:
    script = "-- the next child\nSELECT 1 AS a\n\\gset\n-- 1. token\nSELECT :a;\nSELECT 2;\n"
    assert cost.script_statements(script) == 3
