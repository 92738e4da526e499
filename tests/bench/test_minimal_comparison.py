"""Issue 15's comparison keys (bench/flash_crowd.py ``minimal_comparison``) with the minimal
statement in the app's arrival order beside the uniform one: which run each key divides by,
and the cost table's rows — from a results dict made up here, never from a timing."""

from __future__ import annotations

from typing import Any

from bench import cost
from bench.flash_crowd import SQL_KEYS, cost_tables, minimal_comparison, suffixed

CPU = {"postgres_s": 1.0, "app_s": 2.0}
WINDOW = {"wal_bytes": 4_000, "wal_fpi": 2, "commits": 100, "rollbacks": 0, "write_xids": 100}


def cost_row(path: str, accepted: int, refused: int) -> dict[str, Any]:
    return cost.row(
        path,
        clients=16,
        accepted=accepted,
        refused=refused,
        cpu=CPU,
        window=WINDOW,
        round_trips=1.0,
    )


def results() -> dict[str, Any]:
    return {
        "pgbench": {"16": {"tps": 400.0, "cost": cost_row("app_sql", 90, 10)}},
        "pgbench_full": {"16": {"tps": 900.0, "cost": cost_row("app_sql", 0, 100)}},
        "minimal": {"16": {"tps": 8_000.0, "cost": cost_row("minimal", 100, 0)}},
        "minimal_arrival": {
            "16": {"tps": 2_000.0, "cost": cost_row("minimal_arrival", 60, 40)},
        },
        "minimal_full": {"16": {"tps": 20_000.0, "cost": cost_row("minimal", 0, 100)}},
        "refused_http": {"refused_per_s": 300.0},
    }


HTTP = {"accepted_per_s": 100.0, "cost": cost_row("app_http", 100, 0)}


def test_the_arrival_order_has_its_own_keys_beside_the_uniform_ones() -> None:
    compared = minimal_comparison(results(), HTTP, 16)
    # The uniform minimal's keys are unchanged (issue 15).
    assert compared["pgbench_minimal_tps"] == 8_000.0
    assert compared["ratio_to_minimal"] == 0.013  # 100 / 8,000
    assert compared["own_sql_to_minimal"] == 0.05  # 400 / 8,000
    # The arrival order: the app over HTTP and the app's SQL against the same statement in
    # the app's arrival order.
    assert compared["pgbench_minimal_arrival_tps"] == 2_000.0
    assert compared["ratio_to_minimal_arrival"] == 0.05  # 100 / 2,000
    assert compared["own_sql_to_minimal_arrival"] == 0.2  # 400 / 2,000
    assert [r["path"] for r in compared["cost_table"]] == [
        "app_http",
        "app_sql",
        "minimal",
        "minimal_arrival",
    ]
    # It has no refused run of its own: its refusals are the full pools of its workload.
    assert [r["path"] for r in compared["cost_table_refused"]] == ["app_sql", "minimal"]


def test_without_an_arrival_run_its_keys_are_empty_and_the_table_has_no_row() -> None:
    partial = results()
    del partial["minimal_arrival"]
    compared = minimal_comparison(partial, HTTP, 16)
    assert compared["pgbench_minimal_arrival_tps"] is None
    assert compared["ratio_to_minimal_arrival"] is None
    assert compared["own_sql_to_minimal_arrival"] is None
    assert compared["ratio_to_minimal"] == 0.013
    assert [r["path"] for r in compared["cost_table"]] == ["app_http", "app_sql", "minimal"]


def test_the_cost_table_names_the_arrival_row() -> None:
    row = cost_row("minimal_arrival", 60, 40)
    label = "the minimal statement in the app's arrival order (pgbench)"
    assert row["label"] == label
    assert (row["registrations"], row["accepted"], row["refused"]) == (100, 60, 40)
    text = cost_tables(minimal_comparison(results(), HTTP, 16))
    assert f"| {label} | 16 | 100 (60 / 40) |" in text


def test_the_kept_rows_have_their_keys_and_their_row() -> None:
    full = results()
    full["minimal_kept"] = {"16": {"tps": 4_000.0, "cost": cost_row("minimal_kept", 100, 0)}}
    compared = minimal_comparison(full, HTTP, 16)
    assert compared["pgbench_minimal_kept_tps"] == 4_000.0
    assert compared["ratio_to_minimal_kept"] == 0.025  # 100 / 4,000
    assert compared["own_sql_to_minimal_kept"] == 0.1  # 400 / 4,000
    assert [r["path"] for r in compared["cost_table"]][-1] == "minimal_kept"
    assert compared["cost_table"][-1]["label"] == (
        "the minimal statement with the rows the app keeps (pgbench)"
    )
    assert minimal_comparison(results(), HTTP, 16)["own_sql_to_minimal_kept"] is None


def test_a_pgbench_only_client_count_keeps_the_sql_keys_with_its_suffix() -> None:
    """16 clients has no HTTP run: its keys are the SQL ones, each named with the count."""
    full = results()
    full["minimal_kept"] = {"16": {"tps": 4_000.0, "cost": cost_row("minimal_kept", 100, 0)}}
    keys = suffixed(minimal_comparison(full, {}, 16), 16, SQL_KEYS)
    assert keys == {
        "pgbench_minimal_tps_16": 8_000.0,
        "own_sql_to_minimal_16": 0.05,  # 400 / 8,000
        "pgbench_batched_per_s_16": None,  # no batched run at 16 clients
        "own_sql_batched_to_minimal_16": None,
        "pgbench_minimal_kept_tps_16": 4_000.0,
        "own_sql_to_minimal_kept_16": 0.1,  # 400 / 4,000
    }
    # With the HTTP run the accepted/s keys come too.
    assert suffixed(minimal_comparison(full, HTTP, 16), 16)["ratio_to_minimal_16"] == 0.013


def test_the_lean_handler_has_its_keys_and_its_row_beside_the_app_over_http() -> None:
    """bench/lean.py: the bare statement behind a lean WSGI handler — the ceiling of the
    accepted/s ratio for a Python app on the machine, and the app beside it."""
    full = results()
    lean_row = cost.row(
        "lean_http", clients=16, accepted=100, refused=0, cpu=CPU, window=WINDOW, python=True
    )
    full["lean"] = {"16": {"accepted_per_s": 2_400.0, "cost": lean_row}}
    compared = minimal_comparison(full, HTTP, 16)
    assert compared["lean_accepted_per_s"] == 2_400.0
    assert compared["lean_to_minimal"] == 0.3  # 2,400 / 8,000
    assert compared["ratio_to_lean"] == 0.042  # 100 / 2,400
    # Right after the app over HTTP: the two HTTP rows side by side.
    assert [r["path"] for r in compared["cost_table"]][:2] == ["app_http", "lean_http"]
    assert compared["cost_table"][1]["python_cpu_ms"] == 20.0  # 2 s of CPU / 100
    without = minimal_comparison(results(), HTTP, 16)
    assert (without["lean_to_minimal"], without["ratio_to_lean"]) == (None, None)
    assert suffixed(compared, 16)["ratio_to_lean_16"] == 0.042


def test_the_batched_sql_counts_registrations_not_transactions() -> None:
    """ADR 0048: a transaction of the batched script is a batch; its ratio divides the
    registrations/s, and its rows join both cost tables."""
    found = results()
    found["pgbench_batched"] = {
        "batch": 3,
        "16": {
            "tps": 333.3,
            "registrations_per_s": 1_000.0,
            "cost": cost_row("app_sql_batched", 90, 0),
        },
    }
    found["pgbench_batched_full"] = {
        "batch": 4,
        "16": {
            "tps": 500.0,
            "registrations_per_s": 2_000.0,
            "cost": cost_row("app_sql_batched", 0, 100),
        },
    }
    compared = minimal_comparison(found, HTTP, 16)
    assert (compared["pgbench_batch"], compared["pgbench_batch_refused"]) == (3, 4)
    assert compared["pgbench_batched_per_s"] == 1_000.0
    assert compared["own_sql_batched_to_minimal"] == 0.125  # 1,000 / 8,000
    assert compared["own_sql_batched_to_minimal_refused"] == 0.1  # 2,000 / 20,000
    assert compared["own_sql_to_minimal"] == 0.05  # the one-at-a-time script's, unchanged
    assert "app_sql_batched" in [r["path"] for r in compared["cost_table"]]
    assert "app_sql_batched" in [r["path"] for r in compared["cost_table_refused"]]
    assert suffixed(compared, 16, SQL_KEYS)["own_sql_batched_to_minimal_16"] == 0.125
    # Without a batched run (a batch of one measured): no key, no row.
    plain = minimal_comparison(results(), HTTP, 16)
    assert plain["own_sql_batched_to_minimal"] is None and plain["pgbench_batch"] is None
