r"""What registering several children in one statement would save the database (issue 15).

Every registration the app makes is its own two statements and its own commit (ADR 0002,
0015): the read of the token and the draft's facts, then the submit statement. Part of what
each costs the database is paid per statement, whatever its rows: the round trip, the bind,
the executor's start and end for seven data-modifying nodes, the ~33 relation and index locks
of the submit (beyond a backend's 16 fast-path slots, the rest through the lock manager's
shared table), the snapshot, the commit and its WAL flush. The rest is paid per row: the heap
tuples, the index entries, their WAL. This measures the split: the same rows written for N
children by ONE read and ONE submit statement, against the app's own script
(bench/sqlpath.py), on a copy of the national seed in the benchmark's cluster, every pool
with room beyond its capacity (as bench/ablation.py), the variants alternating:

- ``app``: the app's script (one child a transaction: its read, its submit);
- ``batch of N``: N consecutive children a transaction (``bench_args``, the app's per-request
  values made before the run): one read of the N tokens' holders and facts (the app's read,
  its text unchanged, laterally per child) and one statement writing what the app's submit
  writes for each child — history row, draft deletion, the seat (one UPDATE per pool for all
  its children of the batch, the pools locked in id order first so two batches cannot
  deadlock; each pool found by its key, not by a join a generic plan would make a scan of
  every pool), application at its position, audit event, SMS outbox row, idempotency record.

A measurement of the database side only, not a design: the app's Python, which would have to
collect concurrent requests into such a statement and answer each, is not here, and neither
are a batch's partial refusals (a pool that fills within a batch, a child registered
meanwhile) — with every pool's headroom none happens. Per variant and client count: the
registrations per second and PostgreSQL's CPU per registration (``CpuMeter``), WAL bytes per
registration. Results: ``bench/results/batched.json``.

    python -m bench.batched [--batches 1,4,8,16] [--clients 16,64] [--seconds 12] [--rounds 2]
"""

# ruff: noqa: S603 - pgbench, a fixed PostgreSQL binary
from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from typing import Any

from bench import cost, minimal
from bench.ablation import log, seed_copy_with_room
from bench.common import write_results
from bench.flash_crowd import CpuMeter, pgbench_script
from bench.pgcluster import PgCluster
from bench.seed import ensure_seed

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
DBNAME = "batched"

# The batch's children: N consecutive rows of bench_args from the next free one.
_BATCH = (
    "SELECT a.*, row_number() OVER (PARTITION BY a.pool_id ORDER BY a.n) AS k"
    " FROM bench_args a WHERE a.n BETWEEN :first AND :first + {n} - 1"
)

# The app's submit statement (kattoo/enrollment/fastpath.py ``_SUBMIT``) for every child of the
# batch: the same tables, columns and values, each per-child parameter read from the batch's
# row instead of bound.
_SUBMIT = """
WITH b AS MATERIALIZED ({batch}),
want AS (SELECT pool_id, count(*) AS n, sum(extra) AS extra FROM b GROUP BY pool_id),
history AS (
    INSERT INTO enrollment_applicationtransition
        (application_id, from_status, to_status, at, actor_id, reason, reason_code)
    SELECT b.id, '', 'registered', :now, b.user_id, '', '' FROM b
 RETURNING 1
), draft AS (
    DELETE FROM enrollment_draft d USING b WHERE d.id = b.draft_id
 RETURNING 1
), locked AS (
    SELECT p.id FROM enrollment_seatpool p WHERE p.id = ANY (ARRAY(SELECT pool_id FROM want))
     ORDER BY p.id FOR UPDATE
), seat AS (
    UPDATE enrollment_seatpool p
       SET taken = p.taken + w.n,
           extra_seats = p.extra_seats + w.extra,
           capacity = p.capacity + w.extra,
           accepted_count = p.accepted_count + w.n
      FROM want w
     WHERE p.id = ANY (ARRAY(SELECT pool_id FROM want)) AND p.id = w.pool_id
       AND p.taken + p.held + w.n - w.extra <= p.capacity
       AND (SELECT count(*) FROM history) >= 0
       AND (SELECT count(*) FROM draft) >= 0
       AND (SELECT count(*) FROM locked) >= 0
 RETURNING p.id, p.accepted_count - w.n AS base
), app AS (
    INSERT INTO enrollment_application
        (id, campaign_id, child_id, applicant_id, user_id, school_id, language, pool_id,
         status, route, above_quota, position, channel, created_at, status_changed_at)
    SELECT b.id, b.campaign_id, b.child_id, b.applicant_id, b.user_id, b.school_id,
           b.language, b.pool_id, 'registered', b.route, b.above, s.base + b.k,
           :channel, :now, :now
      FROM b JOIN seat s ON s.id = b.pool_id
 RETURNING id, position
), audit AS (
    INSERT INTO audit_auditevent
        (at, actor_id, channel, action, object_type, object_id, data, request_id)
    SELECT :now, b.user_id, :channel, 'application.register', 'enrollment.application',
           app.id::text, jsonb_set(b.data::jsonb, '{{position}}', to_jsonb(app.position)),
           b.request_id
      FROM app JOIN b ON b.id = app.id
), outbox AS (
    INSERT INTO notifications_notification
        (id, user_id, channel, address, event, language, subject, body, secret_body,
         dedupe_key, status, attempts, last_error, provider_id, report, created_at)
    SELECT b.note_id, b.user_id, 'sms', b.address, 'application_registered',
           b.user_language, '', replace(b.note_body, :mark, app.position::text),
           :no_secret::bytea, 'application_registered:' || app.id::text, 'queued', 0, '', '',
           '', :now
      FROM app JOIN b ON b.id = app.id WHERE b.has_phone
), idempotency AS (
    INSERT INTO enrollment_idempotencyrecord
        (user_id, key, request_hash, status_code, response, created_at)
    SELECT b.user_id, b.key::text, b.fingerprint, 201,
           jsonb_set(:response::jsonb, '{{position}}', to_jsonb(app.position)), :now
      FROM app JOIN b ON b.id = app.id
)
SELECT count(*) FROM app
"""


def _one_line(sql: str) -> str:
    return " ".join(sql.split()) + ";"


def batched_script(app_script: str, n: int, *, one_read: bool = True) -> str:
    """The pgbench script of a batch of ``n`` children, from the app's script: its prelude's
    constants (one child's row read for them), its read laterally per child — in one statement
    for the batch, or (``one_read=False``) one statement per child, each finding its child by
    its key as the app's script does — then the batched submit statement."""
    lines = app_script.splitlines()
    prelude = next(i for i, line in enumerate(lines) if line.startswith("SELECT a.*"))
    read = next(line for line in lines if line.startswith("WITH u AS"))
    # The constants of the app's prelude, for the batch's first child; ``first`` from a
    # sequence that steps by n (``_sequence``).
    constants = (
        lines[prelude]
        .replace("SELECT a.*,", "SELECT")
        .replace(", p.capacity - p.taken - p.held AS free", "")
        .replace(" JOIN enrollment_seatpool p ON p.id = a.pool_id", "")
        .replace("(SELECT nextval('bench_target_seq'))", ":first")
    )
    if ":first" not in constants or "free" in constants:
        raise ValueError("the app script's prelude changed")
    batch = _BATCH.format(n=n)
    per_child = read.rstrip(";").replace(":digest", "b.digest").replace(":child_id", "b.child_id")
    if ":digest" in per_child or "b.digest" not in per_child:
        raise ValueError("the app script's read changed")
    if one_read:
        reads = [f"SELECT r.* FROM ({batch}) b CROSS JOIN LATERAL ({per_child}) r;"]
    else:
        reads = [
            f"SELECT r.* FROM bench_args b CROSS JOIN LATERAL ({per_child}) r"
            f" WHERE b.n = :first + {i};"
            for i in range(n)
        ]
    return (
        "\n".join(
            [
                "SELECT nextval('bench_batch_seq') AS first",
                "\\gset",
                constants,
                lines[prelude + 1],  # \gset
                *reads,
                _one_line(_SUBMIT.format(batch=batch)),
            ]
        )
        + "\n"
    )


def _sequence(pg: PgCluster, n: int) -> None:
    """``bench_batch_seq`` from the first child no run used, stepping by ``n``; the app's
    script's ``bench_target_seq`` moved past the same children."""
    used = pg.psql("SELECT COALESCE(max(n), 0) FROM bench_used", dbname=DBNAME)
    start = int(used) + 1
    pg.psql(
        f"DROP SEQUENCE IF EXISTS bench_batch_seq; "
        f"CREATE SEQUENCE bench_batch_seq START {start} INCREMENT {n}; "
        f"SELECT setval('bench_target_seq', {start}, false)",
        dbname=DBNAME,
    )


def fresh_copy(pg: PgCluster, seed: str) -> str:
    """A copy of the seed with room in every pool (``seed_copy_with_room``) and the table of
    the children the runs on it have used."""
    url = seed_copy_with_room(pg, seed, DBNAME)
    pg.psql("CREATE TABLE bench_used (n integer)", dbname=DBNAME)
    pg.psql("VACUUM ANALYZE", dbname=DBNAME)
    return url


def remaining(pg: PgCluster) -> int:
    """The copy's children no run has used yet."""
    return int(
        pg.psql(
            "SELECT count(*) FROM bench_args"
            " WHERE n > (SELECT COALESCE(max(n), 0) FROM bench_used)",
            dbname=DBNAME,
        )
    )


def copy_runs_out(children_left: int, largest_run: int) -> bool:
    """Whether the next run may take more children than the copy has left: a run that finds
    none left stops pgbench (its constants query reads no row). The largest run so far, with
    half again for a faster variant or a quieter machine; the first run on a copy needs
    none."""
    return children_left < largest_run * 3 // 2


def _count(pg: PgCluster) -> int:
    return int(pg.psql("SELECT count(*) FROM enrollment_application", dbname=DBNAME))


def _wal(pg: PgCluster) -> int:
    return int(pg.psql("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"))


def run_variant(
    pg: PgCluster, script: Path, *, clients: int, seconds: int, batch: int
) -> dict[str, Any]:
    """One pgbench run: registrations a second, PostgreSQL CPU and WAL a registration."""
    _sequence(pg, batch)
    pg.psql("CHECKPOINT")
    before, wal0 = _count(pg), _wal(pg)
    cmd = pg.pgbench_command(script, clients=clients, seconds=seconds, dbname=DBNAME)
    with CpuMeter([], pg) as meter:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        # pgbench's backends gone and reaped: an exited backend's CPU counts once the
        # postmaster has reaped it (before that a run's CPU can go missing).
        cost.settle(pg, DBNAME, pooled=False)
    wal = _wal(pg) - wal0
    registered = _count(pg) - before
    parsed = minimal.parse_pgbench(proc.stdout)
    if proc.returncode != 0 or not parsed["tps"] or not registered:
        raise RuntimeError(f"pgbench failed: {(proc.stderr or proc.stdout)[-1500:]}")
    pg.psql(
        "INSERT INTO bench_used SELECT max(n) FROM bench_args a"
        " WHERE NOT EXISTS (SELECT 1 FROM enrollment_draft d WHERE d.id = a.draft_id)",
        dbname=DBNAME,
    )
    return {
        "batch": batch,
        "clients": clients,
        "transactions_per_s": parsed["tps"],
        "registrations": registered,
        "registrations_per_s": round(registered / seconds, 1),
        "postgres_cpu_ms": round(meter.result["postgres_s"] * 1000 / registered, 3),
        "wal_bytes": round(wal / registered),
        "cpu": meter.result,
    }


def _name(run: dict[str, Any]) -> str:
    if run["batch"] == 0:
        return "app (one child a transaction)"
    reads = "" if run.get("one_read", True) else ", its reads one by one"
    return f"batch of {run['batch']}{reads}"


def table(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| variant | clients | registrations/s | PostgreSQL CPU ms a registration |"
        " WAL bytes a registration |",
        "|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {_name(r)} | {r['clients']} | {r['registrations_per_s']:,.0f} | "
            f"{r['postgres_cpu_ms']:.3f} | {r['wal_bytes']:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", default="1,4,8,16")
    parser.add_argument("--clients", default="16,64")
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--reads-apart", action="store_true", help="also each batch with one read per child"
    )
    parser.add_argument("--scale", default="national")
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    VAR.mkdir(parents=True, exist_ok=True)
    pg = PgCluster(huge_pages=True).start()
    runs: list[dict[str, Any]] = []
    try:
        seed = ensure_seed(pg, args.scale, log=log)
        for c in (int(c) for c in args.clients.split(",")):
            url = fresh_copy(pg, seed)
            app_text, _source, _mode = pgbench_script(url)
            scripts = {(0, True): VAR / "batched-app.sql"}
            scripts[0, True].write_text(app_text)
            for n in batches:
                for one_read in (True, False) if args.reads_apart else (True,):
                    path = VAR / f"batched-{n}{'' if one_read else '-reads-apart'}.sql"
                    path.write_text(batched_script(app_text, n, one_read=one_read))
                    scripts[n, one_read] = path
            largest = 0
            for _round in range(args.rounds):
                for (n, one_read), path in scripts.items():
                    if copy_runs_out(remaining(pg), largest):
                        log(f"the copy's children run out: a fresh copy for the next run (-c {c})")
                        fresh_copy(pg, seed)
                    run = run_variant(pg, path, clients=c, seconds=args.seconds, batch=max(n, 1))
                    largest = max(largest, run["registrations"])
                    run["batch"], run["one_read"] = n, one_read
                    runs.append(run)
                    log(
                        f"{_name(run)} -c {c}: {run['registrations_per_s']:.0f} registrations/s,"
                        f" PostgreSQL {run['postgres_cpu_ms']} ms, WAL {run['wal_bytes']} B a"
                        " registration"
                    )
            pg.psql(f'DROP DATABASE IF EXISTS "{DBNAME}" WITH (FORCE)')
    finally:
        pg.stop()
    write_results(
        "batched",
        {
            "scale": args.scale,
            "seconds": args.seconds,
            "runs": runs,
        },
    )
    print(table(runs))


if __name__ == "__main__":
    main()
