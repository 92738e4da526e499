"""Autovacuum held off the opening's tables while the crowd registers (ADR 0062).

Every ANALYZE or VACUUM of a table the registration statements read or write rewrites the
table's row in ``pg_class``, and that invalidates the statements' cached plans on every
connection: each plans them again on its next registration. At the opening the seven tables
below grow by a cohort in minutes, so autovacuum's default thresholds (50 rows + 10 % for
ANALYZE, 1,000 + 20 % for an insert VACUUM) have it process each of them at every visit, once
a minute. Two such visits in a two-minute opening on 256 connections made 3,800 plans more
and cost 2-3 % of the held database's throughput (docs/performance.md, session 31), at the
moment the crowd is largest; the app, borrowing a connection per statement, runs the opening
on fewer connections (ADR 0050), so that is an upper bound. A re-plan also has no guard
(below).

So from ``before()`` a stage opens until the configured minutes after it (campaign data: the
active campaign's stage times; ``KATTOO_OPENING_HOLD_MINUTES``), the minute timer
(``manage.py opening_hold``) raises the three thresholds of these tables to ``HELD_THRESHOLD``
changes, and gives them back (``RESET``) once the window has passed: autovacuum's next visit
then analyzes and vacuums the tables once, with the opening's rows in them.

The hold's own ``ALTER TABLE`` invalidates the cached plans too, once, and a plan made again
after an invalidation is made without ``fastpath._index_plan``'s guard (sequential scans off
for a connection's first executions of a statement, ADR 0037): on the physically empty
tables of a first campaign it could scan them, and keep doing so for the whole window. So the
hold starts longer before the opening than a pooled connection lives (psycopg_pool's
``max_lifetime``, an hour) and the timer's minute. The connections the opening uses were
opened after the hold, and their first plans are guarded; one opened before it has expired,
and the pool closes it when it gets it back (at most one statement of the opening on it).

``HELD_THRESHOLD`` is above any table's growth in an opening (the national cohort is ~290,000
drafts), and not infinite: if the timer stopped inside the window, autovacuum would still come
after a million changes. Anti-wraparound vacuums do not look at these thresholds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from django.db import connection, connections, transaction

from kattoo.audit.models import AuditEvent
from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.notifications.models import Notification

from .models import Application, ApplicationTransition, Draft, IdempotencyRecord, SeatPool

# psycopg_pool's own default, which config/settings/production.py states.
POOL_LIFETIME_S = 3600.0
# The timer's minute and a few failed runs of it.
MARGIN = dt.timedelta(minutes=10)
HELD_THRESHOLD = 1_000_000
HELD_OPTIONS = (
    "autovacuum_analyze_threshold",
    "autovacuum_vacuum_threshold",
    "autovacuum_vacuum_insert_threshold",
)
# A table that waits for a lock longer than this fails the run; the next minute tries again.
LOCK_TIMEOUT = "10s"


def hot_tables() -> list[str]:
    """The tables a registration writes (bench/sqlpath.py's statements): the draft it deletes,
    the pool it takes a seat from, and the rows it inserts."""
    models = (
        Application,
        ApplicationTransition,
        Draft,
        IdempotencyRecord,
        SeatPool,
        AuditEvent,
        Notification,
    )
    return [model._meta.db_table for model in models]


@dataclass(frozen=True, slots=True)
class Opening:
    campaign: str
    stage: int
    at: dt.datetime
    until: dt.datetime


@dataclass(frozen=True, slots=True)
class Hold:
    """What one run found and did. ``state``: "held", "released" or "unsupported" (a database
    other than PostgreSQL: SQLite has no autovacuum)."""

    state: Literal["held", "released", "unsupported"]
    opening: Opening | None = None
    changed: list[str] = field(default_factory=list)


def hold_minutes() -> int:
    return int(settings.KATTOO_OPENING_HOLD["AFTER_MINUTES"])


def before() -> dt.timedelta:
    """How long before a stage opens the hold starts: longer than a pooled connection lives,
    so that no connection the opening uses has a plan the hold's ALTER TABLE invalidates."""
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    lifetime = pool.get("max_lifetime", POOL_LIFETIME_S) if isinstance(pool, dict) else None
    return dt.timedelta(seconds=float(lifetime or POOL_LIFETIME_S)) + MARGIN


def current_opening(now: dt.datetime | None = None) -> Opening | None:
    """The active campaign's stage opening whose window holds ``now``, if any."""
    after = dt.timedelta(minutes=hold_minutes())
    if after <= dt.timedelta(0):
        return None
    now = now or clock.now()
    lead = before()
    campaign = Campaign.objects.filter(is_active=True).first()
    if campaign is None:
        return None
    for stage, at in ((1, campaign.stage1_starts_at), (2, campaign.stage2_starts_at)):
        if at - lead <= now < at + after:
            return Opening(campaign=campaign.code, stage=stage, at=at, until=at + after)
    return None


def held_tables() -> list[str]:
    """The hot tables whose thresholds are this module's (PostgreSQL)."""
    ours = {f"{option}={HELD_THRESHOLD}" for option in HELD_OPTIONS}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class"
            " WHERE relnamespace = current_schema()::regnamespace AND relname = ANY(%s)",
            [hot_tables()],
        )
        return sorted(name for name, options in cursor.fetchall() if ours <= set(options or []))


def opening_hold(*, now: dt.datetime | None = None, actor: Actor | None = None) -> Hold:
    """Hold the hot tables' autovacuum inside an opening's window, give it back outside;
    changes nothing when the tables are already as the window wants them (safe to repeat).
    Each change is one transaction with its audit record."""
    if connection.vendor != "postgresql":
        return Hold(state="unsupported")
    opening = current_opening(now)
    tables = hot_tables()
    with transaction.atomic():
        held = set(held_tables())
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            # ALTER TABLE refuses a table with deferred checks pending in this transaction
            # (when called inside a caller's transaction that wrote to it): check them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            if opening is not None:
                changed = [t for t in tables if t not in held]
                options = ", ".join(f"{o} = {HELD_THRESHOLD}" for o in HELD_OPTIONS)
                for table in changed:
                    cursor.execute(f'ALTER TABLE "{table}" SET ({options})')
            else:
                changed = [t for t in tables if t in held]
                for table in changed:
                    cursor.execute(f'ALTER TABLE "{table}" RESET ({", ".join(HELD_OPTIONS)})')
        if changed:
            data: dict[str, object] = {"tables": changed}
            if opening is not None:
                data |= {
                    "campaign": opening.campaign,
                    "stage": opening.stage,
                    "opens_at": opening.at.isoformat(),
                    "until": opening.until.isoformat(),
                }
            audit_record(
                actor=actor or Actor.system(),
                action="database.autovacuum_held" if opening else "database.autovacuum_released",
                object_type="database.table",
                data=data,
            )
    return Hold(state="held" if opening else "released", opening=opening, changed=changed)


def not_owned(alias: str = "default") -> list[str]:
    """The hot tables the connection's role may not ALTER (it neither owns them nor is a member
    of the role that does): the hold would fail on them."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class"
            " WHERE relnamespace = current_schema()::regnamespace AND relname = ANY(%s)"
            " AND NOT pg_has_role(current_user, relowner, 'USAGE') ORDER BY relname",
            [hot_tables()],
        )
        return [name for (name,) in cursor.fetchall()]


@register(Tags.database, deploy=True)
def the_hold_can_alter_the_tables(
    app_configs: Iterable[Any] | None = None,
    databases: Iterable[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """``manage.py check --deploy --database default`` (the evening before the opening,
    docs/runbooks/campaign.md step 7): the minute timer's hold needs the app's role to own the
    registration's tables, as it does when it runs ``migrate``."""
    out: list[CheckMessage] = []
    for alias in databases or ():
        if connections[alias].vendor != "postgresql":
            continue  # kattoo.W100 says a deployment runs on PostgreSQL
        if missing := not_owned(alias):
            out.append(
                Warning(
                    f"The database role cannot ALTER {', '.join(missing)}: the minute timer's"
                    " opening_hold would fail on them and autovacuum would visit them during"
                    " the opening.",
                    hint="Run the app as the role that owns the tables (the one that migrates),"
                    " or GRANT that role to it; ADR 0062.",
                    id="kattoo.W109",
                )
            )
    return out
