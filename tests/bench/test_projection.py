"""The projection for a dedicated database machine (bench/flash_crowd.py ``projection``,
docs/deployment.md): the cohort's registrations and refusals times the run's per-registration
costs, spread over cores used at 70 %."""

from __future__ import annotations

from typing import Any

from bench.flash_crowd import best_refusals, cohort_time, projection, projection_table


def row(path: str, pg: float, py: float | None, wal: int, xids: float) -> dict[str, Any]:
    return {
        "path": path,
        "postgres_cpu_ms": pg,
        "python_cpu_ms": py,
        "wal_bytes": wal,
        "write_xids": xids,
    }


def run() -> dict[str, Any]:
    return {
        "generated_at": "2027-04-01T04:00:00+00:00",
        "demand": {"drafts": 300_000, "seats": 200_000, "refusals_when_all_submit": 120_000},
        "cost_table": [
            row("app_http", 2.0, 3.0, 8_000, 1.0),
            row("app_sql", 9.9, None, 1, 1.0),
            row("minimal", 0.25, None, 500, 1.0),
        ],
        "cost_table_refused": [
            row("app_http", 1.0, 2.0, 2_000, 1.0),
            row("minimal", 0.1, None, 0, 0.0),
        ],
    }


def test_the_cohort_costs_its_registrations_and_refusals_at_the_runs_prices() -> None:
    p = projection(run())
    assert p is not None
    assert (p["accepted"], p["refused"]) == (180_000, 120_000)
    app = p["app_http"]
    # 180k × 2 ms + 120k × 1 ms = 480 s of PostgreSQL; ÷ (120 s × 0.7) = 5.7 cores.
    assert app["postgres_cpu_s"] == 480
    assert app["db_cores_for_window"] == 5.7
    assert app["cohort_s_on_db_cores"] == {"8": 85.7, "16": 42.9, "32": 21.4}
    # 180k × 3 ms + 120k × 2 ms = 780 s of Python: 9.3 app cores.
    assert (app["python_cpu_s"], app["app_cores_for_window"]) == (780, 9.3)
    # 180k × 8 kB + 120k × 2 kB = 1.68 GB: 14 MB/s over two minutes; 2,500 commits/s.
    assert (app["wal_gb"], app["wal_mb_per_s_in_window"]) == (1.68, 14.0)
    assert app["durable_commits_per_s_in_window"] == 2_500
    low = p["minimal"]
    assert (low["postgres_cpu_s"], low["python_cpu_s"]) == (57, None)
    assert low["durable_commits_per_s_in_window"] == 1_500  # a refusal writes nothing
    text = projection_table({**run(), "projection": p})
    assert "| Database cores to process it in 120 s | 5.7 | 0.7 |" in text


def test_no_projection_without_both_cost_tables() -> None:
    partial = run()
    partial["cost_table_refused"] = []
    assert projection(partial) is None
    assert projection({**run(), "demand": {}}) is None


def test_the_cohort_takes_its_registrations_and_refusals_each_at_its_own_rate() -> None:
    demand = {"drafts": 300_000, "refusals_when_all_submit": 120_000}
    t = cohort_time(demand, registrations_per_s=2_000.0, refusals_per_s=3_000.0)
    # 180k ÷ 2,000/s + 120k ÷ 3,000/s = 90 s + 40 s; every draft at 2,000/s: 150 s.
    assert t["cohort_seconds"] == 130.0
    assert t["cohort_seconds_at_registration_rate"] == 150.0
    assert "180000 registrations at 2000/s and 120000 refusals at 3000/s" in t["cohort_note"]
    # No run on full pools: every draft at the registrations' rate, and said so.
    alone = cohort_time(demand, registrations_per_s=2_000.0, refusals_per_s=None)
    assert alone["cohort_seconds"] == 150.0 and "no refusal rate" in alone["cohort_note"]
    assert (
        cohort_time(demand, registrations_per_s=0.0, refusals_per_s=1.0)["cohort_seconds"] is None
    )


def test_the_refusals_rate_is_the_better_of_the_runs_on_full_pools() -> None:
    assert (
        best_refusals({"processed_per_s": 2_400.0, "also": {"processed_per_s": 2_900.0}}) == 2_900.0
    )
    assert best_refusals({"processed_per_s": 2_400.0}) == 2_400.0
    assert best_refusals({}) is None
