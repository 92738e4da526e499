"""Reads of the audit trail (§7) for the ministry's viewer: filters, newest-first keyset pages,
and where an event's object has a page of its own.

The table grows by several rows per registration (millions in a campaign), so pages are keyset
pages over the id (``id < cursor ORDER BY id DESC``), never OFFSET, and every filter the viewer
offers is served by an index (audit/models.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

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
    if f.since:
        events = events.filter(at__gte=_midnight(f.since))
    if f.until:
        events = events.filter(at__lt=_midnight(f.until + dt.timedelta(days=1)))
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
