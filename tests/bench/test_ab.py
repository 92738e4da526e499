"""bench/ab.py: two commits side by side, alternating, and what it says of them."""

# ruff: noqa: S607 - git on the project's own repository
from __future__ import annotations

import contextlib
import json
import subprocess
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import ab


def test_the_arms_take_turns_going_first() -> None:
    assert [ab.order(n, ["old", "new"]) for n in range(4)] == [
        ["old", "new"],
        ["new", "old"],
        ["old", "new"],
        ["new", "old"],
    ]


def test_the_comparison_gives_means_medians_and_the_pairs_the_new_one_won() -> None:
    rounds = [
        {"a": {"cpu_ms": 0.7, "per_s": 1000, "statuses": {}}, "b": {"cpu_ms": 0.6, "per_s": 1100}},
        {"a": {"cpu_ms": 0.8, "per_s": 900, "statuses": {}}, "b": {"cpu_ms": 0.65, "per_s": 990}},
        {"a": {"cpu_ms": 0.6, "per_s": 1200, "statuses": {}}, "b": {"cpu_ms": 0.62, "per_s": 1150}},
    ]
    out = ab.compared(rounds, "a", "b")
    assert set(out) == {"cpu_ms", "per_s"}  # numbers only
    assert out["cpu_ms"]["a"] == {"mean": 0.7, "median": 0.7}
    assert out["cpu_ms"]["b"] == {"mean": 0.623, "median": 0.62}
    assert out["cpu_ms"]["new_lower_in"] == "2 of 3"
    assert out["per_s"]["new_lower_in"] == "1 of 3"


def test_a_commit_is_checked_out_beside_the_tree_sharing_its_var_and_then_removed() -> None:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ab.ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    with ab.checked_out("HEAD") as tree:
        assert tree != ab.ROOT and tree.is_dir()
        assert (tree / "bench" / "ab.py").exists()
        checked = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=tree, capture_output=True, text=True, check=True
        ).stdout.strip()
        assert checked == head
        assert (tree / "var").is_symlink() and (tree / "var").resolve() == (ab.ROOT / "var")
    assert not tree.exists()
    listed = subprocess.run(
        ["git", "worktree", "list"], cwd=ab.ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert str(tree) not in listed


def test_the_working_tree_is_itself() -> None:
    with ab.checked_out(ab.WORKING_TREE) as tree:
        assert tree == ab.ROOT


def test_an_unknown_commit_is_refused() -> None:
    with pytest.raises(subprocess.CalledProcessError), ab.checked_out("no-such-commit-here"):
        pass


def test_one_commit_against_itself_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        ab.main(["HEAD", "HEAD"])
    assert "two different commits" in capsys.readouterr().err


def test_an_in_process_round_reads_what_bench_inproc_printed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    printed = {
        "requests": 6000,
        "threads": 16,
        "statuses": {"201": 6000},
        "process_cpu_ms": 0.568,
        "context_switches": 9.7,
        "per_s": 1268.9,
        "mean_batch": {"read": 4.2, "submit": 5.6},
    }
    calls: list[dict[str, Any]] = []

    def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append({"cmd": cmd, **kwargs})
        return subprocess.CompletedProcess(cmd, 0, "seed: …\n" + json.dumps(printed), "")

    monkeypatch.setattr(ab.subprocess, "run", run)
    got = ab.inproc_round(tmp_path, threads=16, requests=6000)
    assert got == {
        "cpu_ms": 0.568,
        "per_s": 1268.9,
        "context_switches": 9.7,
        "mean_batch": {"read": 4.2, "submit": 5.6},
        "statuses": {"201": 6000},
    }
    assert calls[0]["cwd"] == tmp_path and calls[0]["env"]["PYTHONPATH"] == str(tmp_path)
    assert calls[0]["cmd"][1:] == ["-m", "bench.inproc", "--threads", "16", "--requests", "6000"]


def test_a_failed_round_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(
        ab.subprocess,
        "run",
        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", "Traceback: boom"),
    )
    with pytest.raises(RuntimeError, match="boom"):
        ab.inproc_round(tmp_path, threads=16, requests=10)


def test_one_commit_with_two_settings_runs_each_arm_with_its_own(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[str | None] = []

    def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append(kwargs["env"].get("KATTOO_ADMISSION_LIMIT"))
        cpu = 0.5 if kwargs["env"].get("KATTOO_ADMISSION_LIMIT") else 0.6
        printed = {"statuses": {"201": 10}, "thread_cpu_ms": {"201": cpu}, "per_s": 100.0}
        return subprocess.CompletedProcess(cmd, 0, json.dumps(printed), "")

    monkeypatch.delenv("KATTOO_ADMISSION_LIMIT", raising=False)
    monkeypatch.setattr(ab.subprocess, "run", run)
    argv = [".", ".", "--new-env", "KATTOO_ADMISSION_LIMIT=32", "--rounds", "2", "--threads", "1"]
    assert ab.main(argv) == 0
    assert seen == [None, "32", "32", None]  # alternating, the setting only in its arm
    out = json.loads(capsys.readouterr().out)
    assert out["new"] == ". KATTOO_ADMISSION_LIMIT=32"
    assert out["compared"]["cpu_ms"]["new_lower_in"] == "2 of 2"


def test_the_overload_mode_runs_its_own_rounds_and_compares_the_503s(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    made: list[dict[str, Any]] = []

    class Rounds:
        def __init__(self, **kwargs: Any) -> None:
            made.append(kwargs)

        def __call__(self, tree: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
            slow = 60.0 if env else 80.0
            return {"answer_503_p99_ms": slow, "accepted_per_s": 1000.0}

        def close(self) -> None:
            made.append({"closed": True})

    monkeypatch.setattr(ab, "OverloadRounds", Rounds)
    monkeypatch.setattr(ab, "HttpRounds", None)  # never the plain HTTP rounds
    argv = [".", ".", "--overload", "--new-env", "KATTOO_ADMISSION_LIMIT=32", "--rounds", "2"]
    assert ab.main(argv) == 0
    assert made == [
        {"conns": 64, "seconds": 20, "workers": 2, "threads": 16, "db_cpus": None},
        {"closed": True},
    ]
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "overload"
    assert out["compared"]["answer_503_p99_ms"]["new_lower_in"] == "2 of 2"


def test_a_round_holds_the_database_to_its_cores_only_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--db-cpus``: each measured round inside ``cpulimit.limited`` of the cluster's
    processes (ADR 0059); without it, nothing held."""
    from bench import cpulimit

    held: list[tuple[float, Any]] = []

    @contextlib.contextmanager
    def limited(cpus: float, pids: Any) -> Iterator[None]:
        held.append((cpus, pids))
        yield

    monkeypatch.setattr(cpulimit, "limited", limited)
    rounds = object.__new__(ab.HttpRounds)
    rounds.pg = types.SimpleNamespace(pids=lambda: [1, 2])
    rounds.db_cpus = None
    with rounds.held():
        pass
    assert held == []
    rounds.db_cpus = 0.5
    with rounds.held():
        pass
    assert held == [(0.5, rounds.pg.pids)]
