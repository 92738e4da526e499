"""The benchmark's audit seal measurement (bench/flash_crowd.py ``measure_seal``, ADR 0039): its
grace time is the app's, and its row in the results table says what was measured."""

from __future__ import annotations

from bench.flash_crowd import SEAL_GRACE_S, _seal_row
from kattoo.audit.chain import GRACE


def test_the_bench_waits_out_the_apps_own_grace_time() -> None:
    assert GRACE.total_seconds() == SEAL_GRACE_S


def test_the_row_says_the_cost_per_event_and_whether_the_chain_held() -> None:
    seal = {
        "events": 24_180,
        "python_cpu_ms": 0.0503,
        "postgres_cpu_ms": 0.0121,
        "wal_bytes": 243,
        "intact": True,
    }
    assert _seal_row(seal) == "0.050 / 0.012 ms; 243 B; intact (24,180 events)"
    assert "BROKEN" in _seal_row({**seal, "intact": False})


def test_a_run_without_it_or_with_it_failed_says_so() -> None:
    assert _seal_row(None) == "not run"
    assert _seal_row({"error": "Traceback …"}) == "failed"
