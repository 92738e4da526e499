"""The app's SQL on tables that already hold a season of rows: random keys against time-ordered
ones (issue 15, ADR 0040).

``make bench`` copies the national seed, whose application, history, outbox and audit tables are
empty at the opening. A real deployment's are not: they hold earlier campaigns' registrations
and their SMS, and the audit events of everything since. Then a random key (UUIDv4) lands on a
page of its index that nothing has touched since the last checkpoint, and that page goes into
the WAL whole (a full-page image). This runs the app's statements through pgbench
(bench/sqlpath.py, on ``bench_args``) on a copy of the seed with such a history, once with the
application's and the SMS's keys time-ordered (UUIDv7, as the app makes them, kattoo/core/ids.py)
and once random, interleaved, each round on a fresh copy after a ``CHECKPOINT``:

    python -m bench.keys                 # 16 clients, 20 s, 2 rounds
    python -m bench.keys --rounds 3 --applications 500000 --events 5000000

Prints and writes ``bench/results/keys.json``: tps, WAL bytes, full-page images and PostgreSQL
CPU per registration, per variant and round.
"""

# ruff: noqa: S603 - the bench runs its own fixed commands (this module)
from __future__ import annotations

import argparse
import json
import re
import subprocess
from collections.abc import Callable
from typing import Any

from bench.common import write_results
from bench.flash_crowd import VAR, CpuMeter, fresh_db, pgbench_script, prepare_args
from bench.pgcluster import PgCluster
from bench.seed import ensure_seed

TEMPLATE = "keys_history"

# Earlier campaigns' rows (campaign -1, pools of their own: no constraint of this season is
# touched) with random keys, as the app made them before ADR 0040, and the audit events of a
# season: registrations, refusals, sign-ins and reads, each naming its object by id.
HISTORY = """
INSERT INTO enrollment_application (id, language, status, route, above_quota, position, channel,
        created_at, status_changed_at, applicant_id, campaign_id, child_id, school_id, user_id,
        pool_id)
SELECT gen_random_uuid(), 'ky', 'registered', 'microdistrict', false, g, 'api',
       now() - interval '300 days', now() - interval '300 days', g, -1, g, g % 2500, g,
       -(g % 2500) - 1
  FROM generate_series(1, {applications}) g;
INSERT INTO enrollment_applicationtransition (from_status, to_status, at, reason, actor_id,
        application_id, reason_code)
SELECT '', 'registered', created_at, '', user_id, id, ''
  FROM enrollment_application WHERE campaign_id = -1;
INSERT INTO notifications_notification (id, channel, event, language, subject, body, dedupe_key,
        status, attempts, last_error, provider_id, created_at, user_id, address, secret_body,
        report)
SELECT gen_random_uuid(), 'sms', 'application_registered', 'ky', '', 'Kattoo',
       'application_registered:' || id, 'sent', 1, '', '', created_at, user_id,
       decode('00', 'hex'), decode('00', 'hex'), ''
  FROM enrollment_application WHERE campaign_id = -1;
INSERT INTO audit_auditevent (at, actor_id, channel, action, object_type, object_id, data,
        request_id)
SELECT now() - interval '300 days' + g * interval '5 ms', g % 300000, 'api',
       'application.register', 'enrollment.application', gen_random_uuid()::text,
       jsonb_build_object('school', g % 2500, 'language', 'ky'), md5(g::text)
  FROM generate_series(1, {events}) g;
"""

# The variants, each as a change to the keys the app makes today (bench/sqlpath.py): the
# request id as nginx made it before ADR 0041 (random), and the application's and the SMS's keys
# as they were before ADR 0040 (random) too.
RANDOM_REQUEST_IDS = "UPDATE bench_args SET request_id = md5(random()::text)"
RANDOM_KEYS = "UPDATE bench_args SET id = gen_random_uuid(), note_id = gen_random_uuid()"
VARIANTS: dict[str, list[str]] = {
    "time-ordered": [],
    "random request ids": [RANDOM_REQUEST_IDS],
    "random": [RANDOM_REQUEST_IDS, RANDOM_KEYS],
}


def history_template(pg: PgCluster, applications: int, events: int) -> None:
    """``TEMPLATE``: a copy of the national seed with ``HISTORY`` in it, vacuumed and analyzed."""
    seed = ensure_seed(pg, "national", log=print)
    pg.psql(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    pg.psql(f'CREATE DATABASE "{TEMPLATE}" TEMPLATE "{seed}" STRATEGY FILE_COPY')
    pg.psql(HISTORY.format(applications=applications, events=events), dbname=TEMPLATE)
    pg.psql("VACUUM ANALYZE", dbname=TEMPLATE)


def measure(pg: PgCluster, clients: int, seconds: int, variant: str) -> dict[str, Any]:
    url, _t0 = fresh_db(pg, TEMPLATE, "keys", opens_in=-60)
    prepare_args(pg, "keys")
    for change in VARIANTS[variant]:
        pg.psql(change, dbname="keys")
    pg.psql("VACUUM ANALYZE", dbname="keys")
    script = VAR / "keys.sql"
    script.write_text(pgbench_script(url)[0])
    pg.psql("CHECKPOINT")
    lsn, fpi = pg.psql(
        "SELECT pg_current_wal_lsn(), wal_fpi FROM pg_stat_wal", dbname="keys"
    ).split("|")
    cmd = pg.pgbench_command(
        script, clients=clients, seconds=seconds, dbname="keys", mode="prepared"
    )
    with CpuMeter([], pg) as meter:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wal, fpis = pg.psql(
        f"SELECT pg_current_wal_lsn() - '{lsn}'::pg_lsn, wal_fpi - {fpi} FROM pg_stat_wal",
        dbname="keys",
    ).split("|")
    tps = re.search(r"tps = ([\d.]+) \(without", proc.stdout)
    done = re.search(r"actually processed: (\d+)", proc.stdout)
    if tps is None or done is None or "aborted" in proc.stderr:
        raise RuntimeError(proc.stderr[-1500:])
    tx = max(int(done.group(1)), 1)
    return {
        "tps": round(float(tps.group(1))),
        "wal_bytes": round(float(wal) / tx),
        "wal_fpi": round(int(fpis) / tx, 3),
        "postgres_cpu_ms": round(1000 * meter.result["postgres_s"] / tx, 3),
    }


def interleaved(
    parser: argparse.ArgumentParser,
    variants: dict[str, Any],
    dbname: str,
    measure: Callable[[PgCluster, argparse.Namespace, str], dict[str, Any]],
) -> tuple[argparse.Namespace, dict[str, list[dict[str, Any]]]]:
    """Parse the options common to the history benchmarks (this one and bench/checkpoints.py)
    with ``parser``'s own, build ``TEMPLATE``, then run ``measure`` once per variant and round,
    interleaved; drop the databases and stop the cluster whatever happens."""
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=3_000_000)
    parser.add_argument("--variants", default=",".join(variants), help="of: " + ", ".join(variants))
    args = parser.parse_args()
    found: dict[str, list[dict[str, Any]]] = {v: [] for v in args.variants.split(",")}
    unknown = [v for v in found if v not in variants]
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(unknown)}")
    VAR.mkdir(parents=True, exist_ok=True)
    pg = PgCluster(huge_pages=True).start()
    try:
        history_template(pg, args.applications, args.events)
        for _round in range(args.rounds):
            for name in found:
                row = measure(pg, args, name)
                found[name].append(row)
                print(name, json.dumps(row), flush=True)
    finally:
        for db in (dbname, TEMPLATE):
            pg.psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        pg.stop()
    return args, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20)
    args, found = interleaved(
        parser, VARIANTS, "keys", lambda pg, a, name: measure(pg, a.clients, a.seconds, name)
    )
    write_results(
        "keys",
        {
            "clients": args.clients,
            "seconds": args.seconds,
            "history": {"applications": args.applications, "events": args.events},
            **found,
        },
    )


if __name__ == "__main__":
    main()
