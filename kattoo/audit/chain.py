"""The tamper-evident audit trail (§7): every event, once sealed, has its link in the chain (an
``AuditSeal`` row): a SHA-256 over its own content and the previous sealed event's hash. The
event row itself is never changed after it is written (ADR 0039).

Sealing runs apart from the writes (``manage.py audit_seal``, from a timer), so the
registration statement never waits on a global chain lock. It seals, in id order, the events
older than a grace period, continuing from the chain's head — and, on PostgreSQL, only those
written before every transaction still writing began (``_oldest_writer``): an event's id is
taken when it is written, but it is seen only when its transaction commits, so a catalog
import or a quota run open for minutes would otherwise see later events sealed past its own
and the head leave them behind, unsealed for ever. ``manage.py audit_verify`` recomputes the
chain and names the first event that does not match — an edited or deleted row — and any
event left unsealed below the head.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from kattoo.core import clock

from .models import AuditChainHead, AuditEvent, AuditSeal

GRACE = dt.timedelta(seconds=30)


# An event's content, in the order its digest reads it (``row_digest``).
FIELDS = (
    "pk",
    "at",
    "actor_id",
    "channel",
    "action",
    "object_type",
    "object_id",
    "data",
    "request_id",
)
_encode = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
).encode


def row_digest(previous: str, row: tuple[Any, ...]) -> str:
    """The link of an event given as its ``FIELDS`` values: SHA-256 over the previous link and
    the event's content as canonical JSON (its time in ISO 8601)."""
    content = _encode([row[0], row[1].isoformat(), *row[2:9]])
    return hashlib.sha256(f"{previous}\n{content}".encode()).hexdigest()


def event_digest(previous: str, event: AuditEvent) -> str:
    return row_digest(previous, tuple(getattr(event, name) for name in FIELDS))


# Between an event's time (``clock.now()`` when it is recorded) and its id (taken by its
# INSERT, at once): a transaction that began this long after an event's time cannot hold an
# id below that event's.
WRITE_MARGIN = dt.timedelta(seconds=5)


def _oldest_writer() -> dt.datetime | None:
    """When the oldest transaction still writing to this database began (one with a
    transaction id; read-only ones, a backup's included, take no event id), other than this
    one; ``None`` when there is none, or on SQLite, whose one writer at a time cannot leave an
    id behind a later one."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(xact_start) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_xid IS NOT NULL"
        )
        row = cursor.fetchone()
    return row[0] if row else None


@transaction.atomic
def audit_seal(*, batch: int = 5000) -> int:
    """Seal the next events; returns how many. Safe to run from several nodes at once."""
    head, _created = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    cutoff = clock.now() - GRACE
    writing_since = _oldest_writer()
    if writing_since is not None:
        cutoff = min(cutoff, writing_since - WRITE_MARGIN)
    # A contiguous run of ids from the head, stopping at the first event still in its grace
    # time or written after a transaction still writing began: the head never passes an event
    # left unsealed (one written with a clock behind another's, e.g. the demo's quotas
    # computed "three days before the lock", or one its transaction has not committed yet).
    events: list[AuditEvent] = []
    for event in AuditEvent.objects.filter(pk__gt=head.last_event_id).order_by("pk")[:batch]:
        if event.at >= cutoff:
            break
        events.append(event)
    previous = head.last_hash
    seals = []
    for event in events:
        previous = event_digest(previous, event)
        seals.append(AuditSeal(event_id=event.pk, hash=previous))
    # One narrow row per event; the event itself is never rewritten (ADR 0039). A link left
    # above the head (a restore of an older head beside newer rows) is replaced, as the column
    # it once was would have been.
    AuditSeal.objects.bulk_create(
        seals,
        batch_size=1000,
        update_conflicts=True,
        update_fields=["hash"],
        unique_fields=["event"],
    )
    if events:
        head.last_event_id, head.last_hash, head.sealed_at = events[-1].pk, previous, clock.now()
        head.save()
    return len(events)


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int
    first_broken: int | None  # id of the first event whose hash does not match
    unsealed_below_head: list[int]

    @property
    def intact(self) -> bool:
        return self.first_broken is None and not self.unsealed_below_head


def audit_verify() -> ChainReport:
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        return ChainReport(0, None, [])
    previous, checked, broken = "", 0, None
    # Tuples, not model instances: the check's own cost is the digest (ADR 0012, "Later").
    sealed = (
        AuditEvent.objects.filter(pk__lte=head.last_event_id, seal__isnull=False)
        .order_by("pk")
        .values_list(*FIELDS, "seal__hash")
    )
    for row in sealed.iterator(chunk_size=5000):
        checked += 1
        if row[9] != row_digest(previous, row):
            broken = row[0]
            break
        previous = row[9]
    if broken is None and previous != head.last_hash:
        broken = head.last_event_id  # the last sealed events were deleted
    unsealed = list(
        AuditEvent.objects.filter(pk__lte=head.last_event_id, seal__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:100]
    )
    return ChainReport(checked, broken, unsealed)


@dataclass(frozen=True, slots=True)
class EventSeal:
    """Where one event stands in the chain, for the viewer: sealed or still waiting, whether
    its own link holds, and whether the chain holds from it up to the latest seal."""

    sealed: bool
    own_link_ok: bool | None  # None while unsealed
    checked: int  # events verified from this one on
    reached_head: bool  # the check went all the way to the latest seal
    first_broken: int | None
    sealed_at: dt.datetime | None

    @property
    def intact_to_head(self) -> bool:
        return self.reached_head and self.first_broken is None


def event_seal(event: AuditEvent, *, limit: int = 20_000) -> EventSeal:
    """Verify the chain from ``event`` to the head, at most ``limit`` events (the full chain is
    ``audit_verify``'s job): recomputes this event's hash from its predecessor's and every
    later link, and compares the end with the head's hash."""
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None or event.pk > head.last_event_id:
        return EventSeal(False, None, 0, False, None, head.sealed_at if head else None)
    before = (
        AuditEvent.objects.filter(pk__lt=event.pk, seal__isnull=False)
        .order_by("-pk")
        .values_list("seal__hash", flat=True)
        .first()
    )
    previous, checked, broken = before or "", 0, None
    segment = (
        AuditEvent.objects.filter(pk__gte=event.pk, pk__lte=head.last_event_id)
        .order_by("pk")
        .values_list(*FIELDS, "seal__hash")[:limit]
    )
    for row in segment.iterator(chunk_size=2000):
        checked += 1
        link = row[9] or ""  # an unsealed event below the head: its link is missing
        if link != row_digest(previous, row):
            broken = row[0]
            break
        previous = link
    reached = broken is not None or checked < limit or previous == head.last_hash
    if broken is None and reached and previous != head.last_hash:
        broken = head.last_event_id  # the last sealed events were deleted
    own_ok = broken != event.pk
    return EventSeal(True, own_ok, checked, reached, broken, head.sealed_at)
