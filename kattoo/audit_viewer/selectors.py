"""Reads of the audit trail (§7) for the ministry's viewer: filters, newest-first keyset pages,
and where an event's object has a page of its own.

The table grows by several rows per registration (millions in a campaign), so pages are keyset
pages over the id (``id < cursor ORDER BY id DESC``), never OFFSET, and every filter the viewer
offers is served by an index (audit/models.py).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet

from kattoo.audit.models import AuditEvent
from kattoo.catalog.models import School
from kattoo.core.clock import BISHKEK

CHANNELS = ("api", "web", "cli", "system")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# A CSV export is a working file, not a dump of the table: past this many rows, narrow the filter.
EXPORT_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the viewer narrows to; empty fields do not filter. Dates are days in Asia/Bishkek,
    ``until`` inclusive."""

    since: dt.date | None = None
    until: dt.date | None = None
    action: str = ""
    actor: str = ""  # username
    object_type: str = ""
    object_id: str = ""
    channel: str = ""
    district: int | None = None
    school: int | None = None
    request_id: str = ""


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=BISHKEK)


def _school_events(school_ids: Sequence[int]) -> Q:
    """Events that name a school: in their data (registrations, microdistricts, teachers, …)
    or as their object. Other events (sign-ins, registry refreshes) belong to no school."""
    return Q(data__school__in=list(school_ids)) | Q(
        object_type="catalog.school", object_id__in=[str(pk) for pk in school_ids]
    )


def audit_events(f: AuditFilter) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.select_related("actor", "seal")
    since = _midnight(f.since) if f.since else None
    until = _midnight(f.until + dt.timedelta(days=1)) if f.until else None
    if since:
        events = events.filter(at__gte=since)
    if until:
        events = events.filter(at__lt=until)
    if since or until:
        events = events.filter(_ids_of_period(since, until))
    for field, value in (
        ("action", f.action),
        ("actor__username", f.actor),
        ("object_type", f.object_type),
        ("object_id", f.object_id),
        ("channel", f.channel),
        ("request_id", f.request_id),
    ):
        if value:
            events = events.filter(**{field: value})
    if f.school is not None:
        events = events.filter(_school_events([f.school]))
    if f.district is not None:
        school_ids = list(
            School.objects.filter(district_id=f.district).values_list("pk", flat=True)
        )
        events = events.filter(
            _school_events(school_ids)
            | Q(object_type="catalog.district", object_id=str(f.district))
        )
    return events


# A period holding less than this share of the table is read by the ids it spans.
NARROW_PERIOD = 0.5


def _ids_of_period(since: dt.datetime | None, until: dt.datetime | None) -> Q:
    """The ids of the events of a period, as bounds that change nothing the filter selects
    but where the pages start and stop.

    Pages walk the primary key newest first. For a period far in the past, or one holding
    few events, that walk passes every newer event before the period's first, and every older
    one before it knows the period has no more: seconds on a season's millions, since nothing
    tells PostgreSQL's planner that ids grow with time. So, on PostgreSQL, when the planner's
    estimate says the period holds less than ``NARROW_PERIOD`` of the table, its lowest and
    highest ids are read first through the time's BRIN (ADR 0039: one pass over the period's
    pages only), and the walk runs between them. The bounds are read from the events
    themselves, so an event written with a time earlier than its id (the demo's, a clock
    behind another's) is inside them; a broad period is left to the walk as before."""
    if connection.vendor != "postgresql":
        return Q()
    where = " AND ".join(
        part for part, value in (("at >= %s", since), ("at < %s", until)) if value is not None
    )
    params = [value for value in (since, until) if value is not None]
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} WHERE {where}", params)
        plan = cursor.fetchone()[0]
        estimated = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"]
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        total = cursor.fetchone()[0]
        if total <= 0 or estimated >= total * NARROW_PERIOD:
            return Q()  # never analysed, or a broad period: the walk finds its events soon
        # "id + 0": not min()/max() of the key itself, which PostgreSQL would answer by
        # walking the key — the very walk this avoids.
        cursor.execute(f"SELECT min(id + 0), max(id + 0) FROM {table} WHERE {where}", params)
        low, high = cursor.fetchone()
    if low is None:
        return Q(pk__in=[])
    return Q(pk__gte=low, pk__lte=high)


def audit_page(
    events: QuerySet[AuditEvent], *, before: int | None, limit: int = PAGE_SIZE
) -> tuple[list[AuditEvent], int | None]:
    """One page, newest first, of events older than ``before`` (an id); and the id to pass as
    ``before`` for the next page, or None at the end."""
    size = min(max(limit, 1), MAX_PAGE_SIZE)
    if before is not None:
        events = events.filter(pk__lt=before)
    rows = list(events.order_by("-pk")[: size + 1])
    return rows[:size], (rows[size - 1].pk if len(rows) > size else None)


def audit_export(events: QuerySet[AuditEvent], *, chunk: int = 2000) -> Iterator[AuditEvent]:
    """Every event of a filter, newest first, up to EXPORT_LIMIT, fetched by keyset chunks."""
    before: int | None = None
    sent = 0
    while sent < EXPORT_LIMIT:
        rows, before = audit_page(events, before=before, limit=min(chunk, EXPORT_LIMIT - sent))
        yield from rows
        sent += len(rows)
        if before is None:
            return
