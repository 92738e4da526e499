"""What any Python app reaches on this machine: the minimal registration behind a lean WSGI
handler (issue 15).

``make bench`` sets the app's accepted registrations per second against the minimal statement
through pgbench (``ratio_to_minimal``, target ≥ 0.30). pgbench is a C client; the app is a
Python process on the same two cores. How much of the gap is the app, and how much is any
Python HTTP server sending that one statement? Issue 15 measured such a handler once (0.85 ms
of Python per registration on its machine); this measures it on the machine of the run, with
the benchmark's own pieces:

- **the handler** (``application`` below): granian serves it as it serves the app (WSGI, the
  same flags, two workers, a psycopg pool of eight connections per worker); for
  ``POST /api/v1/drafts/<child>/submit`` it sends ``bench/minimal.py``'s statement, prepared
  on the server, on the pool picked from the child's number (uniformly, as pgbench picks one),
  and answers ``201`` with the application's id and position as JSON — or ``409`` when the
  pool has no seat. It reads no token, no draft and no rule, writes no audit row and no SMS:
  it is the least an HTTP registration can do, not a registration the app could give;
- **the load** is the app's: ``wrk`` with ``bench/wrk/register.lua`` (a bearer token, a fresh
  Idempotency-Key and a request id per request, the 201's id matched back);
- **the database** is ``bench/minimal.py``'s lean schema in the benchmark's cluster, its pools
  the seed's with room beyond their capacity, as for the minimal statement's accepted run;
- **in the same run**, pgbench of the same statement at the same client counts.

It prints, and writes to ``bench/results/lean.json``, per connection count: accepted/s, the
latency, the CPU per registration of the handler's processes and of PostgreSQL, and
``lean_to_minimal``: the handler's accepted/s ÷ pgbench's tps. That quotient is the ceiling
of ``ratio_to_minimal`` for a Python app on this machine, reached by doing nothing but the
statement; with ``--app`` the app itself runs too (on a copy of the national seed, stage 1
open), and ``app_to_lean`` says how far the app is from that ceiling.

    python -m bench.lean [--seconds 15] [--conns 64,256] [--app]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results" / "lean.json"
PORT = 18_300
WORKERS = 2
POOL = 8  # per worker: the app's benchmark layout (bench/flash_crowd.py, 2 × 8)

_PATH = re.compile(r"/api/v1/drafts/([0-9]{1,19})/submit")
_JSON = [("Content-Type", "application/json")]

# -- the handler (imported by granian's workers) ------------------------------------------------

_pool: Any = None


def _connections() -> Any:
    global _pool
    if _pool is None:
        from psycopg_pool import ConnectionPool

        size = int(os.environ.get("KATTOO_LEAN_POOL", POOL))
        _pool = ConnectionPool(
            os.environ["KATTOO_LEAN_DSN"],
            min_size=size,
            max_size=size,
            kwargs={"autocommit": True, "prepare_threshold": 0},
            open=True,
        )
    return _pool


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The minimal registration over HTTP (see the module's docstring)."""
    from bench.minimal import STATEMENT

    rid = environ.get("HTTP_X_REQUEST_ID", "")
    match = _PATH.fullmatch(environ.get("PATH_INFO", ""))
    if environ.get("REQUEST_METHOD") != "POST" or match is None:
        start_response("200 OK", [*_JSON, ("X-Request-Id", rid)])
        return [b"{}"]
    child = int(match[1])
    pool = child % int(os.environ["KATTOO_LEAN_POOLS"]) + 1
    with _connections().connection() as conn:
        row = conn.execute(STATEMENT, {"pool": pool, "child": child}, prepare=True).fetchone()
    if row is None:
        start_response("409 Conflict", [*_JSON, ("X-Request-Id", rid)])
        return [b'{"code":"no_free_seats"}']
    body = json.dumps({"id": str(row[0]), "position": row[1], "status": "registered"}).encode()
    start_response("201 Created", [*_JSON, ("X-Request-Id", rid)])
    return [body]


# -- the run ------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _server(dsn: str, pools: int) -> Any:
    """granian serving ``application`` on the lean database, as the benchmark serves the app
    (bench/flash_crowd.py's ``App``: the same flags, workers and blocking threads)."""
    from bench.flash_crowd import App

    env = {
        **os.environ,
        "KATTOO_LEAN_DSN": dsn,
        "KATTOO_LEAN_POOLS": str(pools),
        "KATTOO_LEAN_POOL": str(POOL),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return App(
        dsn, port=PORT, workers=WORKERS, threads=POOL, name="lean",
        target="bench.lean:application", env=env,
    )  # fmt: skip


def _children(n: int) -> list[tuple[str, str, int, str]]:
    """wrk's targets for the handler: a token (unread) and a child number drawn uniformly."""
    from bench.minimal import CHILD_IDS

    draw = random.Random(15)
    return [("lean", str(draw.randint(1, CHILD_IDS)), 0, "") for _ in range(n)]


def _measured(
    url: str,
    roots: list[int],
    pg: Any,
    *,
    conns: int,
    seconds: int,
    rows: Any,
    dbname: str | None = None,
) -> dict[str, Any]:
    """One wrk run: its summary with the CPU per registration of the server and of
    PostgreSQL; with ``dbname``, its row of the cost table (bench/cost.py) too."""
    from bench import cost
    from bench.flash_crowd import CpuMeter, run_wrk, summarize

    window = cost.Window(pg, dbname) if dbname else None
    with CpuMeter(roots, pg) as meter:
        result = run_wrk(url, conns=conns, seconds=seconds, rows=rows, workdir=VAR / "lean")
        if window is not None:
            window.mark_end()
    out = summarize(result, seconds)
    done = max(out["accepted"] + out["refused"], 1)
    out["conns"] = conns
    out["cpu"] = meter.result
    out["python_cpu_ms"] = round(meter.result["app_s"] * 1000 / done, 3)
    out["postgres_cpu_ms"] = round(meter.result["postgres_s"] * 1000 / done, 3)
    if window is not None:
        out["cost"] = cost.http_row("lean_http", out, meter.result, window)
    return out


def run_lean(
    pg: Any, pools: list[tuple[int, str, int]], conns: list[int], seconds: int, *, log: Any = log
) -> dict[str, Any]:
    """The handler over HTTP at each connection count, on the lean database with ``pools``
    (school, language, seats) and room beyond their seats; per count: wrk's summary, the CPU
    per registration of the handler's processes (``python_cpu_ms``) and of PostgreSQL."""
    from bench import minimal

    out: dict[str, Any] = {"layout": f"{WORKERS} x {POOL}", "pools": len(pools)}
    for c in conns:
        minimal.create(pg, [(s, lang, n + minimal.HEADROOM) for s, lang, n in pools])
        lean = _server(pg.url(minimal.DBNAME), len(pools))
        lean.start()
        try:
            # Every worker's connections opened and its statement prepared, then the seats
            # back to none and a checkpoint, as before each pgbench run of the statement.
            _measured(lean.url, [lean.pid()], pg, conns=c, seconds=2, rows=_children(2_000))
            minimal.reset(pg, full=False)
            run = _measured(
                lean.url, [lean.pid()], pg, conns=c, seconds=seconds,
                rows=_children(5_000 * seconds), dbname=minimal.DBNAME,
            )  # fmt: skip
        finally:
            lean.stop()
        out[str(c)] = run
        log(
            f"lean handler -c {c}: {run['accepted_per_s']:.0f} accepted/s, Python "
            f"{run['python_cpu_ms']} ms and PostgreSQL {run['postgres_cpu_ms']} ms a registration"
        )
    pg.psql(f'DROP DATABASE IF EXISTS "{minimal.DBNAME}" WITH (FORCE)')
    return out


def main() -> None:
    from bench import minimal
    from bench.flash_crowd import App, Targets, flush_redis, fresh_db, wait_until
    from bench.pgcluster import PgCluster
    from bench.seed import ensure_seed

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--conns", default="64,256")
    parser.add_argument("--app", action="store_true", help="the app too, on the national seed")
    args = parser.parse_args()
    conns = [int(c) for c in args.conns.split(",")]
    VAR.mkdir(parents=True, exist_ok=True)
    pg = PgCluster(huge_pages=True).start()
    found: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "layout": f"{WORKERS} x {POOL}",
        "seconds": args.seconds,
        "cores": os.cpu_count(),
    }
    try:
        seed = ensure_seed(pg, "national", log=log)
        found["pgbench_minimal"] = {
            str(c): v["tps"]
            for c, v in minimal.run_minimal(pg, seed, conns, args.seconds, log=log).items()
            if c.isdigit()
        }
        lean = run_lean(pg, minimal.seed_pools(pg, seed), conns, args.seconds)
        for c in conns:
            run = lean[str(c)]
            run["lean_to_minimal"] = round(
                run["accepted_per_s"] / found["pgbench_minimal"][str(c)], 3
            )
            found[f"lean_{c}"] = run
        if args.app:
            for c in conns:
                flush_redis()
                url, opens = fresh_db(pg, seed, "lean_app", opens_in=5)
                targets = Targets(url)
                app = App(url, port=PORT + 10, workers=WORKERS, threads=POOL, name="lean-app")
                app.start()
                try:
                    wait_until(opens)
                    _measured(app.url, [app.pid()], pg, conns=c, seconds=2,
                              rows=targets.take(2_000))  # fmt: skip
                    run = _measured(
                        app.url, [app.pid()], pg, conns=c, seconds=args.seconds,
                        rows=targets.take(targets.left),
                    )  # fmt: skip
                finally:
                    app.stop()
                run["app_to_lean"] = round(
                    run["accepted_per_s"] / found[f"lean_{c}"]["accepted_per_s"], 3
                )
                run["ratio_to_minimal"] = round(
                    run["accepted_per_s"] / found["pgbench_minimal"][str(c)], 3
                )
                found[f"app_{c}"] = run
                log(
                    f"the app -c {c}: {run['accepted_per_s']:.0f} accepted/s, Python "
                    f"{run['python_cpu_ms']} ms and PostgreSQL {run['postgres_cpu_ms']} ms a "
                    f"registration; ÷ the lean handler {run['app_to_lean']}"
                )
            pg.psql('DROP DATABASE IF EXISTS "lean_app" WITH (FORCE)')
    finally:
        pg.stop()
    RESULTS.write_text(json.dumps(found, indent=1, default=str) + "\n")
    print(table(found, conns))


def table(found: dict[str, Any], conns: list[int]) -> str:
    lines = [
        "| connections | pgbench minimal, tps | lean handler, accepted/s | ÷ minimal | "
        "Python / PostgreSQL CPU ms a registration | the app, accepted/s | ÷ minimal | "
        "÷ lean | Python / PostgreSQL CPU ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in conns:
        lean, app = found.get(f"lean_{c}", {}), found.get(f"app_{c}")
        lines.append(
            f"| {c} | {found['pgbench_minimal'][str(c)]:,.0f} | "
            f"{lean.get('accepted_per_s', 0):,.0f} | {lean.get('lean_to_minimal')} | "
            f"{lean.get('python_cpu_ms')} / {lean.get('postgres_cpu_ms')} | "
            + (
                f"{app['accepted_per_s']:,.0f} | {app['ratio_to_minimal']} | "
                f"{app['app_to_lean']} | {app['python_cpu_ms']} / {app['postgres_cpu_ms']} |"
                if app
                else "— | — | — | — |"
            )
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
