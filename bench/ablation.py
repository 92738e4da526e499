"""Where the database time of one registration goes (issue 15): the app's SQL, taken apart.

``make bench`` says what a registration costs as a whole, beside the minimal registration
(bench/minimal.py). This says which part costs what: pgbench runs the app's own script
(bench/sqlpath.py: the token-and-facts read, then the submit statement) and variants of it
with one part left out, on a copy of the same national seed in the benchmark's own cluster
(bench/pgcluster.py, the same durable settings), interleaved in rounds, and the minimal
statement in the same cluster for reference:

- ``app``: the app's two statements, as sent for a registration;
- ``submit``: the submit statement alone (what the read costs is ``app`` − ``submit``);
- ``submit − <part>``: the statement without one of its data-modifying CTEs (history, audit,
  outbox, draft, idempotency): what that row costs;
- ``seat + application``: only the seat UPDATE and the application INSERT — the minimal
  statement's work on the app's own tables and indexes.

Every pool gets seats beyond its capacity (taking a seat costs the same however many are
left), so no pool fills and every transaction is a registration; each run starts after a
CHECKPOINT, like the rest of the benchmark. Columns per registration, medians over the rounds:
PostgreSQL CPU (the cluster's process tree), WAL bytes and full-page images. The machine's
other load moves the CPU column by 10–20 % between rounds: read the differences that hold in
every round. Results: ``bench/results/ablation.json``.

    python -m bench.ablation [--rounds 3] [--seconds 8] [--clients 16]
"""

# ruff: noqa: S603 - pgbench, a fixed PostgreSQL binary
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import cost, minimal
from bench.flash_crowd import CpuMeter, fresh_db, pgbench_script
from bench.pgcluster import PgCluster
from bench.seed import ensure_seed

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
DBNAME = "ablation"
HEADROOM = 100_000_000
PARTS = ("history", "audit", "outbox", "draft", "idempotency")
_CTE = re.compile(r", (\w+) AS \(")
_TAIL = " SELECT position FROM app"


def split_ctes(statement: str) -> tuple[list[tuple[str, str]], str]:
    """A one-line ``WITH a AS (…), b AS (…) SELECT …;`` as [(name, "a AS (…)")] and the final
    SELECT (with its semicolon). Commas inside the CTEs' parentheses are not boundaries."""
    if not statement.startswith("WITH "):
        raise ValueError("not a WITH statement")
    body = statement[len("WITH ") :]
    parts: list[tuple[str, str]] = []
    depth, start = 0, 0
    for i, ch in enumerate(body):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and ch == "," and _CTE.match(body, i):
            text = body[start:i]
            parts.append((text.split(" ", 1)[0], text))
            start = i + 2
        if depth == 0 and body.startswith(_TAIL, i):
            text = body[start:i]
            parts.append((text.split(" ", 1)[0], text))
            return parts, body[i + 1 :]
    raise ValueError("no final SELECT")


def variants(script: str) -> dict[str, str]:
    """The app's script and its variants (see the module's docstring)."""
    lines = script.splitlines()
    read = next(i for i, line in enumerate(lines) if line.startswith("WITH u AS"))
    submit = next(i for i, line in enumerate(lines) if line.startswith("WITH seat AS"))
    ctes, tail = split_ctes(lines[submit])
    names = [name for name, _text in ctes]
    if names[:2] != ["seat", "app"] or not set(PARTS) <= set(names):
        raise ValueError(f"the submit statement's parts changed: {names}")

    def build(*, with_read: bool = True, drop: tuple[str, ...] = ()) -> str:
        kept = [text for name, text in ctes if name not in drop]
        out = list(lines)
        out[submit] = "WITH " + ", ".join(kept) + " " + tail
        if not with_read:
            del out[read]
        return "\n".join(out) + "\n"

    found = {"app": build(), "submit": build(with_read=False)}
    for part in PARTS:
        found[f"submit − {part}"] = build(with_read=False, drop=(part,))
    found["seat + application"] = build(with_read=False, drop=PARTS)
    return found


def run_variant(
    pg: PgCluster, name: str, text: str, *, clients: int, seconds: int
) -> dict[str, Any]:
    path = VAR / f"ablation-{re.sub(r'[^a-z]+', '-', name).strip('-')}.sql"
    path.write_text(text)
    count = "SELECT count(*) FROM enrollment_application"
    before = int(pg.psql(count, dbname=DBNAME))
    pg.psql("CHECKPOINT")
    window = cost.Window(pg, DBNAME)
    cmd = pg.pgbench_command(path, clients=clients, seconds=seconds, dbname=DBNAME)
    with CpuMeter([], pg) as meter:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        window.mark_end()
    spent = window.close(pooled=False)
    registered = int(pg.psql(count, dbname=DBNAME)) - before
    parsed = minimal.parse_pgbench(proc.stdout)
    if proc.returncode != 0 or not parsed["tps"] or not registered:
        raise RuntimeError(f"pgbench of {name!r} failed: {(proc.stderr or proc.stdout)[-800:]}")
    return {
        "tps": parsed["tps"],
        "registrations": registered,
        "postgres_cpu_ms": round(meter.result["postgres_s"] * 1000 / registered, 3),
        "wal_bytes": round(spent["wal_bytes"] / registered),
        "full_page_images": round(spent["wal_fpi"] / registered, 2),
        "machine_busy_share": meter.result["machine_busy_share"],
    }


def median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("tps", "postgres_cpu_ms", "wal_bytes", "full_page_images")
    return {k: round(statistics.median(r[k] for r in runs), 3) for k in keys}


def table(medians: dict[str, dict[str, Any]]) -> str:
    app = medians["app"]
    lines = [
        "| statement | tps | PostgreSQL CPU ms | WAL bytes | full-page images |"
        " CPU ms vs the app's SQL |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in medians.items():
        delta = m["postgres_cpu_ms"] - app["postgres_cpu_ms"]
        lines.append(
            f"| {name} | {m['tps']:,.0f} | {m['postgres_cpu_ms']:.2f} | {m['wal_bytes']:,.0f} | "
            f"{m['full_page_images']:.2f} | {'' if name == 'app' else f'{delta:+.2f}'} |"
        )
    return "\n".join(lines)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--scale", default="national")
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    pg = PgCluster().start()
    try:
        seed = ensure_seed(pg, args.scale, log=log)
        url, _t0 = fresh_db(pg, seed, DBNAME, opens_in=-60)
        pg.psql(
            f"UPDATE enrollment_seatpool SET capacity = capacity + {HEADROOM}, "
            f"extra_seats = extra_seats + {HEADROOM}",
            dbname=DBNAME,
        )
        pg.psql("VACUUM ANALYZE enrollment_seatpool", dbname=DBNAME)
        script, _source, _mode = pgbench_script(url)
        found = variants(script)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in found}
        for n in range(args.rounds):
            for name, text in found.items():
                runs[name].append(
                    run_variant(pg, name, text, clients=args.clients, seconds=args.seconds)
                )
                log(f"round {n + 1}: {name}: {runs[name][-1]}")
        pg.psql(f'DROP DATABASE IF EXISTS "{DBNAME}" WITH (FORCE)')
        seed_minimal = minimal.run_minimal(pg, seed, [args.clients], args.seconds, log=log)
        mini = seed_minimal[str(args.clients)]
        medians = {name: median_row(r) for name, r in runs.items()}
        medians["the minimal statement (its own lean tables)"] = {
            "tps": mini["tps"],
            "postgres_cpu_ms": mini["cost"]["postgres_cpu_ms"],
            "wal_bytes": mini["cost"]["wal_bytes"],
            "full_page_images": mini["cost"]["wal_fpi"],
        }
    finally:
        pg.stop()
    out = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "clients": args.clients,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "settings": {k: pg.settings[k] for k in ("wal_compression",) if k in pg.settings},
        "medians": medians,
        "runs": runs,
    }
    (ROOT / "bench" / "results" / "ablation.json").write_text(json.dumps(out, indent=1) + "\n")
    print(table(medians))


if __name__ == "__main__":
    main()
