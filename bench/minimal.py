"""The minimal durable registration (issue 15): the ceiling ``make bench`` compares the app to.

One statement takes a seat from a pool row and inserts the application with its position,
committed with the cluster's normal durability (bench/pgcluster.py: ``fsync``,
``synchronous_commit`` and ``full_page_writes`` on — the same settings the app runs under):

    WITH seat AS (UPDATE pool SET seats_taken = seats_taken + 1
                   WHERE id = :pool AND seats_taken < seats_total
               RETURNING id, seats_taken)
    INSERT INTO application (child_id, pool_id, position)
    SELECT :child, id, seats_taken FROM seat RETURNING id, position

on a lean schema in a database of its own (``minimal``) in the same cluster: ``pool`` (id,
school, language, seats_total, seats_taken, CHECK 0 ≤ taken ≤ total) and ``application`` (id
identity, child_id, pool_id, position, status, created_at) with the partial unique index "one
active application per child" and a unique (pool, position). No foreign keys: the statement's
join is the integrity. A full pool matches no row: nothing is written and the statement
returns nothing (a refusal); a child with an active application makes the INSERT fail and the
whole statement (its seat included) roll back.

The pools are the seed's own: every pool of the active campaign (the same number of pools,
schools and languages as the app's run). For the accepted run each pool gets ``HEADROOM`` seats
beyond its capacity, so no pool fills during the run and every transaction is a registration
(taking a seat costs the same however many are left; the small seed has fewer seats than a
few seconds of pgbench take); for the refused run every pool is full
(``seats_taken = seats_total``), so every transaction is a refusal. pgbench (``-M prepared``,
one statement per transaction) picks the pool uniformly at random and the child at random
among 9·10¹⁸ ids, so duplicates are vanishingly rare. Before each client count the pools are
reset and a CHECKPOINT is taken, so every run starts the same way.

**In the app's arrival order** (``arrival=True``): the same schema and the same statement, its
two parameters read from the next arrival instead of drawn at random (``ARRIVAL_STATEMENT``):

    WITH arrived AS (SELECT child_id, pool_id FROM arrival
                      WHERE n = (SELECT nextval('arrival_seq'))),
         seat AS (… WHERE id = (SELECT pool_id FROM arrived) …)
    INSERT … SELECT (SELECT child_id FROM arrived), …

``arrival`` holds the seed's ``bench_target`` in order of ``n`` — the order in which the app's
pgbench (bench/sqlpath.py) takes its children — with each child's pool, the lean pool of its
draft's school and language; the pools have the seed's capacities and nothing more (at the
opening the seed has no seat taken or held), so hot pools are wanted by many clients at once,
their registrations serialize on the pool's row lock, held until the commit is flushed, and
once a pool is full its arrivals are refused (cheap transactions that write nothing, counted
in the tps as the app's pgbench counts its refusals). That is the first-come-first-served
workload itself, which any implementation pays: what separates this variant from the uniform
one is the workload, not the app; what separates the app from this variant is what the app
adds to a registration under the same workload. The arrival's lookup is one primary-key read
that the uniform variant does not have; the app's pgbench has its equivalent in its prelude. ``nextval`` sits in an uncorrelated subquery so it runs once per statement (a
volatile call in the WHERE itself would run per row scanned and defeat the index). The
sequence's MAXVALUE is the last arrival: once the seed's children are all used, the next
``nextval`` fails and pgbench stops that client — as the app's pgbench stops when its prelude
finds no child — so pgbench's tps stays the rate while there were children, and the run says
``arrivals_exhausted``. Before each client count the sequence restarts at 1, the seats go
back to 0 and a CHECKPOINT is taken.

**With the rows the app keeps** (``kept=True``): issue 15 asks for a lean hot path "keeping
every rule, the audit trail, idempotency, the SMS". So beside the bare statement the benchmark
measures the least a registration that keeps them can cost: the same seat and application,
and in the same statement the first history row, the audit event, the SMS outbox row and the
Idempotency-Key's stored answer (``KEPT_STATEMENT``), each on a lean table with its key and
nothing else (``KEPT_SCHEMA``: no index for any page or report to read them by), drawn
uniformly like the bare statement. The app's statement writes the same rows plus the draft's
deletion, with the indexes its pages and reports read; ``own_sql_to_minimal_kept`` is what
those, and the read before the statement, cost beyond the work the issue keeps.
"""

# ruff: noqa: S603 - pgbench, a fixed PostgreSQL binary
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import psycopg

from bench import cost
from bench.pgcluster import PgCluster

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
DBNAME = "minimal"
ACTIVE = ("registered", "admitted")
CHILD_IDS = 9_000_000_000_000_000_000
# Seats added to every pool for the accepted run: more than any run can take.
HEADROOM = 100_000_000

SCHEMA = f"""
CREATE TABLE pool (
    id integer PRIMARY KEY,
    school bigint NOT NULL,
    language text NOT NULL,
    seats_total integer NOT NULL,
    seats_taken integer NOT NULL DEFAULT 0,
    CONSTRAINT seats_within_total CHECK (seats_taken >= 0 AND seats_taken <= seats_total),
    UNIQUE (school, language)
);
CREATE TABLE application (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    child_id bigint NOT NULL,
    pool_id integer NOT NULL,
    position integer NOT NULL,
    status text NOT NULL DEFAULT 'registered',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX application_one_active ON application (child_id)
    WHERE status IN {ACTIVE!r};
CREATE UNIQUE INDEX application_position ON application (pool_id, position);
"""

# The rows issue 15 keeps beside the seat and the application, each with its key alone.
KEPT_SCHEMA = """
CREATE TABLE history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint NOT NULL,
    to_status text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    action text NOT NULL,
    object_id text NOT NULL,
    data jsonb NOT NULL
);
CREATE TABLE outbox (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id bigint NOT NULL,
    body text NOT NULL,
    status text NOT NULL DEFAULT 'queued',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE idempotency (
    user_id bigint NOT NULL,
    key uuid NOT NULL,
    response jsonb NOT NULL,
    PRIMARY KEY (user_id, key)
);
"""
KEPT_TABLES = ("history", "audit", "outbox", "idempotency")

# psycopg's named parameters; pgbench gets :pool and :child (pgbench_script()).
STATEMENT = (
    "WITH seat AS (UPDATE pool SET seats_taken = seats_taken + 1 "
    "WHERE id = %(pool)s AND seats_taken < seats_total RETURNING id, seats_taken) "
    "INSERT INTO application (child_id, pool_id, position) "
    "SELECT %(child)s, id, seats_taken FROM seat RETURNING id, position"
)


# STATEMENT with the kept rows: one statement, one commit, nothing written without a seat.
KEPT_STATEMENT = (
    STATEMENT.replace(" INSERT INTO application", ", app AS (INSERT INTO application", 1)
    + "), "
    + "history AS (INSERT INTO history (application_id, to_status) "
    "SELECT id, 'registered' FROM app), "
    "audit AS (INSERT INTO audit (action, object_id, data) "
    "SELECT 'application.register', id::text, "
    "jsonb_build_object('child', %(child)s::bigint, 'position', position) FROM app), "
    "outbox AS (INSERT INTO outbox (application_id, body) "
    "SELECT id, 'Kattoo: registered, place ' || position FROM app), "
    "kept AS (INSERT INTO idempotency (user_id, key, response) "
    "SELECT %(child)s::bigint, gen_random_uuid(), "
    "jsonb_build_object('id', id, 'position', position) FROM app) "
    "SELECT id, position FROM app"
)


def pgbench_script(pools: int, statement: str = STATEMENT) -> str:
    return (
        "-- bench/minimal.py: the minimal durable registration, one statement\n"
        f"\\set pool random(1, {pools})\n"
        f"\\set child random(1, {CHILD_IDS})\n" + re.sub(r"%\((\w+)\)s", r":\1", statement) + ";\n"
    )


# The seed's children in arrival order, each with its lean pool; ``arrival_seq`` (made by
# load_arrivals, its MAXVALUE the last n) hands them out.
ARRIVAL_SCHEMA = """
CREATE TABLE arrival (
    n bigint PRIMARY KEY,
    child_id bigint NOT NULL,
    pool_id integer NOT NULL
);
"""

# STATEMENT with its two parameters read from the next arrival (one statement, one commit).
ARRIVAL_STATEMENT = (
    "WITH arrived AS (SELECT child_id, pool_id FROM arrival "
    "WHERE n = (SELECT nextval('arrival_seq'))), "
    + STATEMENT.removeprefix("WITH ")
    .replace("%(pool)s", "(SELECT pool_id FROM arrived)")
    .replace("%(child)s", "(SELECT child_id FROM arrived)")
)


def arrival_script() -> str:
    return (
        "-- bench/minimal.py: the minimal durable registration in the app's arrival order, "
        "one statement\n" + ARRIVAL_STATEMENT + ";\n"
    )


def arrival_rows(
    targets: list[tuple[int, int, int, str]], pools: list[tuple[int, str, int]]
) -> list[tuple[int, int, int]]:
    """(n, child, lean pool id) for the seed's targets (n, child, school, language), in order
    of n. The lean pools are ``pools`` numbered from 1 as create() numbers them; a target whose
    school and language have no pool gets 0, a pool that does not exist: its arrival is a
    refusal, as the app refuses a draft for a pool without seats."""
    ids = {(school, language): i for i, (school, language, _n) in enumerate(pools, start=1)}
    return [
        (n, child, ids.get((school, language), 0)) for n, child, school, language in sorted(targets)
    ]


def seed_targets(pg: PgCluster, seed: str) -> list[tuple[int, int, int, str]]:
    """The seed's ``bench_target`` as (n, child, school, language), in arrival order."""
    out = pg.psql(
        "SELECT n, child_id, school_id, language FROM bench_target ORDER BY n", dbname=seed
    )
    targets = []
    for line in out.splitlines():
        n, child, school, language = line.split("|")
        targets.append((int(n), int(child), int(school), language))
    return targets


def load_arrivals(pg: PgCluster, rows: list[tuple[int, int, int]], dbname: str = DBNAME) -> None:
    """The ``arrival`` table and its sequence in the lean database (COPY: the national seed
    has a few hundred thousand children, more than a psql command line holds)."""
    if [n for n, _child, _pool in rows] != list(range(1, len(rows) + 1)):
        # A gap would be a transaction that finds no child: counted as a refusal.
        raise RuntimeError("bench_target's n must run 1..N (bench/seed.py numbers them so)")
    if not rows:
        raise RuntimeError("the seed has no children in bench_target")
    with psycopg.connect(pg.url(dbname), autocommit=True) as conn:
        conn.execute(ARRIVAL_SCHEMA)
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY arrival (n, child_id, pool_id) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        conn.execute(f"CREATE SEQUENCE arrival_seq MAXVALUE {len(rows)}")


def create(
    pg: PgCluster, pools: list[tuple[int, str, int]], dbname: str = DBNAME, *, kept: bool = False
) -> str:
    """The lean database with these pools (school, language, seats), ids 1..n; ``kept``: with
    the tables of the rows the app keeps."""
    pg.psql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    pg.psql(f'CREATE DATABASE "{dbname}"')
    pg.psql(SCHEMA + (KEPT_SCHEMA if kept else ""), dbname=dbname)
    values = ",".join(
        f"({i}, {school}, '{language}', {seats})"
        for i, (school, language, seats) in enumerate(pools, start=1)
    )
    if values:
        pg.psql(
            f"INSERT INTO pool (id, school, language, seats_total) VALUES {values}", dbname=dbname
        )
    pg.psql("VACUUM ANALYZE", dbname=dbname)
    return pg.url(dbname)


def seed_pools(pg: PgCluster, seed: str) -> list[tuple[int, str, int]]:
    """Every pool of the seed's active campaign with seats, as (school, language, capacity)."""
    out = pg.psql(
        "SELECT p.school_id, p.language, p.capacity FROM enrollment_seatpool p "
        "JOIN campaigns_campaign c ON c.id = p.campaign_id AND c.is_active "
        "WHERE p.capacity > 0 ORDER BY p.id",
        dbname=seed,
    )
    pools = []
    for line in out.splitlines():
        school, language, seats = line.split("|")
        pools.append((int(school), language, int(seats)))
    return pools


def reset_sql(*, full: bool, arrival: bool = False, kept: bool = False) -> str:
    """No seat taken (or, for the refused run, all), no applications (nor kept rows); for the
    arrival order the first child next."""
    tables = ", ".join(("application", *(KEPT_TABLES if kept else ())))
    sql = (
        f"TRUNCATE {tables} RESTART IDENTITY; "
        f"UPDATE pool SET seats_taken = {'seats_total' if full else '0'}"
    )
    return sql + ("; ALTER SEQUENCE arrival_seq RESTART" if arrival else "")


def reset(
    pg: PgCluster, *, full: bool, arrival: bool = False, kept: bool = False, dbname: str = DBNAME
) -> None:
    """reset_sql(), then statistics and a checkpoint, so every run starts the same way."""
    pg.psql(reset_sql(full=full, arrival=arrival, kept=kept), dbname=dbname)
    pg.psql("VACUUM ANALYZE", dbname=dbname)
    pg.psql("CHECKPOINT")


def exhausted(stderr: str) -> bool:
    """Whether pgbench stopped its clients only because the arrivals ran out (the sequence's
    MAXVALUE): the run's tps is then the rate while there were children, not an error."""
    aborted = [line for line in stderr.splitlines() if "aborted in command" in line]
    return bool(aborted) and all(
        'reached maximum value of sequence "arrival_seq"' in line for line in aborted
    )


def run_minimal(
    pg: PgCluster,
    seed: str,
    clients: list[int],
    seconds: int,
    *,
    full: bool = False,
    arrival: bool = False,
    kept: bool = False,
    log: Any = print,
) -> dict[str, Any]:
    """pgbench of the minimal statement at each client count: like flash_crowd.run_pgbench's
    result (tps, transactions, accepted, refused, latency, failed, cpu) plus its cost row.
    ``full``: every pool without a free seat, so every transaction is a refusal.
    ``arrival``: the seed's children in the app's arrival order on the seed's capacities
    (ARRIVAL_STATEMENT); its cost row is ``minimal_arrival``. ``kept``: the statement with
    the rows the app keeps (KEPT_STATEMENT), drawn uniformly; its cost row is
    ``minimal_kept``."""
    from bench.flash_crowd import CpuMeter  # flash_crowd imports this module

    if full and arrival:
        raise ValueError("the arrival order runs on the seed's capacities, not on full pools")
    if kept and (full or arrival):
        raise ValueError("the kept rows are measured on the uniform draw, accepted")
    pools = seed_pools(pg, seed)
    create(
        pg,
        pools if full or arrival else [(s, lang, n + HEADROOM) for s, lang, n in pools],
        kept=kept,
    )
    statement = ARRIVAL_STATEMENT if arrival else KEPT_STATEMENT if kept else STATEMENT
    out: dict[str, Any] = {
        "script": "bench/minimal.py",
        "statement": statement,
        "kept_rows": list(KEPT_TABLES) if kept else [],
        "pools": len(pools),
        "seats": sum(p[2] for p in pools),
        "headroom_per_pool": 0 if full or arrival else HEADROOM,
        "full": full,
    }
    if arrival:
        rows = arrival_rows(seed_targets(pg, seed), pools)
        load_arrivals(pg, rows)
        out.update(
            order="arrival",
            arrivals=len(rows),
            arrivals_without_pool=sum(1 for _n, _child, pool in rows if pool == 0),
        )
        script_text, name, label = arrival_script(), "minimal-arrival.sql", " (arrival order)"
    elif kept:
        script_text = pgbench_script(len(pools), KEPT_STATEMENT)
        name, label = "minimal-kept.sql", " (with the kept rows)"
    else:
        script_text = pgbench_script(len(pools))
        name, label = ("minimal-full.sql", " (full pools)") if full else ("minimal.sql", "")
    script = VAR / name
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(script_text)
    for c in clients:
        reset(pg, full=full, arrival=arrival, kept=kept)
        window = cost.Window(pg, DBNAME)
        with CpuMeter([], pg) as meter, cost.Activity(pg, DBNAME) as activity:
            proc = subprocess.run(
                pg.pgbench_command(script, clients=c, seconds=seconds, dbname=DBNAME),
                capture_output=True,
                text=True,
                check=False,
            )
            window.mark_end()
        spent = window.close(pooled=False)
        accepted = int(pg.psql("SELECT count(*) FROM application", dbname=DBNAME))
        result = parse_pgbench(proc.stdout)
        tx = result["transactions"]
        result.update(
            accepted=accepted,
            refused=max(tx - accepted, 0),
            cpu=meter.result,
            activity=activity.result(),
        )
        result["cost"] = cost.row(
            "minimal_arrival" if arrival else "minimal_kept" if kept else "minimal",
            clients=c,
            accepted=accepted,
            refused=result["refused"],
            cpu=meter.result,
            window=spent,
            round_trips=float(cost.script_statements(script_text)),
        )
        ran_out = arrival and exhausted(proc.stderr)
        if arrival:
            result["arrivals_exhausted"] = ran_out
        if (proc.returncode != 0 and not ran_out) or not result["tps"]:
            result["error"] = (proc.stderr or proc.stdout)[-800:]
        out[str(c)] = result
        log(
            f"pgbench minimal{label} -c {c}: {result['tps']:.0f} tps "
            f"({accepted} accepted of {tx}{'; every arrival used' if ran_out else ''})"
        )
    pg.psql(f'DROP DATABASE IF EXISTS "{DBNAME}" WITH (FORCE)')
    return out


def parse_pgbench(stdout: str) -> dict[str, Any]:
    tps_m = re.search(r"tps = ([\d.]+) \(without initial", stdout)
    tx_m = re.search(r"number of transactions actually processed: (\d+)", stdout)
    lat_m = re.search(r"latency average = ([\d.]+) ms", stdout)
    fail_m = re.search(r"number of failed transactions: (\d+)", stdout)
    return {
        "tps": round(float(tps_m.group(1)), 1) if tps_m else 0.0,
        "transactions": int(tx_m.group(1)) if tx_m else 0,
        "latency_avg_ms": float(lat_m.group(1)) if lat_m else None,
        "failed": int(fail_m.group(1)) if fail_m else None,
    }
