"""The instructions PostgreSQL executes a registration of the app's SQL, counted by callgrind.

This machine's speed moves by a third within the hour, and a held pgbench A/B of four rounds
(docs/performance.md) tells only changes of 8 % or more: one of 2 % is lost in it. Valgrind's
callgrind counts the instructions a process executes instead of timing it: the same count for
the same binary, data and statements, whatever else the machine is doing (two runs of this
tool 0.007 % apart, session 33). So the cost of a change to the app's SQL can be read to the
tenth of a percent, and several small ones told apart before a held A/B weighs them together.

What is counted: ``bench/sqlpath.py``'s script of the app's statements batched by eight (the
read, the batch's locks and its statement, or its refusals; ADR 0048, 0063), one pgbench
client on a fresh copy of the national seed, the server under ``valgrind --tool=callgrind``
(without huge pages, which valgrind cannot map; autovacuum off, as the opening holds it off,
ADR 0062). Each count is run twice, for ``--n1`` and ``--n2`` transactions: the difference
between them, divided by the registrations between them, leaves out what starting the server
and the connection costs. The backend's instructions are the statements'; ``all`` adds the
server's other processes (the WAL writer, the checkpointer). Both include the script's first
query, which picks the next children and is not the app's (``--prelude`` counts it alone).

Instructions are not time: cache misses, waits for locks and the disk are not in them. They
say what a change saves of the database's work, not what the opening gains; a held A/B says
that (``python -m bench.ab --db-cpus``).

    python -m bench.instructions                  # the working tree's statements
    python -m bench.instructions --minimal        # the minimal statement's, one a transaction
    python -m bench.instructions --keep var/bench/callgrind
                                                  # and keep callgrind's files, for
                                                  # callgrind_annotate --inclusive=yes

Needs root (the server runs as ``postgres``), valgrind (``scripts/ensure-bench-tools.sh``)
and the benchmark's cluster (``bench.pgcluster``); stops the cluster while it counts and
starts it again after. About two minutes. Prints one JSON document.
"""

# ruff: noqa: S603, S607 - the count runs valgrind, pgbench and pg_ctl
from __future__ import annotations

import argparse
import functools
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import flash_crowd as fc
from bench import minimal
from bench.pgcluster import APP_SESSION, PG_BIN, PgCluster
from bench.seed import ensure_seed

BATCH = 8


def callgrind_total(path: Path) -> int:
    """The instructions a callgrind file counted (its ``totals:`` or ``summary:`` line)."""
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise ValueError(f"{path}: no totals in callgrind's file")


def per_registration(
    short: dict[str, int], long: dict[str, int], *, n1: int, n2: int, batch: int = BATCH
) -> dict[str, float]:
    """The instructions of the ``n2 - n1`` transactions between two counts, a registration:
    of the backend (the busiest process) and of all the server's processes."""
    if n2 <= n1:
        raise ValueError("n2 must be larger than n1")
    registrations = (n2 - n1) * batch
    return {
        "backend": (long["backend"] - short["backend"]) / registrations,
        "all": (long["all"] - short["all"]) / registrations,
    }


def valgrind_command(pg: PgCluster, out_dir: Path) -> list[str]:
    """The cluster's server under callgrind, one file a process (``%p``), as ``postgres``."""
    return [
        "runuser", "-u", "postgres", "--",
        "valgrind", "--tool=callgrind", f"--callgrind-out-file={out_dir}/callgrind.out.%p",
        str(PG_BIN / "postgres"), "-D", str(pg.datadir), "-p", str(pg.port), "-k", str(pg.datadir),
        "-c", "huge_pages=off", "-c", "autovacuum=off",
    ]  # fmt: skip


def _ready(pg: PgCluster, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = [str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(pg.port)]
        if subprocess.run(ready, check=False).returncode == 0:
            return
        time.sleep(0.5)
    raise RuntimeError("PostgreSQL under valgrind did not start")


def app_sql(pg: PgCluster, seed: str) -> None:
    """The database the app's SQL runs on: a fresh copy of the seed with the script's tables."""
    url, _t0 = fc.fresh_db(pg, seed, "pgb", opens_in=-60)
    fc.prepare_args(pg, "pgb")
    fc.pgbench_script(url, batch=BATCH)  # makes the batches' arrays on this copy
    pg.psql(f"ALTER SEQUENCE bench_target_seq INCREMENT BY {BATCH}", dbname="pgb")


def minimal_sql(pg: PgCluster, seed: str) -> None:
    """The database the minimal statement runs on: the lean tables with the seed's pools, as
    ``bench.minimal`` makes them for its accepted runs."""
    pools = minimal.seed_pools(pg, seed)
    minimal.create(pg, [(s, lang, n + minimal.HEADROOM) for s, lang, n in pools])
    minimal.reset(pg, full=False)


def count(
    pg: PgCluster,
    prepare: Callable[[], None],
    script: str,
    transactions: int,
    out_dir: Path,
    *,
    dbname: str = "pgb",
) -> dict[str, Any]:
    """One count: the database made afresh (``prepare``), the server under callgrind,
    pgbench's one client for ``transactions`` (its random draws seeded: every count draws the
    same), the server stopped (callgrind writes its files at exit)."""
    pg.start()
    prepare()
    pg.psql("CHECKPOINT")
    pg.stop()
    for old in out_dir.glob("callgrind.out.*"):
        old.unlink()
    out_dir.chmod(0o777)
    log = out_dir / "server.log"
    with log.open("ab") as sink:
        server = subprocess.Popen(
            valgrind_command(pg, out_dir), stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        _ready(pg)
        script_file = out_dir / "script.sql"
        script_file.write_text(script)
        run = subprocess.run(
            ["env", f"PGOPTIONS={APP_SESSION}", str(PG_BIN / "pgbench"), "-n", "-M", "prepared",
             "-c", "1", "-j", "1", "-t", str(transactions), "--random-seed=1",
             "-f", str(script_file), "-h", "127.0.0.1", "-p", str(pg.port), "-U", pg.user,
             dbname],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    finally:
        stop = [str(PG_BIN / "pg_ctl"), "-D", str(pg.datadir), "-m", "fast", "-w", "stop"]
        subprocess.run(["runuser", "-u", "postgres", "--", *stop], capture_output=True, check=False)
        server.wait(timeout=300)
    done = re.search(r"number of transactions actually processed: (\d+)", run.stdout)
    if done is None or int(done.group(1)) != transactions:
        raise RuntimeError(f"pgbench under callgrind failed: {run.stderr[-800:]}")
    totals = sorted((callgrind_total(f) for f in out_dir.glob("callgrind.out.*")), reverse=True)
    return {"backend": totals[0], "all": sum(totals), "processes": len(totals)}


def prelude_only(script: str) -> str:
    """The script's first query alone (the benchmark's, not the app's)."""
    first, _sep, _rest = script.partition("\\gset")
    return first + "\\gset\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n1", type=int, default=20, help="transactions of the short count")
    parser.add_argument("--n2", type=int, default=120, help="transactions of the long count")
    parser.add_argument("--prelude", action="store_true", help="count the first query alone")
    parser.add_argument(
        "--minimal", action="store_true", help="count the minimal statement (bench/minimal.py)"
    )
    parser.add_argument("--keep", type=Path, help="keep callgrind's files of the long count")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (scripts/ensure-bench-tools.sh)")
    pg = PgCluster(fc.VAR / "pg", port=55432, huge_pages=True)
    pg.start()
    seed = ensure_seed(pg, "national", log=fc.log)
    if args.minimal:
        # One registration a transaction: the minimal statement is not batched.
        batch, dbname, what = 1, minimal.DBNAME, "bench/minimal.py's statement"
        prepare = functools.partial(minimal_sql, pg, seed)
        script = minimal.pgbench_script(len(minimal.seed_pools(pg, seed)))
    else:
        batch, dbname, what = BATCH, "pgb", f"bench/sqlpath.py, batches of {BATCH}"
        prepare = functools.partial(app_sql, pg, seed)
        url, _t0 = fc.fresh_db(pg, seed, "pgb", opens_in=-60)
        fc.prepare_args(pg, "pgb")
        script, _source, _mode = fc.pgbench_script(url, batch=BATCH)
        if args.prelude:
            script = prelude_only(script)
            what += ", its first query alone"
    with tempfile.TemporaryDirectory(prefix="kattoo-callgrind-") as tmp:
        out_dir = Path(tmp)
        try:
            short = count(pg, prepare, script, args.n1, out_dir, dbname=dbname)
            long = count(pg, prepare, script, args.n2, out_dir, dbname=dbname)
            if args.keep is not None:
                args.keep.mkdir(parents=True, exist_ok=True)
                for f in out_dir.glob("callgrind.out.*"):
                    shutil.copy(f, args.keep / f.name)
        finally:
            pg.start()
    per = per_registration(short, long, n1=args.n1, n2=args.n2, batch=batch)
    result = {
        "script": what,
        "n1": args.n1,
        "n2": args.n2,
        "counts": {"short": short, "long": long},
        "instructions_a_registration": {k: round(v) for k, v in per.items()},
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
