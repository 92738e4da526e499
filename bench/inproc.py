"""The Python side of a registration, measured without HTTP: the WSGI app in-process.

Over HTTP the app's CPU is mixed with granian's, wrk's and PostgreSQL's on the same two cores;
here one thread calls ``config/wsgi.py``'s application (production settings, the slim submit in
front of Django) with the opening minute's requests and counts only its own thread CPU. The
database is a copy of the benchmark's seed in its cluster (bench/pgcluster.py), stage 1 open.

    python -m bench.inproc                  # 1,500 registrations, thread CPU per registration
    python -m bench.inproc --profile 30     # … and cProfile.s 30 most expensive functions (thread CPU)
    python -m bench.inproc --threads 16 --profile 30   # … each thread profiled, added up
    python -m bench.inproc --replan         # what a VACUUM or an ANALYZE costs the hot statements
    python -m bench.inproc --full           # every pool full: the refusals' Python

``--replan`` (issue 15, "no re-planning storms when autovacuum runs"): after the requests,
for each table the opening minute touches, ``ANALYZE`` it — then ``VACUUM`` it — from another
connection, send five more requests, and read from ``pg_stat_statements`` (plan tracking on
for this database only) which statements were planned again and what the planning cost. An
``ANALYZE`` or ``VACUUM`` rewrites the table's statistics in ``pg_class``, which invalidates
every cached plan that reads the table, on every connection: autovacuum does this several times
a minute as the tables fill. It also lists the statements this connection prepared, and how
many times each text was prepared (psycopg keeps one per combination of parameter types).

Prints one JSON line: ``thread_cpu_ms`` per request (accepted and refused apart), the
statuses, and with ``--profile`` the functions by own time (tottime) and by cumulative time.
Numbers are comparable between two commits on the same machine, run one after the other.
"""

# ruff: noqa: S603 - the bench runs its own fixed commands (this module)
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _child(args: argparse.Namespace) -> None:
    """In the child process: Django set up in production settings, the requests run."""
    import cProfile
    import io
    import pstats
    import time
    import uuid

    import django
    import psycopg

    django.setup()
    from config.wsgi import application

    sections = _timed(args.sections.split(",")) if args.sections else {}

    dsn = os.environ["DATABASE_URL"]
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT token, child_id FROM bench_target ORDER BY n LIMIT %s",
            (args.warmup + args.requests,),
        ).fetchall()

    def call(token: str, child: int) -> tuple[int, float]:
        body = b""
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": f"/api/v1/drafts/{child}/submit",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4()),
            "HTTP_ACCEPT_LANGUAGE": "ky",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": "0",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        seen: list[str] = []
        started = time.thread_time()
        answer = application(environ, lambda status, headers, *_: seen.append(status))
        for _chunk in answer:
            pass
        if hasattr(answer, "close"):
            answer.close()
        return int(seen[0].split()[0]), time.thread_time() - started

    if args.replan:
        print("JSON " + json.dumps(_replan(dsn, rows, call)))
        return
    if args.threads > 1:
        print("JSON " + json.dumps(_threaded(args, rows, call, sections)))
        return
    for token, child in rows[: args.warmup]:
        call(token, child)
    for spent in sections.values():
        spent[0] = 0.0
    profiler = cProfile.Profile(time.thread_time) if args.profile else None
    statuses: dict[int, list[float]] = {}
    if profiler:
        profiler.enable()
    for token, child in rows[args.warmup :]:
        status, cpu = call(token, child)
        statuses.setdefault(status, []).append(cpu)
    if profiler:
        profiler.disable()

    def ms(values: list[float]) -> float:
        return round(1000 * sum(values) / len(values), 3) if values else 0.0

    out: dict[str, Any] = {
        "requests": args.requests,
        "statuses": {str(k): len(v) for k, v in sorted(statuses.items())},
        "thread_cpu_ms": {str(k): ms(v) for k, v in sorted(statuses.items())},
        "profiled": bool(profiler),
        "sections_ms": {
            name: round(1000 * spent[0] / args.requests, 3) for name, spent in sections.items()
        },
    }
    if profiler and args.dump:
        profiler.dump_stats(args.dump)
    if profiler:
        for key in ("tottime", "cumulative"):
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats(key).print_stats(args.profile)
            out[f"top_{key}"] = [
                line.strip() for line in text.getvalue().splitlines() if line.strip()[:1].isdigit()
            ]
    print("JSON " + json.dumps(out))


# The tables the opening minute's statements read or write (bench/sqlpath.py's, and the read's).
REPLAN_TABLES = (
    "enrollment_application",
    "enrollment_seatpool",
    "enrollment_draft",
    "enrollment_idempotencyrecord",
    "enrollment_applicationtransition",
    "audit_auditevent",
    "notifications_notification",
    "accounts_apitoken",
    "accounts_user",
    "people_person",
    "people_childlink",
    "campaigns_campaign",
    "catalog_school",
)


def _replan(dsn: str, rows: list[Any], call: Any) -> dict[str, Any]:
    """In the child: the requests, then each table's ANALYZE and VACUUM and what they re-plan."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as side:
        return _replan_on(side, rows, call)


def _replan_on(side: Any, rows: list[Any], call: Any) -> dict[str, Any]:
    """``_replan`` with its own connection for the ANALYZE, VACUUM and statistics."""
    requests = iter(rows)

    def more(n: int) -> None:
        for _ in range(n):
            call(*next(requests))

    def planned() -> dict[tuple[str, str], tuple[int, float]]:
        found = side.execute(
            "SELECT queryid::text, left(regexp_replace(query, '\\s+', ' ', 'g'), 40),"
            " plans, total_plan_time FROM pg_stat_statements WHERE dbid ="
            " (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND query NOT LIKE '%pg_stat_statements%'"
        ).fetchall()
        return {(q, text): (plans, time) for q, text, plans, time in found}

    more(300)  # every statement prepared, the pools warm
    out: dict[str, Any] = {"events": {}}
    for op in ("ANALYZE", "VACUUM"):
        for table in REPLAN_TABLES:
            more(5)
            before = planned()
            side.execute(f"{op} {table}")
            more(5)
            after = planned()
            replans: dict[str, list[float]] = {}
            for (queryid, text), (plans, spent) in after.items():
                was = before.get((queryid, text), (0, 0.0))
                if plans > was[0]:
                    replans[text] = [plans - was[0], round(spent - was[1], 3)]
            out["events"][f"{op} {table}"] = replans
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT left(regexp_replace(statement, '\\s+', ' ', 'g'), 40), count(*)"
            " FROM pg_prepared_statements GROUP BY 1 ORDER BY 2 DESC"
        )
        out["prepared"] = dict(cursor.fetchall())
    counted: list[list[float]] = [v for e in out["events"].values() for v in e.values()]
    out["replans_per_event"] = round(sum(v[0] for v in counted) / len(out["events"]), 2)
    out["plan_ms_per_replan"] = round(
        sum(v[1] for v in counted) / max(1, sum(v[0] for v in counted)), 3
    )
    return out


def _threaded(
    args: argparse.Namespace,
    rows: list[Any],
    call: Any,
    sections: dict[str, list[float]] | None = None,
) -> dict[str, Any]:
    """The same requests from ``args.threads`` threads at once, as a granian worker's blocking
    threads call the app (its pool as large, its statements combined, ADR 0048): the
    process's CPU a request (every thread's, the pool's own included) and its context
    switches, beside the mean batch. Against ``--threads 1``'s thread CPU it tells what the
    threads cost — the GIL's hand-offs, the wake-ups — net of what batching saves."""
    import cProfile
    import io
    import pstats
    import resource
    import threading
    import time

    from kattoo.core.metrics import COMBINED_REQUESTS, COMBINED_STATEMENTS

    profilers: list[cProfile.Profile] = []

    def run(part: list[Any], statuses: dict[int, int], *, profiled: bool = False) -> None:
        lock = threading.Lock()

        def worker(chunk: list[Any]) -> None:
            # --profile: each thread its own profiler on its own CPU clock, added up below
            # (the batches a thread sends for others count in that thread, as they run there).
            profiler = cProfile.Profile(time.thread_time) if profiled else None
            if profiler is not None:
                profiler.enable()
            for token, child in chunk:
                status, _cpu = call(token, child)
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
            if profiler is not None:
                profiler.disable()
                with lock:
                    profilers.append(profiler)

        n = args.threads
        threads = [threading.Thread(target=worker, args=(part[i::n],)) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def combined() -> dict[str, tuple[float, float]]:
        return {
            kind: (
                COMBINED_STATEMENTS.labels(statement=kind)._value.get(),
                COMBINED_REQUESTS.labels(statement=kind)._value.get(),
            )
            for kind in ("read", "submit")
        }

    run(rows[: args.warmup], {})
    for spent in (sections or {}).values():
        spent[0] = 0.0
    before, usage = combined(), resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter()
    statuses: dict[int, int] = {}
    run(rows[args.warmup :], statuses, profiled=bool(args.profile))
    wall = time.perf_counter() - wall
    after, end = combined(), resource.getrusage(resource.RUSAGE_SELF)
    n = args.requests
    out: dict[str, Any] = {
        "requests": n,
        "threads": args.threads,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "process_cpu_ms": round(
            1000 * (end.ru_utime - usage.ru_utime + end.ru_stime - usage.ru_stime) / n, 3
        ),
        "system_cpu_ms": round(1000 * (end.ru_stime - usage.ru_stime) / n, 3),
        "context_switches": round(
            (end.ru_nvcsw - usage.ru_nvcsw + end.ru_nivcsw - usage.ru_nivcsw) / n, 1
        ),
        "per_s": round(n / wall, 1),
        "mean_batch": {
            kind: round((after[kind][1] - before[kind][1]) / (after[kind][0] - before[kind][0]), 2)
            if after[kind][0] > before[kind][0]
            else None
            for kind in after
        },
        "profiled": bool(profilers),
        # Each section's thread CPU a request, every thread's added up: a batch counts in the
        # thread that ran it, a wait for one not at all (it takes no CPU).
        "sections_ms": {
            name: round(1000 * spent[0] / n, 3) for name, spent in (sections or {}).items()
        },
    }
    if profilers:  # the threads' profiles together; its CPU inflated by the profiler itself
        stats = pstats.Stats(profilers[0])
        for other in profilers[1:]:
            stats.add(other)
        for key in ("tottime", "cumulative"):
            text = io.StringIO()
            stats.stream = text  # type: ignore[attr-defined]
            stats.sort_stats(key).print_stats(args.profile)
            out[f"top_{key}"] = [
                line.strip() for line in text.getvalue().splitlines() if line.strip()[:1].isdigit()
            ]
    return out


def _timed(names: list[str]) -> dict[str, list[float]]:
    """Wrap each ``module:function`` (or ``module:Class.method``) to add up its thread CPU
    (from any thread: the sum is taken under a lock)."""
    import functools
    import importlib
    import threading
    import time

    adding = threading.Lock()

    spent: dict[str, list[float]] = {}
    for name in names:
        module_name, _, attr = name.partition(":")
        owner: Any = importlib.import_module(module_name)
        *path, last = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, last)
        box = spent.setdefault(name, [0.0])

        def wrapper(*a: Any, _f: Any = original, _box: list[float] = box, **k: Any) -> Any:
            started = time.thread_time()
            try:
                return _f(*a, **k)
            finally:
                took = time.thread_time() - started
                with adding:
                    _box[0] += took

        setattr(owner, last, functools.wraps(original)(wrapper))
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--dump", default="", help="write the profile's pstats to this file")
    parser.add_argument(
        "--sections",
        default="",
        help="module:function,… whose thread CPU to add up (nested ones"
        " count in their callers too)",
    )
    parser.add_argument(
        "--replan", action="store_true", help="what each VACUUM and ANALYZE re-plans"
    )
    parser.add_argument("--scale", default="national")
    parser.add_argument(
        "--full", action="store_true", help="every pool full first: the refusals' Python"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="call the app from this many threads at once (a pool as large): process CPU",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    from bench.flash_crowd import VAR, app_env, flush_redis, fresh_db
    from bench.pgcluster import PgCluster
    from bench.seed import ensure_seed

    pg = PgCluster(VAR / "pg", port=55432, huge_pages=True)
    was_running = pg.is_running()
    pg.start()
    try:
        seed = ensure_seed(pg, args.scale, log=lambda msg: print(msg, file=sys.stderr))
        db_url, _t0 = fresh_db(pg, seed, "inproc", opens_in=0)
        if args.full:  # as bench/flash_crowd.py's refused run makes them
            pg.psql(
                "UPDATE enrollment_seatpool SET taken = capacity - held"
                " WHERE taken + held < capacity",
                dbname="inproc",
            )
        flush_redis()
        env = app_env(db_url, threads=args.threads)
        command = [sys.executable, "-m", "bench.inproc", "--child"]
        command += ["--requests", str(args.requests), "--warmup", str(args.warmup)]
        command += ["--profile", str(args.profile), "--dump", args.dump]
        command += ["--sections", args.sections, "--threads", str(args.threads)]
        if args.replan:
            command.append("--replan")
            pg.psql(
                "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;"
                " ALTER DATABASE inproc SET pg_stat_statements.track_planning = on",
                dbname="inproc",
            )
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        lines = [x for x in done.stdout.splitlines() if x.startswith("JSON ")]
        if done.returncode or not lines:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(done.returncode or 1)
        result = json.loads(lines[-1][5:])
        print(json.dumps(result, indent=1, ensure_ascii=False))
    finally:
        if not was_running:
            pg.stop()


if __name__ == "__main__":
    main()
