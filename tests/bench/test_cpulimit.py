"""The database-bound run's CPU quota (bench/cpulimit.py, ADR 0059): what it writes to either
cgroup version, how it reads the throttling, when it says it cannot run, and — where this
machine lets root make a CPU cgroup — a real process held in one and let go."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import cpulimit
from bench.flash_crowd import _db_bound_row, held_ratios


def v1_tree(tmp_path: Path) -> Path:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (tmp_path / "cpu" / "cgroup.procs").write_text("")
    return tmp_path


def v2_tree(tmp_path: Path, controllers: str = "cpuset cpu io memory pids") -> Path:
    (tmp_path / "cgroup.controllers").write_text(controllers + "\n")
    (tmp_path / "cgroup.subtree_control").write_text("memory\n")
    (tmp_path / "cgroup.procs").write_text("")
    return tmp_path


def test_v1_gets_the_quota_over_the_kernels_period(tmp_path: Path) -> None:
    root = v1_tree(tmp_path)
    with cpulimit.limited(0.5, lambda: [], root=root, name="g") as limit:
        group = root / "cpu" / "g"
        assert (group / "cpu.cfs_period_us").read_text() == "100000\n"
        assert (group / "cpu.cfs_quota_us").read_text() == "50000\n"
        assert limit.version == 1 and limit.cpus == 0.5


def test_v2_enables_the_controller_and_writes_cpu_max(tmp_path: Path) -> None:
    root = v2_tree(tmp_path)
    with cpulimit.limited(1.25, lambda: [], root=root, name="g") as limit:
        assert (root / "cgroup.subtree_control").read_text() == "+cpu\n"
        assert (root / "g" / "cpu.max").read_text() == "125000 100000\n"
        assert limit.version == 2


def test_a_quota_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError), cpulimit.limited(0, lambda: [], root=v1_tree(tmp_path)):
        pass


def test_the_throttling_is_read_from_either_version(tmp_path: Path) -> None:
    v1 = cpulimit.CpuLimit(tmp_path, tmp_path, 1, 0.5)
    (tmp_path / "cpu.stat").write_text(
        "nr_periods 200\nnr_throttled 150\nthrottled_time 7500000000\n"
    )
    assert v1.stat() == {"periods": 200, "throttled": 150, "throttled_ms": 7500}
    v2 = cpulimit.CpuLimit(tmp_path, tmp_path, 2, 0.5)
    (tmp_path / "cpu.stat").write_text(
        "usage_usec 9\nnr_periods 10\nnr_throttled 4\nthrottled_usec 2500\n"
    )
    assert v2.stat() == {"periods": 10, "throttled": 4, "throttled_ms": 2}


def test_the_share_of_periods_the_quota_ran_out() -> None:
    before = {"periods": 100, "throttled": 10, "throttled_ms": 0}
    after = {"periods": 300, "throttled": 190, "throttled_ms": 0}
    assert cpulimit.throttled_share(before, after) == 0.9
    assert cpulimit.throttled_share(before, before) is None


def test_it_says_why_it_cannot_run(tmp_path: Path) -> None:
    assert cpulimit.unavailable(tmp_path) == "no CPU cgroup controller mounted"
    no_cpu = tmp_path / "v2"
    no_cpu.mkdir()
    assert "no cpu controller" in str(cpulimit.unavailable(v2_tree(no_cpu, "memory pids")))
    good = tmp_path / "v1"
    good.mkdir()
    assert cpulimit.unavailable(v1_tree(good)) is None


def test_the_results_row_gives_the_ratio_or_why_it_was_not_run() -> None:
    label, value, target = _db_bound_row(
        {
            "cpus": 0.5,
            "minimal_tps": 2979.4,
            "accepted_per_s": 960.3,
            "ratio_to_minimal": 0.322,
            "own_sql_batched_to_minimal": 0.245,
            "own_sql_batched_to_minimal_run": 0.231,
            "throttled": 0.917,
        }
    )
    assert "0.5 of a core" in label
    assert value == "2,979 tps; 960.3; **0.322**; 0.245 (0.231); 0.917"
    assert target == "≥ 0.30; ≥ 0.5"
    empty = {"cpus": 0.5, "minimal_tps": 0.0, "accepted_per_s": 0.0, "throttled": None}
    assert _db_bound_row(empty)[1] == "0 tps; 0.0; **—**; — (—); None"
    assert _db_bound_row({"skipped": "--db-cpus 0"})[1] == "not run: --db-cpus 0"
    assert _db_bound_row(None)[1] == "not run: no result"


@pytest.mark.skipif(cpulimit.unavailable() is not None, reason="no writable CPU cgroup here")
def test_a_real_process_is_held_and_let_go() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    name = f"kattoo-test-{os.getpid()}"
    try:
        with cpulimit.limited(0.25, lambda: [child.pid], name=name) as limit:
            assert limit.members() == [child.pid]
            assert set(limit.stat()) == {"periods", "throttled", "throttled_ms"}
            group = limit.path
        assert not group.exists()
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()


def test_the_database_bound_run_uses_productions_pool() -> None:
    from bench.flash_crowd import PRODUCTION_POOL

    settings = (Path(__file__).resolve().parents[2] / "config/settings/production.py").read_text()
    assert f'"KATTOO_DB_POOL_MAX", "{PRODUCTION_POOL}"' in settings


def test_each_held_ratio_is_taken_against_the_ceiling_measured_on_both_sides_of_it() -> None:
    # Session 35's run: the ceiling fell by a quarter between before and after the app.
    out = {
        "minimal_before": {"tps": {"16": 4579.8, "256": 2024.9}},
        "minimal_after": {"tps": {"16": 3298.4, "256": 1832.4}},
        "minimal_last": {"tps": {"16": 3400.0}},
        "accepted_per_s": 1694.0,
        "own_sql_batched": {"batch": 11, "registrations_per_s": 1684.5},
    }
    ratios = held_ratios(out)
    assert ratios["minimal_tps"] == 3939.1  # the best before and after the app, their mean
    assert ratios["ratio_to_minimal"] == 0.43
    assert ratios["minimal_tps_own"] == 3349.2  # just before and just after the app's SQL
    assert ratios["own_sql_batched_to_minimal"] == 0.503
    assert ratios["own_sql_batched_to_minimal_run"] == 0.428  # the runs' before ADR 0066


def test_a_run_without_the_last_ceiling_keeps_the_earlier_definition() -> None:
    out = {
        "minimal_before": {"tps": {"16": 3000.0, "256": 2000.0}},
        "minimal_after": {"tps": {"16": 2000.0, "256": 1000.0}},
        "accepted_per_s": 1250.0,
        "own_sql_batched": {"registrations_per_s": 1000.0},
    }
    ratios = held_ratios(out)
    assert ratios["minimal_tps_own"] == ratios["minimal_tps"] == 2500.0
    assert ratios["own_sql_batched_to_minimal"] == ratios["own_sql_batched_to_minimal_run"] == 0.4
    nothing = held_ratios({"minimal_before": {"tps": {"16": 0.0}}, "own_sql_batched": {}})
    assert nothing["ratio_to_minimal"] is None and nothing["own_sql_batched_to_minimal"] is None
