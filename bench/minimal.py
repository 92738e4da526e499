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
"""

# ruff: noqa: S603 - pgbench, a fixed PostgreSQL binary
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

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

# psycopg's named parameters; pgbench gets :pool and :child (pgbench_script()).
STATEMENT = (
    "WITH seat AS (UPDATE pool SET seats_taken = seats_taken + 1 "
    "WHERE id = %(pool)s AND seats_taken < seats_total RETURNING id, seats_taken) "
    "INSERT INTO application (child_id, pool_id, position) "
    "SELECT %(child)s, id, seats_taken FROM seat RETURNING id, position"
)


def pgbench_script(pools: int) -> str:
    return (
        "-- bench/minimal.py: the minimal durable registration, one statement\n"
        f"\\set pool random(1, {pools})\n"
        f"\\set child random(1, {CHILD_IDS})\n" + re.sub(r"%\((\w+)\)s", r":\1", STATEMENT) + ";\n"
    )


def create(pg: PgCluster, pools: list[tuple[int, str, int]], dbname: str = DBNAME) -> str:
    """The lean database with these pools (school, language, seats), ids 1..n."""
    pg.psql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    pg.psql(f'CREATE DATABASE "{dbname}"')
    pg.psql(SCHEMA, dbname=dbname)
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


def reset(pg: PgCluster, *, full: bool, dbname: str = DBNAME) -> None:
    """No seat taken (or, for the refused run, all), no applications, a checkpoint."""
    pg.psql(
        "TRUNCATE application RESTART IDENTITY; "
        f"UPDATE pool SET seats_taken = {'seats_total' if full else '0'}",
        dbname=dbname,
    )
    pg.psql("VACUUM ANALYZE", dbname=dbname)
    pg.psql("CHECKPOINT")


def run_minimal(
    pg: PgCluster,
    seed: str,
    clients: list[int],
    seconds: int,
    *,
    full: bool = False,
    log: Any = print,
) -> dict[str, Any]:
    """pgbench of the minimal statement at each client count: like flash_crowd.run_pgbench's
    result (tps, transactions, accepted, refused, latency, failed, cpu) plus its cost row.
    ``full``: every pool without a free seat, so every transaction is a refusal."""
    from bench.flash_crowd import CpuMeter  # flash_crowd imports this module

    pools = seed_pools(pg, seed)
    create(pg, pools if full else [(s, lang, n + HEADROOM) for s, lang, n in pools])
    script_text = pgbench_script(len(pools))
    script = VAR / ("minimal-full.sql" if full else "minimal.sql")
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(script_text)
    out: dict[str, Any] = {
        "script": "bench/minimal.py",
        "statement": STATEMENT,
        "pools": len(pools),
        "seats": sum(p[2] for p in pools),
        "headroom_per_pool": 0 if full else HEADROOM,
        "full": full,
    }
    for c in clients:
        reset(pg, full=full)
        window = cost.Window(pg, DBNAME)
        with CpuMeter([], pg) as meter:
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
        result.update(accepted=accepted, refused=max(tx - accepted, 0), cpu=meter.result)
        result["cost"] = cost.row(
            "minimal",
            clients=c,
            accepted=accepted,
            refused=result["refused"],
            cpu=meter.result,
            window=spent,
            round_trips=float(cost.script_statements(script_text)),
        )
        if proc.returncode != 0 or not result["tps"]:
            result["error"] = (proc.stderr or proc.stdout)[-800:]
        out[str(c)] = result
        log(
            f"pgbench minimal{' (full pools)' if full else ''} -c {c}: {result['tps']:.0f} tps "
            f"({accepted} accepted of {tx})"
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
