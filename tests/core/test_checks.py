"""The deployment's database check (kattoo/core/checks.py, ADR 0042): PostgreSQL's stock
settings are named one by one, the shipped file passes, a durability setting off is an error."""

from __future__ import annotations

from io import StringIO
from types import SimpleNamespace

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection

from bench.pgcluster import SETTINGS, available, deployed_settings
from kattoo.core import checks
from kattoo.core.checks import SPARE_CONNECTIONS, connections_needed, findings, read_settings

from ..reliability.pgcluster import TempCluster

# What PostgreSQL 15 ships with, as pg_settings shows it.
STOCK = {
    "fsync": ("on", None),
    "synchronous_commit": ("on", None),
    "full_page_writes": ("on", None),
    "wal_compression": ("off", None),
    "max_wal_size": ("1024", "MB"),
    "checkpoint_timeout": ("300", "s"),
    "checkpoint_completion_target": ("0.9", None),
    "shared_buffers": ("16384", "8kB"),
    "max_connections": ("100", None),
}


def ids(messages: list) -> set[str]:
    return {m.id for m in messages}


def test_stock_postgresql_is_named_setting_by_setting() -> None:
    found = findings(STOCK, needed=18)
    assert ids(found) == {"kattoo.W104", "kattoo.W105", "kattoo.W106", "kattoo.W107"}
    wal = next(m for m in found if m.id == "kattoo.W105")
    # max_wal_size / (1 + checkpoint_completion_target): how often the opening would checkpoint
    assert "539 MB" in wal.msg
    assert all(m.hint and "deploy/postgres/kattoo.conf" in m.hint for m in found)


def test_durability_off_is_an_error_and_each_is_named() -> None:
    values = STOCK | {
        "fsync": ("off", None),
        "synchronous_commit": ("off", None),
        "full_page_writes": ("off", None),
    }
    errors = [m for m in findings(values, needed=18) if m.is_serious()]
    assert ids(errors) == {"kattoo.E101", "kattoo.E102", "kattoo.E103"}
    # ``local`` and ``remote_write`` still flush the primary's WAL before the answer
    for level in ("local", "remote_write", "remote_apply"):
        kept = findings(STOCK | {"synchronous_commit": (level, None)}, needed=18)
        assert "kattoo.E102" not in ids(kept)


def test_too_few_connections_for_this_node() -> None:
    values = STOCK | {"max_connections": ("20", None)}
    assert "kattoo.W108" in ids(findings(values, needed=26))
    assert "kattoo.W108" not in ids(findings(values, needed=20))


@pytest.mark.parametrize(("processes", "expected"), [(None, 1), ("", 1), ("2", 2), ("4", 4)])
def test_this_node_counts_every_web_process_pool(
    monkeypatch: pytest.MonkeyPatch, processes: str | None, expected: int
) -> None:
    """One granian process per port (kattoo-web@PORT, ADR 0058): the node opens
    KATTOO_WEB_PROCESSES pools; GRANIAN_WORKERS, which every instance overrides with 1, does
    not count."""
    monkeypatch.setenv("GRANIAN_WORKERS", "8")
    if processes is None:
        monkeypatch.delenv("KATTOO_WEB_PROCESSES", raising=False)
    else:
        monkeypatch.setenv("KATTOO_WEB_PROCESSES", processes)
    pooled = SimpleNamespace(DATABASES={"default": {"OPTIONS": {"pool": {"max_size": 16}}}})
    monkeypatch.setattr(checks, "settings", pooled)
    assert connections_needed() == expected * 16 + SPARE_CONNECTIONS


@pytest.mark.postgres
@pytest.mark.skipif(not available(), reason="no PostgreSQL server binaries")
def test_the_shipped_file_passes_and_weakening_it_is_seen() -> None:
    """A cluster started with deploy/postgres/kattoo.conf as it is: nothing to say. Then each
    setting weakened as an operator could (ALTER SYSTEM, a reload; synchronous_commit for one
    session, as a role's override would) is named."""
    # The file's settings as the benchmark's cluster takes them (without pg_stat_statements
    # where the contrib module is not installed).
    shipped = {name: value for name, value in SETTINGS.items() if name in deployed_settings()}
    settings = shipped | {"listen_addresses": "'127.0.0.1'", "huge_pages": "off"}
    cluster = TempCluster()
    cluster.settings = settings
    with cluster:
        with psycopg.connect(cluster.url(), autocommit=True) as conn, conn.cursor() as cur:
            assert findings(read_settings(cur), needed=18) == []
            for change in (
                "fsync = off",
                "full_page_writes = off",
                "wal_compression = off",
                "max_wal_size = '1GB'",
                "checkpoint_timeout = '5min'",
            ):
                cur.execute(f"ALTER SYSTEM SET {change}")
            cur.execute("SELECT pg_reload_conf()")
        with psycopg.connect(cluster.url(), autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
            found = ids(findings(read_settings(cur), needed=18))
    assert found == {
        "kattoo.E101",
        "kattoo.E102",
        "kattoo.E103",
        "kattoo.W104",
        "kattoo.W105",
        "kattoo.W106",
    }


@pytest.mark.django_db
def test_check_deploy_database_runs_it() -> None:
    """``manage.py check --deploy --database default`` (the deployment guide's step) reaches
    the check, and says of the embedded SQLite that it is no deployment's database."""
    out, err = StringIO(), StringIO()
    try:
        call_command(
            "check",
            "--deploy",
            "--database",
            "default",
            "--tag",
            "database",
            stdout=out,
            stderr=err,
        )
    except SystemCheckError as refused:  # a test server run with fsync off, say
        err.write(str(refused))
    said = out.getvalue() + err.getvalue()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            expected = ids(findings(read_settings(cursor), needed=0))
        assert all(i in said for i in expected)
        assert "kattoo.W100" not in said
    else:
        assert "kattoo.W100" in said
