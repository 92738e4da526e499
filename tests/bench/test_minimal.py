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
from django.db import connection  # noqa: F401 - named by the skipif conditions

from bench import cost, minimal

from ..conftest import pg_params

SEATS = 10


@pytest.fixture(params=[False], ids=["bare"])
def lean(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The lean schema in a schema of its own inside the test database, one pool of SEATS;
    with the kept rows' tables when the parameter says so (``kept``)."""
    params: dict[str, Any] = {**pg_params(), "autocommit": True}
    schema = f"bench_minimal_{secrets.token_hex(4)}"
    with psycopg.connect(**params) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        admin.execute(f"SET search_path TO {schema}")
        admin.execute(minimal.SCHEMA + (minimal.KEPT_SCHEMA if request.param else ""))
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


def register(params: dict[str, Any], child: int, statement: str = minimal.STATEMENT) -> str:
    with psycopg.connect(**params) as conn:
        try:
            row = conn.execute(statement, {"pool": 1, "child": child}).fetchone()
        except psycopg.errors.UniqueViolation:
            return "duplicate"
    return "accepted" if row is not None else "refused"


def race(
    params: dict[str, Any], children: list[int], statement: str = minimal.STATEMENT
) -> Counter[str]:
    barrier = threading.Barrier(len(children))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(child: int) -> None:
        barrier.wait()
        try:
            result = register(params, child, statement)
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


def test_script_statements_counts_the_first_branch_of_an_if() -> None:
    script = (
        "SELECT 1 AS free\n\\gset\nSELECT 2;\n"
        "\\if :free > 0\nSELECT 3;\n\\else\nSELECT 4;\n\\endif\n"
    )
    assert cost.script_statements(script) == 3


# -- in the app's arrival order ------------------------------------------------------------


def arrivals(params: dict[str, Any], pools: list[int]) -> None:
    """The arrival table and its sequence: child 100 + n arrives n-th, for the pool given."""
    with psycopg.connect(**params) as conn:
        conn.execute(minimal.ARRIVAL_SCHEMA)
        for n, pool in enumerate(pools, start=1):
            conn.execute("INSERT INTO arrival VALUES (%s, %s, %s)", [n, 100 + n, pool])
        conn.execute(f"CREATE SEQUENCE arrival_seq MAXVALUE {len(pools)}")


def arrive(params: dict[str, Any]) -> tuple[int, int] | None:
    with psycopg.connect(**params) as conn:
        row = conn.execute(minimal.ARRIVAL_STATEMENT).fetchone()
    return None if row is None else (row[0], row[1])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the statement is PostgreSQL's")
def test_the_arrival_order_is_first_come_first_served_until_the_children_run_out(
    lean: dict[str, Any],
) -> None:
    # 15 children for the pool's 10 seats, then one whose school has no pool (id 0).
    arrivals(lean, [1] * 15 + [0])
    answers = [arrive(lean) for _ in range(16)]
    assert [a[1] if a else None for a in answers] == [*range(1, SEATS + 1), *[None] * 6]
    with psycopg.connect(**lean) as conn:
        children = [r[0] for r in conn.execute("SELECT child_id FROM application ORDER BY id")]
        assert children == list(range(101, 101 + SEATS))
        # The sequence's MAXVALUE is the last arrival: one more transaction fails (pgbench
        # stops the client) rather than counting a child that does not exist as a refusal.
        with pytest.raises(psycopg.errors.SequenceGeneratorLimitExceeded):
            conn.execute(minimal.ARRIVAL_STATEMENT)
        conn.rollback()
        conn.execute(minimal.reset_sql(full=False, arrival=True))
        conn.commit()
    assert arrive(lean) == (1, 1)  # identity restarted, the first child again, seat 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="concurrency is proven on PostgreSQL"
)
def test_a_race_in_arrival_order_takes_each_child_once_and_exactly_the_seats(
    lean: dict[str, Any],
) -> None:
    arrivals(lean, [1] * 30)
    barrier = threading.Barrier(30)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            result = "accepted" if arrive(lean) else "refused"
        except Exception as exc:  # an unexpected error is a failure below
            result = f"error:{type(exc).__name__}:{exc}"
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == {"accepted": SEATS, "refused": 30 - SEATS}, outcomes
    with psycopg.connect(**lean) as conn:
        rows = conn.execute("SELECT child_id, position FROM application").fetchall()
        used = conn.execute("SELECT last_value FROM arrival_seq").fetchone()
    assert sorted(p for _c, p in rows) == list(range(1, SEATS + 1))
    assert len({c for c, _p in rows}) == SEATS and all(101 <= c <= 130 for c, _p in rows)
    assert used == (30,)


def test_the_arrival_script_is_the_same_one_statement_fed_by_the_next_arrival() -> None:
    script = minimal.arrival_script()
    assert cost.script_statements(script) == 1
    assert "\\set" not in script and "%(" not in script and ":pool" not in script
    # One nextval per statement: in an uncorrelated subquery, compared with the primary key.
    assert script.count("nextval('arrival_seq')") == 1
    assert "WHERE n = (SELECT nextval('arrival_seq'))" in script
    # Everything else is the uniform statement with its parameters read from the arrival.
    uniform = minimal.STATEMENT.replace("%(pool)s", "(SELECT pool_id FROM arrived)").replace(
        "%(child)s", "(SELECT child_id FROM arrived)"
    )
    assert minimal.ARRIVAL_STATEMENT.endswith(uniform.removeprefix("WITH "))


def test_arrivals_take_the_lean_pool_of_their_school_and_language_in_order_of_n() -> None:
    pools = [(1000, "ky", 25), (1000, "ru", 0), (2000, "ky", 50)]
    targets = [(2, 502, 2000, "ky"), (1, 501, 1000, "ru"), (3, 503, 3000, "ky")]
    assert minimal.arrival_rows(targets, pools) == [(1, 501, 2), (2, 502, 3), (3, 503, 0)]


def test_the_arrival_reset_restarts_the_sequence_only_for_the_arrival_order() -> None:
    assert "arrival_seq" not in minimal.reset_sql(full=False)
    assert "arrival_seq" not in minimal.reset_sql(full=True)
    sql = minimal.reset_sql(full=False, arrival=True)
    assert "ALTER SEQUENCE arrival_seq RESTART" in sql
    assert "seats_taken = 0" in sql and "TRUNCATE application RESTART IDENTITY" in sql


def test_running_out_of_arrivals_is_told_apart_from_an_error() -> None:
    ran_out = (
        "pgbench: error: client 0 script 0 aborted in command 0 query 0: ERROR:  nextval: "
        'reached maximum value of sequence "arrival_seq" (1446)\n'
        "pgbench: error: client 1 script 0 aborted in command 0 query 0: ERROR:  nextval: "
        'reached maximum value of sequence "arrival_seq" (1446)\n'
        "pgbench: error: Run was aborted; the above results are incomplete.\n"
    )
    assert minimal.exhausted(ran_out)
    other = ran_out.replace(
        'nextval: reached maximum value of sequence "arrival_seq" (1446)',
        'relation "arrival" does not exist',
        1,
    )
    assert not minimal.exhausted(other)
    assert not minimal.exhausted("")


kept = pytest.mark.parametrize("lean", [True], ids=["kept"], indirect=True)


@kept
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="concurrency is proven on PostgreSQL"
)
def test_with_the_kept_rows_a_race_takes_exactly_the_seats_and_writes_each_row_once(
    lean: dict[str, Any],
) -> None:
    """The floor the app is compared to is a correct registration too: exactly the seats,
    positions 1..N, and for each registration one history row, one audit event, one outbox
    row and one stored answer, each carrying its application (and the position)."""
    children = list(range(1, 31)) + list(range(1, 9))
    outcomes = race(lean, children, minimal.KEPT_STATEMENT)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert outcomes["accepted"] == SEATS
    with psycopg.connect(**lean) as conn:
        apps = dict(conn.execute("SELECT id, position FROM application").fetchall())
        assert sorted(apps.values()) == list(range(1, SEATS + 1))
        history = conn.execute("SELECT application_id FROM history").fetchall()
        audit = conn.execute("SELECT object_id, data->>'position' FROM audit").fetchall()
        outbox = conn.execute("SELECT application_id, body FROM outbox").fetchall()
        answers = conn.execute("SELECT response FROM idempotency").fetchall()
    assert sorted(a for (a,) in history) == sorted(apps)
    assert sorted((int(o), int(p)) for o, p in audit) == sorted(apps.items())
    assert sorted(a for a, _body in outbox) == sorted(apps)
    assert all(body.endswith(f" {apps[a]}") for a, body in outbox)
    assert sorted((r["id"], r["position"]) for (r,) in answers) == sorted(apps.items())


@kept
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the statement is PostgreSQL's")
def test_with_the_kept_rows_a_full_pool_writes_nothing_anywhere(lean: dict[str, Any]) -> None:
    with psycopg.connect(**lean) as conn:
        conn.execute("UPDATE pool SET seats_taken = seats_total")
    assert register(lean, 42, minimal.KEPT_STATEMENT) == "refused"
    with psycopg.connect(**lean) as conn:
        for table in ("application", *minimal.KEPT_TABLES):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


def test_the_kept_script_and_reset_name_the_kept_statement_and_tables() -> None:
    script = minimal.pgbench_script(12, minimal.KEPT_STATEMENT)
    assert script.count(";\n") == 1 and "INSERT INTO idempotency" in script
    assert ":child::bigint" in script and "%(" not in script
    assert minimal.reset_sql(full=False, kept=True).startswith(
        "TRUNCATE application, history, audit, outbox, idempotency RESTART IDENTITY"
    )
    assert minimal.reset_sql(full=False).startswith("TRUNCATE application RESTART IDENTITY")
