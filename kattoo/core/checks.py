"""Is the database server ready for the opening? (ADR 0042.)

``manage.py check --deploy --database default`` reads the settings the app's own connection
sees (``pg_settings``: a per-role or per-database override included) and compares them with
``deploy/postgres/kattoo.conf``:

- an **error** for a setting that can lose a registration already answered 201 in a crash
  (``fsync``, ``synchronous_commit``, ``full_page_writes`` off): the project's first promise;
- a **warning** for one that costs the opening minute: no WAL compression, a checkpoint forced
  within the opening's WAL or minutes, too little shared memory, fewer connections than this
  node's own pool needs.

On SQLite (the embedded default, ``make run``) there is nothing to compare: the deployment
check says so, as a production database must be PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import connections

GUIDE = "deploy/postgres/kattoo.conf and docs/deployment.md step 4"

# The least each setting may be before the check warns; the file recommends more (8GB,
# 15min, 1GB): at ~6.3 kB per registration (docs/performance.md) the national cohort writes
# about 2 GB of WAL, and PostgreSQL forces a checkpoint every max_wal_size / (1 +
# checkpoint_completion_target) of it.
MIN_MAX_WAL_MB = 4096
MIN_CHECKPOINT_TIMEOUT_S = 600
MIN_SHARED_BUFFERS_MB = 512
SPARE_CONNECTIONS = 10  # the task worker, the timers, kattoo-manage (deploy/kattoo.env.example)

# pg_settings' units, in megabytes (memory) or seconds (time).
_UNITS = {"8kB": 8 / 1024, "kB": 1 / 1024, "MB": 1.0, "s": 1.0, "ms": 1 / 1000, "min": 60.0}

_READ = (
    "SELECT name, setting, unit FROM pg_settings WHERE name IN ("
    "'fsync', 'synchronous_commit', 'full_page_writes', 'wal_compression', 'max_wal_size',"
    " 'checkpoint_timeout', 'checkpoint_completion_target', 'shared_buffers',"
    " 'max_connections')"
)


def read_settings(cursor: Any) -> dict[str, tuple[str, str | None]]:
    """``{name: (setting, unit)}`` as the cursor's connection sees them."""
    cursor.execute(_READ)
    return {name: (setting, unit) for name, setting, unit in cursor.fetchall()}


def _amount(value: tuple[str, str | None]) -> float:
    setting, unit = value
    return float(setting) * _UNITS.get(unit or "", 1.0)


def connections_needed() -> int:
    """This node's connections at most: its web processes (``KATTOO_WEB_PROCESSES``, the
    kattoo-web@PORT instances, ADR 0058) × each one's pool, plus the spare ones (the other
    nodes are not known here; the file's comment says how to count them)."""
    pool: Mapping[str, Any] = settings.DATABASES["default"].get("OPTIONS", {}).get("pool") or {}
    per_process = int(pool.get("max_size", 1)) if pool else 1
    processes = int(os.environ.get("KATTOO_WEB_PROCESSES", "1") or 1)
    return processes * per_process + SPARE_CONNECTIONS


def findings(values: Mapping[str, tuple[str, str | None]], *, needed: int) -> list[CheckMessage]:
    """The errors and warnings for the settings ``values`` (``read_settings``' shape)."""
    out: list[CheckMessage] = []
    lost = "a crash can lose registrations already answered 201"
    for name, code in (("fsync", "E101"), ("full_page_writes", "E103")):
        if values.get(name, ("on", None))[0] != "on":
            out.append(Error(f"PostgreSQL {name} is off: {lost}.", hint=GUIDE, id=f"kattoo.{code}"))
    if values.get("synchronous_commit", ("on", None))[0] == "off":
        out.append(
            Error(
                f"PostgreSQL synchronous_commit is off: {lost} (up to three WAL writer rounds).",
                hint=GUIDE,
                id="kattoo.E102",
            )
        )
    if values.get("wal_compression", ("lz4", None))[0] in ("off", "false", "0"):
        out.append(
            Warning(
                "PostgreSQL wal_compression is off: the full-page images after each checkpoint"
                " are most of a registration's WAL; lz4 writes about a third less (ADR 0030).",
                hint=GUIDE,
                id="kattoo.W104",
            )
        )
    if "max_wal_size" in values and _amount(values["max_wal_size"]) < MIN_MAX_WAL_MB:
        completion = float(values.get("checkpoint_completion_target", ("0.9", None))[0])
        every = _amount(values["max_wal_size"]) / (1 + completion)
        out.append(
            Warning(
                f"PostgreSQL max_wal_size is {_amount(values['max_wal_size']):.0f} MB:"
                f" a checkpoint is forced about every {every:.0f} MB of WAL, several times in"
                " the opening, and each one makes the pages written next go into the WAL"
                " whole again. Set 8GB (at least 4GB).",
                hint=GUIDE,
                id="kattoo.W105",
            )
        )
    if (
        "checkpoint_timeout" in values
        and _amount(values["checkpoint_timeout"]) < MIN_CHECKPOINT_TIMEOUT_S
    ):
        out.append(
            Warning(
                f"PostgreSQL checkpoint_timeout is {_amount(values['checkpoint_timeout']):.0f} s:"
                " a timed checkpoint falls inside the opening's minutes. Set 15min"
                " (at least 10min).",
                hint=GUIDE,
                id="kattoo.W106",
            )
        )
    if "shared_buffers" in values and _amount(values["shared_buffers"]) < MIN_SHARED_BUFFERS_MB:
        out.append(
            Warning(
                f"PostgreSQL shared_buffers is {_amount(values['shared_buffers']):.0f} MB: set a"
                " quarter of the machine's memory (at least 512MB).",
                hint=GUIDE,
                id="kattoo.W107",
            )
        )
    if "max_connections" in values and int(values["max_connections"][0]) < needed:
        out.append(
            Warning(
                f"PostgreSQL max_connections is {values['max_connections'][0]}: this node alone"
                f" may open {needed} (KATTOO_WEB_PROCESSES x KATTOO_DB_POOL_MAX"
                f" + {SPARE_CONNECTIONS}); count every node's.",
                hint=GUIDE,
                id="kattoo.W108",
            )
        )
    return out


@register(Tags.database, deploy=True)
def database_ready_for_the_opening(
    app_configs: Iterable[Any] | None = None,
    databases: Iterable[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    out: list[CheckMessage] = []
    for alias in databases or ():
        if connections[alias].vendor != "postgresql":
            out.append(
                Warning(
                    f"Database {alias!r} is {connections[alias].vendor}, the embedded default:"
                    " a deployment runs on PostgreSQL (DATABASE_URL).",
                    hint=GUIDE,
                    id="kattoo.W100",
                )
            )
            continue
        with connections[alias].cursor() as cursor:
            values = read_settings(cursor)
        out += findings(values, needed=connections_needed())
    return out
