"""What a checkpoint inside the opening costs: the app's SQL on a database with a season of rows,
under the deployment's WAL settings and under PostgreSQL's stock ones (ADR 0042).

After a checkpoint the first change of each page writes the whole page into the WAL (a
full-page image). With earlier campaigns' rows and a season of audit events in the tables,
a registration's index entries land on pages nothing has touched since, so its WAL is mostly
such images until the pages it needs have each been written once; then it falls. PostgreSQL's
stock settings (``max_wal_size = 1GB``, ``checkpoint_timeout = 5min``) force a checkpoint about
every half gigabyte of WAL, and each starts that over. ``deploy/postgres/kattoo.conf`` sets
8GB and 15 minutes. A third variant has autovacuum look every minute (PostgreSQL's default)
instead of the benchmark cluster's 10 s: every registration rewrites its seat pool's row.

This runs the app's statements through pgbench (bench/sqlpath.py) on a copy of the national
seed with bench/keys.py's history, once per variant and round, interleaved, each on a fresh
copy after a ``CHECKPOINT``: the same registrations in each (the seed's children in arrival
order, every pool with room beyond its capacity so that each is a registration), enough
for the stock settings to checkpoint within them:

    python -m bench.checkpoints                  # 16 clients, 240,000 registrations, 2 rounds
    python -m bench.checkpoints --registrations 280000 --rounds 3

Prints and writes ``bench/results/checkpoints.json``: per variant and round the tps, WAL bytes,
full-page images and PostgreSQL CPU per registration, the checkpoints and autovacuum runs the
run took, the seat pools' size after it, and every 10 s window's registrations and full-page
images per registration.
"""

# ruff: noqa: S603 - the bench runs its own fixed commands (this module)
from __future__ import annotations

import argparse
import re
import subprocess
import threading
import time
from typing import Any

from bench.common import write_results
from bench.cost import snapshot
from bench.flash_crowd import VAR, CpuMeter, fresh_db, pgbench_script, prepare_args
from bench.keys import TEMPLATE, interleaved
from bench.pgcluster import SETTINGS, PgCluster

DB = "checkpoints"
WINDOW_S = 10

# What each variant changes from the cluster's own settings (the deployed file's, and the
# benchmark's own few: bench/pgcluster.py), set for its run and set back after it.
VARIANTS: dict[str, dict[str, str]] = {
    "deployed": {},
    "stock": {"max_wal_size": "1GB", "checkpoint_timeout": "5min"},
    # The benchmark's cluster has autovacuum look every 10 s; PostgreSQL's default is a minute.
    # The seat pools' rows are rewritten at every registration.
    "autovacuum every minute": {"autovacuum_naptime": "1min"},
}


def _apply(pg: PgCluster, values: dict[str, str]) -> None:
    if not values:
        return
    for name, value in values.items():
        pg.psql(f"ALTER SYSTEM SET {name} = '{value}'")
    pg.psql("SELECT pg_reload_conf()")
    time.sleep(0.5)  # the checkpointer reads its settings at its next wake-up
    for name, value in values.items():
        shown = pg.psql(f"SHOW {name}")
        if shown != value:
            raise RuntimeError(f"{name} is {shown}, not {value}")


def _checkpoints(pg: PgCluster) -> tuple[int, int]:
    timed, requested = pg.psql(
        "SELECT checkpoints_timed, checkpoints_req FROM pg_stat_bgwriter"
    ).split("|")
    return int(timed), int(requested)


class Windows(threading.Thread):
    """Every ``WINDOW_S`` seconds: registrations committed and full-page images written."""

    def __init__(self, pg: PgCluster) -> None:
        super().__init__(daemon=True)
        self.pg, self.stop, self.samples = pg, threading.Event(), []  # type: ignore[var-annotated]

    def sample(self) -> None:
        snap = snapshot(self.pg, DB)
        self.samples.append((snap["commits"], snap["fpi"], snap["lsn"], _checkpoints(self.pg)))

    def run(self) -> None:
        self.sample()
        while not self.stop.wait(WINDOW_S):
            self.sample()

    def series(self, statements_per_registration: float) -> list[dict[str, Any]]:
        out = []
        for (c0, f0, l0, k0), (c1, f1, l1, k1) in zip(self.samples, self.samples[1:], strict=False):
            regs = max((c1 - c0) / statements_per_registration, 1)
            out.append(
                {
                    "registrations": round(regs),
                    "wal_fpi": round((f1 - f0) / regs, 3),
                    "wal_bytes": round((l1 - l0) / regs),
                    "checkpoints": sum(k1) - sum(k0),
                }
            )
        return out


# Room in every pool beyond its capacity: the accepted path's statement meets no full pool (a
# registration that finds none is the ordinary path's in the app, and aborts pgbench's client).
HEADROOM = (
    "UPDATE enrollment_seatpool SET extra_seats = extra_seats + 100000,"
    " capacity = capacity + 100000"
)


def measure(pg: PgCluster, clients: int, registrations: int, variant: str) -> dict[str, Any]:
    url, _t0 = fresh_db(pg, TEMPLATE, DB, opens_in=-60)
    pg.psql(HEADROOM, dbname=DB)
    prepare_args(pg, DB)
    pg.psql("VACUUM ANALYZE", dbname=DB)
    script = VAR / "checkpoints.sql"
    script.write_text(pgbench_script(url)[0])
    changed = VARIANTS[variant]
    _apply(pg, changed)
    try:
        pg.psql("CHECKPOINT")
        before, checkpoints = snapshot(pg, DB), _checkpoints(pg)
        cmd = pg.pgbench_command(script, clients=clients, seconds=0, dbname=DB, mode="prepared")
        at = cmd.index("-T")
        cmd[at : at + 2] = ["-t", str(registrations // clients)]
        windows = Windows(pg)
        windows.start()
        with CpuMeter([], pg) as meter:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        windows.stop.set()
        windows.join()
        after, checkpoints_after = snapshot(pg, DB), _checkpoints(pg)
    finally:
        _apply(pg, {name: SETTINGS[name] for name in changed})
    tps = re.search(r"tps = ([\d.]+) \(without", proc.stdout)
    done = re.search(r"actually processed: (\d+)", proc.stdout)
    if tps is None or done is None or "aborted" in proc.stderr:
        raise RuntimeError(proc.stderr[-1500:])
    tx = max(int(done.group(1)), 1)
    # pgbench's transactions each commit its statements one by one (autocommit): the windows
    # count commits, so they divide by the commits of one transaction over the whole run.
    per_tx = max((after["commits"] - before["commits"]) / tx, 1.0)
    timed = checkpoints_after[0] - checkpoints[0]
    requested = checkpoints_after[1] - checkpoints[1]
    return {
        "tps": round(float(tps.group(1))),
        "registrations": tx,
        "wal_bytes": round((after["lsn"] - before["lsn"]) / tx),
        "wal_fpi": round((after["fpi"] - before["fpi"]) / tx, 3),
        "postgres_cpu_ms": round(1000 * meter.result["postgres_s"] / tx, 3),
        "checkpoints": {"timed": timed, "requested": requested},
        "autovacuum_runs": after["autovacuum_runs"] - before["autovacuum_runs"],
        "seat_pools_kb": int(
            pg.psql("SELECT pg_total_relation_size('enrollment_seatpool') / 1024", dbname=DB)
        ),
        "windows": windows.series(per_tx),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=240_000)
    args, found = interleaved(
        parser, VARIANTS, DB, lambda pg, a, name: measure(pg, a.clients, a.registrations, name)
    )
    write_results(
        "checkpoints",
        {
            "clients": args.clients,
            "registrations": args.registrations,
            "window_s": WINDOW_S,
            "history": {"applications": args.applications, "events": args.events},
            "settings": VARIANTS,
            **found,
        },
    )


if __name__ == "__main__":
    main()
