"""What one registration costs the database, per path (issue 15): the cost table.

Every measured run (the app over HTTP, the app's SQL through pgbench, the minimal statement of
bench/minimal.py, drawn uniformly and in the app's arrival order) is bracketed by two snapshots of the benchmark's own cluster, taken from the
``postgres`` database so the snapshots do not count themselves:

- **WAL bytes** and **full-page images**: read from the WAL itself between
  ``pg_current_wal_lsn()`` before and after (``pg_walinspect``): the records that touch the
  run's database or the shared catalogs, and those that touch no block (commits and the like).
  The cluster also holds the earlier runs' databases, and autovacuum cleans them up while a
  later run goes on: in session 16's national run that made the refused run's row 2,964 B and
  2.06 images a refusal, against 1,125 B and 0.063 for the same run alone. Autovacuum and
  checkpoints of the run's own database stay in. The benchmark's cluster keeps 2 GB of WAL
  (``wal_keep_size``) so the run's is still there; where it is not (or the extension is
  missing), the cluster's counts instead — the LSN difference and ``pg_stat_wal.wal_fpi``'s,
  which backends report late (``settle()``) — and ``wal_source`` says which;
- **commits**: ``pg_stat_database.xact_commit`` of the run's database — every committed
  transaction, read-only ones included (an autocommit SELECT is one);
- **write transactions**: transaction ids handed out (``pg_current_snapshot()``'s xmax),
  cluster-wide: the durable commits (a savepoint that writes takes one more);
- **round trips**: statements the client sent per registration. For pgbench they are counted
  in its script (bench/sqlpath.py's first query, which picks the next child, is not an app
  statement and is left out). For the app over HTTP they come from ``pg_stat_statements``
  (``sum(calls)`` of the run's database, BEGIN/COMMIT/SAVEPOINT included) when the cluster
  loads it (bench/pgcluster.py does); without it the table shows the transactions per
  registration (``xact_commit + xact_rollback``), a lower bound, and says so;
- **FK checks**: the foreign-key checks PostgreSQL runs itself (``SELECT 1 FROM ONLY … FOR KEY
  SHARE OF x``; deferred ones fire at commit, where pg_stat_statements sees them as top-level
  statements): counted apart, never as round trips.

PostgreSQL's CPU and the app's (Python) CPU come from the runs' ``CpuMeter`` (process trees).
Everything is divided by the registrations the run processed (accepted + refused).

Statistics in ``pg_stat_wal``/``pg_stat_database`` reach shared memory when a backend exits
or, for a backend that stays connected (the app's pool), at most ``PGSTAT_IDLE_INTERVAL``
(10 s) after it goes idle: ``settle()`` waits for that before the closing snapshot.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections import Counter
from typing import Any

# PostgreSQL's PGSTAT_IDLE_INTERVAL (10 s, src/backend/utils/activity/pgstat.c) and a margin.
IDLE_FLUSH_S = 10.5

# The text of PostgreSQL's own referential-integrity checks (ri_triggers.c), normalized.
FK_CHECK = "query LIKE 'SELECT % FROM ONLY % FOR KEY SHARE OF x'"

PATHS = {
    "app_http": "the app over HTTP",
    "app_sql": "the app's SQL (pgbench)",
    "app_sql_batched": "the app's SQL as concurrent requests send it together (pgbench, ADR 0048)",
    "minimal": "the minimal statement (pgbench)",
    "minimal_arrival": "the minimal statement in the app's arrival order (pgbench)",
    "minimal_kept": "the minimal statement with the rows the app keeps (pgbench)",
    "lean_http": "the minimal statement behind a lean WSGI handler over HTTP (bench/lean.py)",
}


def _lsn(text: str) -> int:
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) + int(lo, 16)


def wal_of(pg: Any, dbname: str, start: int, end: int) -> tuple[int, int] | None:
    """The WAL bytes and full-page images written for one database between two WAL positions,
    read from the WAL itself (``pg_walinspect``): the records whose blocks are that database's
    or shared catalogs', and those with no block (commits, and the like). Autovacuum cleaning
    up another database of the cluster after an earlier run is not this run's. ``None`` where
    the WAL cannot be read (the extension missing, a segment already recycled)."""
    if end <= start:
        return 0, 0
    name = dbname.replace("'", "''")
    try:
        pg.psql("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        out = pg.psql(
            "SELECT coalesce(sum(record_length), 0), "
            "coalesce(sum(regexp_count(block_ref, '\\(FPW\\)')), 0) "
            f"FROM pg_get_wal_records_info('0/0'::pg_lsn + {start}, "
            # The end as far as it is flushed (a later WAL position is refused).
            f"least('0/0'::pg_lsn + {end}, pg_current_wal_flush_lsn())) "
            "WHERE coalesce(block_ref, '') = '' OR block_ref ~ ('rel \\d+/(0|' || "
            f"(SELECT oid FROM pg_database WHERE datname = '{name}') || ')/')"
        )
    except subprocess.CalledProcessError:  # the caller falls back to the cluster's counts
        return None
    wal, fpis = out.split("|")
    return int(wal), int(fpis)


def has_statements(pg: Any) -> bool:
    """Whether the cluster loads pg_stat_statements (the view then exists in ``postgres``)."""
    if "pg_stat_statements" not in pg.psql("SHOW shared_preload_libraries"):
        return False
    pg.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return True


def snapshot(pg: Any, dbname: str) -> dict[str, Any]:
    name = dbname.replace("'", "''")
    row = pg.psql(
        "SELECT pg_current_wal_lsn()::text, (SELECT wal_fpi FROM pg_stat_wal), "
        f"coalesce((SELECT xact_commit FROM pg_stat_database WHERE datname = '{name}'), 0), "
        f"coalesce((SELECT xact_rollback FROM pg_stat_database WHERE datname = '{name}'), 0), "
        "pg_snapshot_xmax(pg_current_snapshot())::text"
    ).split("|")
    snap: dict[str, Any] = {
        "lsn": _lsn(row[0]),
        "fpi": int(row[1]),
        "commits": int(row[2]),
        "rollbacks": int(row[3]),
        "xid": int(row[4]),
        "calls": None,
        "fk_checks": None,
        "dealloc": None,
    }
    # Autovacuum's VACUUM and ANALYZE runs on the database's tables: each rewrites a table's
    # statistics and re-plans, on every connection, the cached statements that read it
    # (``python -m bench.inproc --replan`` measures the cost of one).
    snap["autovacuum_runs"] = int(
        pg.psql(
            "SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0) FROM pg_stat_user_tables",
            dbname=dbname,
        )
        or 0
    )
    if has_statements(pg):
        calls = pg.psql(
            f"SELECT coalesce(sum(calls) FILTER (WHERE NOT {FK_CHECK}), 0), "
            f"coalesce(sum(calls) FILTER (WHERE {FK_CHECK}), 0), "
            "(SELECT dealloc FROM pg_stat_statements_info) FROM pg_stat_statements "
            f"WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '{name}')"
        ).split("|")
        snap["calls"], snap["fk_checks"], snap["dealloc"] = (int(x) for x in calls)
    return snap


def statements(pg: Any, dbname: str) -> dict[str, tuple[int, str]]:
    """pg_stat_statements of the database: queryid → (calls, the query's first words)."""
    name = dbname.replace("'", "''")
    out = pg.psql(
        "SELECT queryid, calls, regexp_replace(left(query, 100), '[\\s|]+', ' ', 'g') "
        "FROM pg_stat_statements "
        f"WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '{name}')"
    )
    found = {}
    for line in out.splitlines():
        queryid, calls, query = line.split("|", 2)
        found[queryid] = (int(calls), query)
    return found


def top_statements(
    before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]], n: int, per: int
) -> list[dict[str, Any]]:
    """The statements sent most during a run, calls per registration."""
    calls = [(c - before.get(q, (0, ""))[0], text) for q, (c, text) in after.items()]
    calls.sort(reverse=True)
    return [
        {"calls_per_registration": round(c / per, 2), "query": text}
        for c, text in calls[:n]
        if c > 0 and per
    ]


def settle(pg: Any, dbname: str, *, pooled: bool) -> None:
    """Wait until the run's statistics are in shared memory: pgbench's backends gone (they
    flush on exit), and for a pooled client (the app) the idle flush interval."""
    name = dbname.replace("'", "''")
    deadline = time.monotonic() + 15
    while not pooled and time.monotonic() < deadline:
        left = pg.psql(
            f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' "
            "AND pid <> pg_backend_pid()"
        )
        if left == "0":
            break
        time.sleep(0.1)
    time.sleep(IDLE_FLUSH_S if pooled else 0.3)


class Window:
    """Snapshots around one run: ``mark_end()`` when the load stops (WAL position and
    statement counts are immediate), ``close()`` after ``settle()`` for the rest."""

    def __init__(self, pg: Any, dbname: str, *, breakdown: bool = False) -> None:
        self.pg, self.dbname = pg, dbname
        self.before = snapshot(pg, dbname)
        self.end: dict[str, Any] | None = None
        # Per statement (pg_stat_statements), for the app: which statements make its trips.
        self.breakdown = breakdown and self.before["calls"] is not None
        self.statements = statements(pg, dbname) if self.breakdown else {}
        self.statements_end: dict[str, tuple[int, str]] = {}

    def mark_end(self) -> None:
        self.end = snapshot(self.pg, self.dbname)
        if self.breakdown:
            self.statements_end = statements(self.pg, self.dbname)

    def top(self, registrations: int, n: int = 12) -> list[dict[str, Any]]:
        return top_statements(self.statements, self.statements_end, n, registrations)

    def close(self, *, pooled: bool) -> dict[str, Any]:
        if self.end is None:
            self.mark_end()
        assert self.end is not None
        settle(self.pg, self.dbname, pooled=pooled)
        after = snapshot(self.pg, self.dbname)
        b, e = self.before, self.end
        calls = fk_checks = None
        if b["calls"] is not None and e["calls"] is not None:
            calls = e["calls"] - b["calls"]
            fk_checks = e["fk_checks"] - b["fk_checks"]
        own = wal_of(self.pg, self.dbname, b["lsn"], e["lsn"])
        return {
            "wal_bytes": own[0] if own else e["lsn"] - b["lsn"],
            "wal_fpi": own[1] if own else after["fpi"] - b["fpi"],
            "wal_source": "the database's records" if own else "the cluster's",
            "commits": after["commits"] - b["commits"],
            "rollbacks": after["rollbacks"] - b["rollbacks"],
            "write_xids": e["xid"] - b["xid"],
            "autovacuum_runs": after["autovacuum_runs"] - b["autovacuum_runs"],
            "statements": calls,
            "fk_checks": fk_checks,
            # pg_stat_statements evicted entries during the run: its count is a lower bound.
            "statements_evicted": (
                e["dealloc"] - b["dealloc"]
                if calls is not None and b["dealloc"] is not None
                else None
            ),
        }


def script_statements(script: str) -> int:
    """SQL commands in a pgbench script: lines ending with ``;`` outside comments, and
    commands ended by ``\\gset``/``\\aset`` instead. Of an ``\\if``, the first branch only
    (the one a registration takes; the app's script refuses in the ``\\else``, when its pool
    filled during the run, with as many statements)."""
    n, skipping = 0, False
    for line in script.splitlines():
        text = re.sub(r"--.*$", "", line).strip()
        if not text:
            continue
        if text.startswith(("\\else", "\\elif")):
            skipping = True
        elif text.startswith("\\endif"):
            skipping = False
        elif skipping:
            continue
        elif text.startswith(("\\gset", "\\aset")) or (
            not text.startswith("\\") and text.endswith(";")
        ):
            n += 1
    return n


def row(
    path: str,
    *,
    clients: int,
    accepted: int,
    refused: int,
    cpu: dict[str, Any],
    window: dict[str, Any],
    round_trips: float | None = None,
    python: bool = False,
) -> dict[str, Any]:
    """One line of the cost table, per processed registration. ``round_trips`` is given for
    pgbench (from its script); for the app it comes from the window."""
    n = accepted + refused

    def per(v: float | None) -> float | None:
        return None if v is None or n == 0 else v / n

    source = "pgbench script"
    if round_trips is None:
        if window.get("statements") is not None:
            round_trips = per(window["statements"])
            source = "pg_stat_statements"
            if window.get("statements_evicted"):
                source += " (entries evicted: a lower bound)"
        else:
            round_trips = per(window["commits"] + window["rollbacks"])
            source = "transactions (no pg_stat_statements): a lower bound"

    def r(v: float | None, digits: int) -> float | None:
        return None if v is None else round(v, digits)

    return {
        "path": path,
        "label": PATHS[path],
        "clients": clients,
        "registrations": n,
        "accepted": accepted,
        "refused": refused,
        "postgres_cpu_ms": r(per(cpu["postgres_s"] * 1000), 3),
        "python_cpu_ms": r(per(cpu["app_s"] * 1000), 3) if python else None,
        "wal_bytes": r(per(window["wal_bytes"]), 0),
        "wal_fpi": r(per(window["wal_fpi"]), 3),
        "wal_source": window.get("wal_source"),
        "commits": r(per(window["commits"]), 2),
        "write_xids": r(per(window["write_xids"]), 2),
        "round_trips": r(round_trips, 2),
        "fk_checks": r(per(window.get("fk_checks")), 2),
        "round_trips_source": source,
        # In the whole run, not per registration.
        "autovacuum_runs": window.get("autovacuum_runs"),
    }


def http_row(
    path: str, summary: dict[str, Any], cpu: dict[str, Any], window: Window
) -> dict[str, Any]:
    """The cost-table line of a run over HTTP (wrk's ``summary``): its processes' Python CPU
    beside PostgreSQL's, the statements counted by pg_stat_statements (the window closed with
    the pool's connections let go)."""
    return row(
        path,
        clients=summary["conns"],
        accepted=summary["accepted"],
        refused=summary["refused"],
        cpu=cpu,
        window=window.close(pooled=True),
        python=True,
    )


def table_text(rows: list[dict[str, Any]], title: str) -> str:
    def f(v: Any, fmt: str) -> str:
        return "—" if v is None else format(v, fmt)

    lines = [
        title,
        "",
        "| Path | Clients | Registrations (accepted / refused) | PostgreSQL CPU ms | Python CPU ms "
        "| WAL bytes | Full-page images | Commits | Write xids | Round trips | FK checks |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for x in rows:
        lines.append(
            f"| {x['label']} | {x['clients']} | {x['registrations']:,} ({x['accepted']:,} / "
            f"{x['refused']:,}) | {f(x['postgres_cpu_ms'], '.2f')} | "
            f"{f(x['python_cpu_ms'], '.2f')} | {f(x['wal_bytes'], ',.0f')} | "
            f"{f(x['wal_fpi'], '.2f')} | {f(x['commits'], '.2f')} | "
            f"{f(x['write_xids'], '.2f')} | {f(x['round_trips'], '.2f')} | "
            f"{f(x.get('fk_checks'), '.2f')} |"
        )
    return "\n".join(lines)


class Activity:
    """What the cluster is doing while a run goes on, sampled from ``pg_stat_activity`` every
    ``every`` seconds: the run's backends by wait event (``CPU`` when active and not waiting,
    the way PostgreSQL's wait-event sampling reads it), and autovacuum workers by database and
    relation. A run slower than the same run elsewhere shows here whether its backends waited
    on locks, on the WAL flush or for the CPU, and what else the cluster worked on."""

    def __init__(self, pg: Any, dbname: str, *, every: float = 0.25) -> None:
        self.pg, self.dbname, self.every = pg, dbname, every
        self.waits: Counter[str] = Counter()
        self.autovacuum: Counter[str] = Counter()
        self.backends: list[int] = []  # the run's client backends, any state, per sample
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Activity:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        conn = None
        while not self._stop.wait(self.every):
            try:  # the durability runs kill the postmaster: sample again once it is back
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.pg.url("postgres"), autocommit=True)
                rows = conn.execute(
                    "SELECT backend_type, datname, state, wait_event_type, wait_event, "
                    "left(query, 80) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                ).fetchall()
            except psycopg.Error:
                if conn is not None:
                    conn.close()
                conn = None
                continue
            self.samples += 1
            self.backends.append(
                sum(1 for kind, db, *_ in rows if kind == "client backend" and db == self.dbname)
            )
            for kind, db, state, wait_type, wait, query in rows:
                if kind == "autovacuum worker":
                    self.autovacuum[f"{db}: {(query or '').removeprefix('autovacuum: ')}"] += 1
                elif kind == "client backend" and db == self.dbname and state == "active":
                    self.waits[f"{wait_type}:{wait}" if wait_type else "CPU"] += 1
        if conn is not None:
            conn.close()

    def result(self, n: int = 8) -> dict[str, Any]:
        """Per sample: the run's active backends by wait, and autovacuum workers by what; the
        run's connections (client backends in any state: the app's pools, ADR 0050)."""
        per = max(self.samples, 1)
        return {
            "samples": self.samples,
            "backends_max": max(self.backends, default=0),
            "backends_mean": round(sum(self.backends) / per, 1),
            "active_backends_by_wait": {k: round(v / per, 2) for k, v in self.waits.most_common(n)},
            "autovacuum_workers": {k: round(v / per, 2) for k, v in self.autovacuum.most_common(n)},
        }
