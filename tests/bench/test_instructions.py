"""bench/instructions.py: the instructions of the app's SQL a registration, from two counts
under callgrind. The counts themselves need root, valgrind and the national seed (minutes):
these tests read callgrind's files and do the arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import instructions
from bench.pgcluster import PgCluster

CALLGRIND_FILE = """# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  /usr/lib/postgresql/15/bin/postgres -D /x
part: 1

events: Ir

fl= (1) ???
fn= (1) main
0 5

totals: 1344354562
"""


def test_the_total_is_read_from_callgrind_file(tmp_path: Path) -> None:
    path = tmp_path / "callgrind.out.4242"
    path.write_text(CALLGRIND_FILE)
    assert instructions.callgrind_total(path) == 1_344_354_562
    path.write_text(CALLGRIND_FILE.replace("totals:", "summary:"))
    assert instructions.callgrind_total(path) == 1_344_354_562


def test_a_file_without_totals_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "callgrind.out.1"
    path.write_text("events: Ir\n")
    with pytest.raises(ValueError, match="no totals"):
        instructions.callgrind_total(path)


def test_a_registration_costs_the_difference_between_the_counts() -> None:
    """What the server's and the connection's start cost is in both counts and cancels out:
    only the transactions between them are divided, eight registrations each."""
    short = {"backend": 353_833_195, "all": 1_466_437_020}
    long = {"backend": 1_344_383_128, "all": 2_462_294_950}
    got = instructions.per_registration(short, long, n1=20, n2=120)
    assert got == {
        "backend": (1_344_383_128 - 353_833_195) / 800,
        "all": (2_462_294_950 - 1_466_437_020) / 800,
    }
    assert round(got["backend"]) == 1_238_187
    # The minimal statement: one registration a transaction.
    assert instructions.per_registration(short, long, n1=20, n2=120, batch=1)["backend"] == (
        (1_344_383_128 - 353_833_195) / 100
    )
    with pytest.raises(ValueError, match="larger"):
        instructions.per_registration(short, long, n1=120, n2=120)


def test_the_server_runs_under_callgrind_as_postgres_without_huge_pages(tmp_path: Path) -> None:
    pg = PgCluster(tmp_path / "pg", port=55999)
    cmd = instructions.valgrind_command(pg, tmp_path)
    assert cmd[:4] == ["runuser", "-u", "postgres", "--"]
    assert cmd[4:6] == ["valgrind", "--tool=callgrind"]
    assert f"--callgrind-out-file={tmp_path}/callgrind.out.%p" in cmd
    assert cmd[cmd.index("-D") + 1] == str(tmp_path / "pg")
    assert cmd[cmd.index("-p") + 1] == "55999"
    assert "huge_pages=off" in cmd and "autovacuum=off" in cmd


def test_the_first_query_alone_is_the_script_up_to_its_gset() -> None:
    script = "SELECT 1 AS a\n\\gset\n-- 1. the read\nSELECT 2;\n"
    assert instructions.prelude_only(script) == "SELECT 1 AS a\n\\gset\n"
