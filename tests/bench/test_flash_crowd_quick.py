"""The flash-crowd harness at small scale (bench/flash_crowd.py --quick): a real opening over
HTTP — granian in production settings, wrk, the benchmark's own PostgreSQL cluster — and then
only the invariants, and that the comparison with the minimal registration (issue 15) and the
cost table are produced. Never the speed: timings belong to ``make bench``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("KATTOO_PG_BIN", "/usr/lib/postgresql/15/bin"))

pytestmark = pytest.mark.postgres


def test_quick_opening_keeps_every_invariant() -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (scripts/ensure-bench-tools.sh installs it)")
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN}")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.flash_crowd", "--quick", "--seconds", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("QUICK ")), None)
    assert line is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(line[len("QUICK ") :])
    inv = result["invariants"]
    assert inv["overbooked"] == 0
    assert inv["taken_mismatch"] == 0
    assert inv["double_active"] == 0
    assert inv["missing_history"] == 0
    assert inv["missing_audit"] == 0
    assert inv["lost_acks"] == 0
    # Something was registered, and every answer was a registration, a refusal or overload.
    assert inv["acks"] > 0
    assert set(result["statuses"]) <= {"201", "409", "422", "503"}, result["statuses"]
    # The minute timer's seal over the run's events (ADR 0039), and the chain verified after it.
    seal = result["audit_seal"]
    assert seal["events"] >= inv["acks"] and seal["intact"], seal
    assert seal["wal_bytes"] > 0
    # Issue 15: the minimal registration measured beside the app, and the cost tables.
    for key in (
        "pgbench_minimal_tps",
        "ratio_to_minimal",
        "own_sql_to_minimal",
        "pgbench_minimal_arrival_tps",
        "ratio_to_minimal_arrival",
        "own_sql_to_minimal_arrival",
        "pgbench_minimal_refused_tps",
        "pgbench_refused_tps",
        "own_sql_to_minimal_refused",
        "ratio_to_minimal_refused",
        "refused_per_s_full_pools",
        "cost_table",
        "cost_table_refused",
    ):
        assert key in result, key
    assert result["pgbench_minimal_tps"] > 0
    assert result["pgbench_minimal_refused_tps"] > 0
    assert result["ratio_to_minimal"] is not None
    assert result["own_sql_to_minimal"] is not None
    # The same statement in the app's arrival order on the seed's capacities (it ran).
    assert result["pgbench_minimal_arrival_tps"] > 0
    assert result["own_sql_to_minimal_arrival"] is not None
    # …and writing the rows the app keeps, on lean tables (it ran, every row a registration).
    assert result["pgbench_minimal_kept_tps"] > 0
    assert result["own_sql_to_minimal_kept"] is not None
    # …and behind a lean WSGI handler over HTTP (bench/lean.py), beside the app's HTTP row.
    assert result["lean_accepted_per_s"] > 0
    assert result["lean_to_minimal"] is not None and result["ratio_to_lean"] is not None
    # The app's batch statements run through pgbench when the run's mean batch rounds above
    # one (ADR 0048): on a machine busy enough for a quick run's requests to meet, it can.
    batched = ["app_sql_batched"] if result["pgbench_batch"] else []
    assert [r["path"] for r in result["cost_table"]] == [
        "app_http",
        "lean_http",
        "app_sql",
        *batched,
        "minimal",
        "minimal_arrival",
        "minimal_kept",
    ]
    refused_batched = ["app_sql_batched"] if result.get("pgbench_batch_refused") else []
    assert [r["path"] for r in result["cost_table_refused"]] == [
        "app_http",
        "app_sql",
        *refused_batched,
        "minimal",
    ]
    rows = {r["path"]: r for r in result["cost_table"]}
    http, lean_http, least, in_order, kept = (
        rows[path]
        for path in ("app_http", "lean_http", "minimal", "minimal_arrival", "minimal_kept")
    )
    assert lean_http["python_cpu_ms"] is not None and lean_http["round_trips"] is not None
    assert kept["round_trips"] == 1 and kept["refused"] == 0 and kept["accepted"] > 0
    assert kept["wal_bytes"] > least["wal_bytes"]  # four rows more per registration
    columns = ["postgres_cpu_ms", "wal_bytes", "wal_fpi", "commits", "round_trips"]
    if http["round_trips_source"] == "pg_stat_statements":  # the cluster loads it
        columns.append("fk_checks")
    for row in result["cost_table"]:
        assert row["registrations"] > 0, row
        assert all(row[c] is not None for c in columns), row
    assert http["python_cpu_ms"] is not None
    # The minimal registration is one statement in one durable commit, in either order.
    assert least["round_trips"] == 1
    assert least["accepted"] > 0
    assert in_order["round_trips"] == 1
    assert in_order["accepted"] > 0
    # Every pool full: pgbench's transactions are all refusals, and the app refused over HTTP.
    http_full, *pgbench_full = result["cost_table_refused"]
    assert all(r["accepted"] == 0 and r["refused"] > 0 for r in pgbench_full)
    assert http_full["refused"] > 0
    assert result["ratio_to_minimal_refused"] is not None
    # What the cluster was doing during each pgbench run and the HTTP phase (ADR 0033).
    for path, activity in result["activity"].items():
        assert activity["samples"] > 0, path
        assert set(activity) == {
            "samples", "backends_max", "backends_mean", "active_backends_by_wait",
            "autovacuum_workers",
        }  # fmt: skip
    assert result["activity"]["app_sql"]["active_backends_by_wait"]
    assert result["activity"]["app_sql"]["backends_max"] >= 1  # pgbench's clients (ADR 0050)
    assert proc.returncode == 0, proc.stdout[-2000:]
