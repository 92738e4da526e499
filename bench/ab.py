"""Two commits' registration cost side by side: alternating rounds on the same machine.

This machine's speed moves by 30–50 % within the hour (docs/performance.md), so two national
runs an hour apart cannot tell a 10 % change from the machine's phase. An A/B alternates the
two commits round by round — the first arm first in even rounds, second in odd ones — and
says in how many pairs the newer one was lower, beside the means.

    python -m bench.ab fd9a613                      # that commit against the working tree,
                                                    # in process (bench.inproc --threads 16)
    python -m bench.ab fd9a613 HEAD --rounds 5
    python -m bench.ab fd9a613 --http --conns 64    # over HTTP: each commit's app in granian
                                                    # (2 × 16), wrk for 20 s a round
    python -m bench.ab HEAD HEAD --http --conns 256 --new-env KATTOO_ADMISSION_LIMIT=32
                                                    # one commit, two settings
    python -m bench.ab fd9a613 --overload           # the overload through nginx: the 503s
    python -m bench.ab fd9a613 --http --conns 256 --db-cpus 0.5
                                                    # the database held to half a core while
                                                    # wrk runs (ADR 0059), as make bench's
                                                    # database-bound run

A commit other than the working tree is checked out in a ``git worktree`` under
``var/bench/ab/`` (its ``var`` is this tree's, so the benchmark cluster and the national seed
are shared; removed at the end). In process, each round is ``python -m bench.inproc`` run in
the commit's tree: the process's CPU a registration, context switches and the batches. Over
HTTP, each round copies the national seed afresh, starts the commit's app as the benchmark
starts it (``flash_crowd.App``, production settings), warms it up for 4 s, then runs wrk:
accepted/s, the app's and PostgreSQL's CPU a registration, p99. ``--overload``: the same app
behind the production site in nginx (``flash_crowd.bench_front``, max_conns at production's
admission limit), wrk's 1,024 connections through it and the benchmark's overload probe: how
fast a 503 comes back, split into nginx's own and the app's, and the accepted/s beside it.
Prints one JSON document.
Both commits run on this tree's virtualenv: a commit whose dependencies differ needs them
installed there first.
"""

# ruff: noqa: S603, S607 - the A/B runs git and its own benchmark modules
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKTREES = ROOT / "var" / "bench" / "ab"
WORKING_TREE = "."  # the tree this module runs from, uncommitted changes and all


@contextlib.contextmanager
def checked_out(commit: str) -> Iterator[Path]:
    """A directory holding ``commit`` (``.``: this tree itself), sharing this tree's ``var``
    and virtualenv."""
    if commit == WORKING_TREE:
        yield ROOT
        return
    sha = subprocess.run(
        ["git", "rev-parse", "--verify", f"{commit}^{{commit}}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    tree = WORKTREES / sha[:12]
    WORKTREES.mkdir(parents=True, exist_ok=True)
    if tree.exists():
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(tree), sha], cwd=ROOT, check=True
    )
    try:
        (tree / "var").symlink_to(ROOT / "var", target_is_directory=True)
        if (ROOT / ".venv").exists():
            (tree / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
        yield tree
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)


def order(round_: int, arms: list[str]) -> list[str]:
    """The arms' order in a round: as given in even rounds, reversed in odd ones."""
    return list(arms) if round_ % 2 == 0 else list(reversed(arms))


def inproc_round(
    tree: Path, *, threads: int, requests: int, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """``bench.inproc`` in ``tree``: its JSON result."""
    command = [sys.executable, "-m", "bench.inproc", "--threads", str(threads)]
    command += ["--requests", str(requests)]
    out = subprocess.run(
        command,
        cwd=tree,
        env={**os.environ, **(env or {}), "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
    )
    text = out.stdout
    if out.returncode != 0 or "{" not in text:
        raise RuntimeError(f"bench.inproc failed in {tree}: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(text[text.index("{") : text.rindex("}") + 1])
    return {
        "cpu_ms": result["process_cpu_ms"] if threads > 1 else result["thread_cpu_ms"]["201"],
        "per_s": result.get("per_s"),
        "context_switches": result.get("context_switches"),
        "mean_batch": result.get("mean_batch"),
        "statuses": result["statuses"],
    }


class HttpRounds:
    """Over HTTP: the benchmark's cluster and seed, a fresh run database a round."""

    def __init__(
        self,
        *,
        conns: int,
        seconds: float,
        workers: int,
        threads: int,
        db_cpus: float | None = None,
    ) -> None:
        from bench import flash_crowd as fc
        from bench.pgcluster import PgCluster
        from bench.seed import ensure_seed

        self.fc, self.conns, self.seconds = fc, conns, seconds
        self.workers, self.threads, self.db_cpus = workers, threads, db_cpus
        self.pg = PgCluster(fc.VAR / "pg", port=55432, huge_pages=True)
        self.pg.start()
        self.seed = ensure_seed(self.pg, "national", log=lambda msg: print(msg, file=sys.stderr))

    @contextlib.contextmanager
    def started(
        self, tree: Path, env: dict[str, str] | None, *, conns: int
    ) -> Iterator[tuple[Any, Any]]:
        """``tree``'s app on a fresh copy of the seed, warmed up for 4 s at ``conns``
        connections: (the app, the copy's children not yet taken); stopped on the way out."""
        fc = self.fc
        db_url, _opened = fc.fresh_db(self.pg, self.seed, "ab_http", opens_in=0)
        fc.flush_redis()
        targets = fc.Targets(db_url)
        app_env = {**fc.app_env(db_url, self.threads), **(env or {}), "PYTHONPATH": str(tree)}
        app = fc.App(
            db_url,
            port=58100,
            workers=self.workers,
            threads=self.threads,
            name="ab",
            env=app_env,
            cwd=tree,
        )
        app.start()
        try:
            warm = targets.take(6000)
            fc.run_wrk(app.url, conns=conns, seconds=4, rows=warm, workdir=fc.VAR / "runs" / "ab")
            yield app, targets
        finally:
            app.stop()

    def __call__(self, tree: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
        fc = self.fc
        with self.started(tree, env, conns=self.conns) as (app, targets):
            rows = targets.take(100_000)
            with self.held(), fc.CpuMeter([app.pid()], self.pg) as meter:
                wrk = fc.run_wrk(
                    app.url,
                    conns=self.conns,
                    seconds=self.seconds,
                    rows=rows,
                    workdir=fc.VAR / "runs" / "ab",
                )
        summary = fc.summarize(wrk, self.seconds)
        done = max(summary["accepted"] + summary["refused"], 1)
        return {
            "accepted_per_s": summary["accepted_per_s"],
            "app_cpu_ms": round(1000 * meter.result["app_s"] / done, 3),
            "postgres_cpu_ms": round(1000 * meter.result["postgres_s"] / done, 3),
            "p99_ms": summary["p99_ms"],
            "machine_busy_share": meter.result["machine_busy_share"],
            "statuses": summary["statuses"],
        }

    def held(self) -> contextlib.AbstractContextManager[Any]:
        """The database held to ``db_cpus`` cores while a round is measured (ADR 0059), or
        nothing held."""
        if self.db_cpus is None:
            return contextlib.nullcontext()
        from bench import cpulimit

        return cpulimit.limited(self.db_cpus, self.pg.pids)

    def close(self) -> None:
        self.pg.stop()


class OverloadRounds(HttpRounds):
    """The overload phase of ``make bench`` alone, a round at a time: the app behind nginx, wrk's
    1,024 connections through it and the overload probe (``flash_crowd.OverloadProbe``)."""

    def __call__(self, tree: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
        fc = self.fc
        with self.started(tree, env, conns=256) as (app, targets):
            limit = self.workers * fc.admission_limit(self.threads)
            with fc.bench_front("ab-front", [app.port], max_conns=limit) as front:
                probe = fc.OverloadProbe(front.https, targets.take(2000), verify=False)

                def during() -> None:
                    time.sleep(2)
                    with probe:
                        time.sleep(max(self.seconds - 3, 3))

                with self.held(), fc.CpuMeter([app.pid()], self.pg) as meter:
                    wrk = fc.run_wrk(
                        front.https,
                        conns=1024,
                        seconds=self.seconds,
                        rows=targets.take(100_000),
                        workdir=fc.VAR / "runs" / "ab",
                        during=during,
                    )
                log = front.logs / "kattoo.access.log"
                found = probe.result(fc.answerers(log))
                nginx = fc.front_answers(log)
        summary = fc.summarize(wrk, self.seconds)
        by = found.get("answer_503_by", {})
        return {
            "answer_503_p99_ms": found["answer_503_p99_ms"],
            "answer_503_p50_ms": found["answer_503_p50_ms"],
            "nginx_503_p99_ms": by.get("nginx", {}).get("p99_ms"),
            "app_503_p99_ms": by.get("app", {}).get("p99_ms"),
            "probe_503s": found["statuses"].get("503", 0),
            "probe_wait_503_p99_ms": found["probe_wait_503_p99_ms"],
            "accepted_per_s": summary["accepted_per_s"],
            "p99_ms": summary["p99_ms"],
            "machine_busy_share": meter.result["machine_busy_share"],
            "nginx_own_503s": nginx["refused_by_nginx"],
            "app_503s": nginx["refused_by_app"],
        }


def compared(rounds: list[dict[str, dict[str, Any]]], old: str, new: str) -> dict[str, Any]:
    """Each measure's mean and median per arm, and in how many rounds ``new`` was lower."""
    measures = [k for k, v in rounds[0][old].items() if isinstance(v, int | float)]
    out: dict[str, Any] = {}
    for measure in measures:
        a = [r[old][measure] for r in rounds if r[old].get(measure) is not None]
        b = [r[new][measure] for r in rounds if r[new].get(measure) is not None]
        pairs = [(r[old][measure], r[new][measure]) for r in rounds]
        out[measure] = {
            old: {"mean": round(statistics.mean(a), 3), "median": round(statistics.median(a), 3)},
            new: {"mean": round(statistics.mean(b), 3), "median": round(statistics.median(b), 3)},
            "new_lower_in": f"{sum(1 for x, y in pairs if y < x)} of {len(pairs)}",
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("old", help="the commit to compare against")
    parser.add_argument("new", nargs="?", default=WORKING_TREE, help="default: the working tree")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--http", action="store_true", help="over HTTP (else in process)")
    parser.add_argument(
        "--overload", action="store_true", help="1,024 connections through nginx: the 503s"
    )
    parser.add_argument("--threads", type=int, default=16, help="in process: threads")
    parser.add_argument("--requests", type=int, default=6000, help="in process: a round's")
    parser.add_argument("--conns", type=int, default=64, help="over HTTP: wrk's connections")
    parser.add_argument("--seconds", type=float, default=20, help="over HTTP: a round's")
    parser.add_argument("--layout", default="2x16", help="over HTTP: WORKERSxTHREADS")
    parser.add_argument(
        "--db-cpus",
        type=float,
        default=None,
        help="over HTTP: the database held to this many cores while a round is measured",
    )
    parser.add_argument(
        "--new-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of the new arm only (repeatable): one commit, two settings",
    )
    args = parser.parse_args(argv)
    new_env = dict(item.split("=", 1) for item in args.new_env)
    old_label = args.old
    new_label = " ".join([args.new, *args.new_env])
    if old_label == new_label:
        parser.error("two different commits, or --new-env, please")
    workers, threads = (int(n) for n in args.layout.lower().split("x"))
    with contextlib.ExitStack() as stack:
        old_tree = stack.enter_context(checked_out(args.old))
        new_tree = old_tree if args.new == args.old else stack.enter_context(checked_out(args.new))
        arms = {old_label: (old_tree, {}), new_label: (new_tree, new_env)}
        rounds_kind = OverloadRounds if args.overload else HttpRounds
        http = (
            rounds_kind(
                conns=args.conns,
                seconds=args.seconds,
                workers=workers,
                threads=threads,
                db_cpus=args.db_cpus,
            )
            if args.http or args.overload
            else None
        )

        def run(tree: Path, env: dict[str, str]) -> dict[str, Any]:
            if http is not None:
                return http(tree, env)
            return inproc_round(tree, threads=args.threads, requests=args.requests, env=env)

        rounds: list[dict[str, dict[str, Any]]] = []
        try:
            for n in range(args.rounds):
                measured = {}
                for arm in order(n, [old_label, new_label]):
                    measured[arm] = run(*arms[arm])
                    print(json.dumps({"round": n, "arm": arm, **measured[arm]}), file=sys.stderr)
                rounds.append(measured)
        finally:
            if http is not None:
                http.close()
    print(
        json.dumps(
            {
                "mode": "overload" if args.overload else "http" if args.http else "inproc",
                "old": old_label,
                "new": new_label,
                "rounds": rounds,
                "compared": compared(rounds, old_label, new_label),
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
