"""The flash-crowd harness at small scale (bench/flash_crowd.py --quick): a real opening over
HTTP — granian in production settings, wrk, the benchmark's own PostgreSQL cluster — and then
only the invariants. Never the speed: timings belong to ``make bench``."""

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
        timeout=120,
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
    assert proc.returncode == 0, proc.stdout[-2000:]
