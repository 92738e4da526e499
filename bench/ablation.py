"""Where the database time of one registration goes (issue 15): the app's SQL, taken apart.

``make bench`` says what a registration costs as a whole, beside the minimal registration
(bench/minimal.py). This says which part costs what. One pgbench run, on a copy of the national
seed in the benchmark's own cluster (bench/pgcluster.py, the same durable settings), mixes
with equal weights the app's own script (bench/sqlpath.py: the token-and-facts read, then the
submit statement), variants of it with one part left out, and the minimal statement on its
lean tables (created in the same database), so every variant runs under the same load, the
same checkpoints and the same cache:

- ``app``: the read and the submit statement, as sent for a registration;
- ``submit − <part>``: the statement without one of its data-modifying CTEs (history, audit,
  outbox, draft, idempotency): what that row costs; a part written before the seat (history,
  draft: ADR 0032) leaves the seat's condition with it;
- ``seat + application``: only the seat UPDATE and the application INSERT — the minimal
  statement's work on the app's own tables and indexes;
- ``minimal``: bench/minimal.py's statement.

Each transaction is one variant's registration (a child of its own, from ``bench_target``).
``pg_stat_statements`` then tells per statement: its execution time (the executor's: it
leaves out the commit, which every variant pays once, and the statement's parse and lock
set-up), WAL bytes and full-page images per call. Every pool has seats beyond its capacity
(taking a seat costs the same however many are left). Results: ``bench/results/ablation.json``
and the table printed.

    python -m bench.ablation [--seconds 40] [--clients 16]
"""

# ruff: noqa: S603 - pgbench, a fixed PostgreSQL binary
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import minimal
from bench.common import write_results
from bench.flash_crowd import CpuMeter, fresh_db, pgbench_script, prepare_args
from bench.pgcluster import PgCluster
from bench.seed import ensure_seed

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
DBNAME = "ablation"
HEADROOM = 100_000_000
PARTS = ("history", "audit", "outbox", "draft", "idempotency")
_CTE = re.compile(r", (\w+) AS \(")
_TAIL = " SELECT position FROM app"
# The seat's UPDATE waits for a part written before it (allocation.seat_cte's ``after``).
_AFTER = r" AND \(SELECT count\(\*\) FROM {name}\) >= 0"


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
    submit = next(i for i, line in enumerate(lines) if _is_submit(line))
    ctes, tail = split_ctes(lines[submit])
    names = [name for name, _text in ctes]
    if not {"seat", "app", *PARTS} <= set(names):
        raise ValueError(f"the submit statement's parts changed: {names}")

    def build(*, with_read: bool = True, drop: tuple[str, ...] = ()) -> str:
        kept = [text for name, text in ctes if name not in drop]
        for part in drop:  # the seat no longer waits for a part left out
            kept = [re.sub(_AFTER.format(name=part), "", text) for text in kept]
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


def _is_submit(text: str) -> bool:
    return text.startswith("WITH ") and "UPDATE enrollment_seatpool" in text


def _variant_of(query: str) -> str | None:
    """Which variant a statement of pg_stat_statements is (its normalized text)."""
    text = re.sub(r"\(\s+", "(", " ".join(query.split()))
    if text.startswith("WITH u AS"):
        return "read (token and facts)"
    if text.startswith("WITH seat AS (UPDATE pool "):
        return "minimal"
    if not _is_submit(text):
        return None
    missing = [part for part in PARTS if f" {part} AS (" not in text]
    if not missing:
        return "submit"
    if len(missing) == len(PARTS):
        return "seat + application"
    return f"submit − {missing[0]}" if len(missing) == 1 else None


def measure(pg: PgCluster, scripts: list[Path], *, clients: int, seconds: int) -> dict[str, Any]:
    """One pgbench run of the scripts mixed with equal weights; per variant from
    pg_stat_statements."""
    pg.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", dbname=DBNAME)
    pg.psql("SELECT pg_stat_statements_reset()", dbname=DBNAME)
    pg.psql("CHECKPOINT")
    cmd = pg.pgbench_command(scripts[0], clients=clients, seconds=seconds, dbname=DBNAME)
    at = cmd.index("-f")
    cmd[at : at + 2] = [arg for path in scripts for arg in ("-f", f"{path}@1")]
    with CpuMeter([], pg) as meter:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    parsed = minimal.parse_pgbench(proc.stdout)
    if proc.returncode != 0 or not parsed["tps"]:
        raise RuntimeError(f"pgbench failed: {(proc.stderr or proc.stdout)[-800:]}")
    name = DBNAME.replace("'", "''")
    out = pg.psql(
        "SELECT calls, total_exec_time, wal_bytes, wal_fpi, rows, "
        "regexp_replace(query, '[\\s|]+', ' ', 'g') FROM pg_stat_statements "
        f"WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '{name}') AND calls > 0",
        dbname=DBNAME,
    )
    # One text may show as more than one entry (pg_stat_statements keys its entries by
    # query id, and a run can give the same text two): the entries of a variant are summed.
    totals: dict[str, list[float]] = {}
    for line in out.splitlines():
        calls, exec_ms, wal, fpi, rows, query = line.split("|", 5)
        variant = _variant_of(query)
        if variant is None:
            continue
        total = totals.setdefault(variant, [0.0] * 5)
        for i, value in enumerate((calls, exec_ms, wal, fpi, rows)):
            total[i] += float(value)
    found: dict[str, dict[str, Any]] = {}
    for variant, (calls, exec_ms, wal, fpi, rows) in totals.items():
        found[variant] = {
            "calls": int(calls),
            "rows": int(rows),
            "exec_ms": round(exec_ms / calls, 4),
            "wal_bytes": round(wal / calls),
            "full_page_images": round(fpi / calls, 3),
        }
    return {"tps": parsed["tps"], "cpu": meter.result, "statements": found}


def table(found: dict[str, dict[str, Any]]) -> str:
    base = found["submit"]["exec_ms"]
    order = [
        "read (token and facts)",
        "submit",
        *(f"submit − {part}" for part in PARTS),
        "seat + application",
        "minimal",
    ]
    lines = [
        "| statement | calls | execution ms | vs the submit statement | WAL bytes |"
        " full-page images |",
        "|---|---|---|---|---|---|",
    ]
    for name in order:
        m = found.get(name)
        if m is None:
            continue
        delta = (
            "" if name in ("submit", "read (token and facts)") else f"{m['exec_ms'] - base:+.3f}"
        )
        lines.append(
            f"| {name} | {m['calls']:,} | {m['exec_ms']:.3f} | {delta} | {m['wal_bytes']:,} | "
            f"{m['full_page_images']:.2f} |"
        )
    return "\n".join(lines)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def seed_copy_with_room(pg: PgCluster, seed: str, dbname: str) -> str:
    """A copy of the seed (``dbname``; its URL returned) for pgbench of the app's SQL: stage 1
    open, the app's per-child values made before the run (``bench_args``), and every pool with
    ``HEADROOM`` seats beyond its capacity, so that none fills during a run (taking a seat
    costs the same however many are left)."""
    url, _t0 = fresh_db(pg, seed, dbname, opens_in=-60)
    prepare_args(pg, dbname)
    pg.psql(
        f"UPDATE enrollment_seatpool SET capacity = capacity + {HEADROOM}, "
        f"extra_seats = extra_seats + {HEADROOM}",
        dbname=dbname,
    )
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--scale", default="national")
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    pg = PgCluster(huge_pages=True).start()
    try:
        seed = ensure_seed(pg, args.scale, log=log)
        pools = minimal.seed_pools(pg, seed)
        url = seed_copy_with_room(pg, seed, DBNAME)
        pg.psql(minimal.SCHEMA, dbname=DBNAME)
        values = ",".join(
            f"({i}, {school}, '{language}', {seats + HEADROOM})"
            for i, (school, language, seats) in enumerate(pools, start=1)
        )
        pg.psql(
            f"INSERT INTO pool (id, school, language, seats_total) VALUES {values}", dbname=DBNAME
        )
        pg.psql("VACUUM ANALYZE", dbname=DBNAME)
        script, _source, _mode = pgbench_script(url)
        found = variants(script)
        del found["submit"]  # the app's script holds it, after the read
        scripts = []
        for name, text in {**found, "minimal": minimal.pgbench_script(len(pools))}.items():
            path = VAR / f"ablation-{re.sub(r'[^a-z]+', '-', name).strip('-')}.sql"
            path.write_text(text)
            scripts.append(path)
        result = measure(pg, scripts, clients=args.clients, seconds=args.seconds)
        pg.psql(f'DROP DATABASE IF EXISTS "{DBNAME}" WITH (FORCE)')
    finally:
        pg.stop()
    write_results(
        "ablation",
        {
            "scale": args.scale,
            "clients": args.clients,
            "seconds": args.seconds,
            "settings": {k: pg.settings[k] for k in ("wal_compression",) if k in pg.settings},
            **result,
        },
    )
    print(table(result["statements"]))


if __name__ == "__main__":
    main()
