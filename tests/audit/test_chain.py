"""The audit trail is tamper-evident: sealed events form a hash chain that a command verifies."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from kattoo.audit.chain import GRACE, audit_seal, audit_verify
from kattoo.audit.models import AuditEvent
from kattoo.audit.services import audit_record
from kattoo.core import clock
from kattoo.core.actors import Actor

from ..conftest import audit_tampering

SYSTEM = Actor.system()


@pytest.fixture
def events():
    with clock.frozen(clock.bishkek(2026, 4, 1, 10, 0)):
        rows = [
            audit_record(
                actor=SYSTEM, action="test.event", object_type="t", object_id=str(i), data={"n": i}
            )
            for i in range(5)
        ]
    return rows


def later():
    return clock.frozen(clock.bishkek(2026, 4, 1, 10, 0) + GRACE + dt.timedelta(seconds=1))


def test_seal_then_verify(events) -> None:
    with clock.frozen(clock.bishkek(2026, 4, 1, 10, 0)):
        assert audit_seal() == 0  # within the grace period: still maybe in flight
    with later():
        assert audit_seal() == 5
        assert audit_seal() == 0
    report = audit_verify()
    assert report.intact and report.checked == 5
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "intact" in out.getvalue()


def test_an_edited_event_is_named(events) -> None:
    with later():
        audit_seal()
    with audit_tampering():
        AuditEvent.objects.filter(pk=events[2].pk).update(data={"n": 999})
    assert audit_verify().first_broken == events[2].pk
    with pytest.raises(CommandError, match=str(events[2].pk)):
        call_command("audit_verify", stdout=io.StringIO())


def test_a_deleted_event_breaks_the_chain(events) -> None:
    with later():
        audit_seal()
    with audit_tampering():
        AuditEvent.objects.filter(pk=events[1].pk).delete()
    assert audit_verify().first_broken == events[2].pk


def test_deleting_the_newest_sealed_events_is_seen(events) -> None:
    with later():
        audit_seal()
    with audit_tampering():
        AuditEvent.objects.filter(pk=events[4].pk).delete()
    assert not audit_verify().intact


def test_the_seal_continues_where_it_stopped(events) -> None:
    with later():
        audit_seal()
        more = audit_record(actor=SYSTEM, action="test.event", object_type="t", object_id="x")
    with clock.frozen(clock.now() + dt.timedelta(minutes=5)):
        assert audit_seal() == 1
    more.refresh_from_db()
    assert more.chain_hash and audit_verify().intact


def test_an_event_in_its_grace_time_stops_the_seal_and_none_is_skipped(events) -> None:
    """An event written with a clock behind an earlier id's (a backdated demo step) must not
    let the head pass the earlier, still-recent event and leave it unsealed for ever."""
    with clock.frozen(clock.bishkek(2026, 4, 1, 10, 0) + dt.timedelta(hours=1)):
        recent = audit_record(actor=SYSTEM, action="test.event", object_type="t", object_id="r")
    with clock.frozen(clock.bishkek(2026, 4, 1, 10, 0)):
        audit_record(actor=SYSTEM, action="test.event", object_type="t", object_id="backdated")
    with later():
        assert audit_seal() == 5  # stops at the recent event, not at the backdated one after it
        assert audit_verify().intact
    with clock.frozen(clock.bishkek(2026, 4, 1, 11, 0) + GRACE + dt.timedelta(seconds=1)):
        assert audit_seal() == 2
    recent.refresh_from_db()
    assert recent.chain_hash and audit_verify().intact


def test_a_sealed_event_is_never_rewritten_and_its_deletion_is_named_twice(events) -> None:
    """ADR 0039: the link is a row of its own; the event row is as it was written. A deleted
    sealed event leaves its link behind: the chain breaks and the integrity check names it."""
    from kattoo.audit.models import AuditSeal
    from kattoo.enrollment.integrity import integrity_orphans

    before = list(AuditEvent.objects.order_by("pk").values())
    with later():
        assert audit_seal() == 5
    assert list(AuditEvent.objects.order_by("pk").values()) == before
    assert AuditSeal.objects.count() == 5
    assert [e.chain_hash for e in AuditEvent.objects.select_related("seal").order_by("pk")] == list(
        AuditSeal.objects.order_by("event_id").values_list("hash", flat=True)
    )
    with audit_tampering():
        AuditEvent.objects.filter(pk=events[1].pk).delete()
    assert audit_verify().first_broken == events[2].pk
    orphans = [o for o in integrity_orphans() if o.table == "audit_auditseal"]
    assert orphans and orphans[0].count == 1


def test_a_lost_link_below_the_head_is_named(events) -> None:
    from kattoo.audit.models import AuditSeal

    with later():
        audit_seal()
    AuditSeal.objects.filter(event_id=events[3].pk).delete()
    report = audit_verify()
    assert not report.intact and report.unsealed_below_head == [events[3].pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_of_a_transaction_still_open_is_not_left_behind_by_the_head() -> None:
    """An event's id is taken when it is written and seen when its transaction commits: a
    long transaction (a catalog import, a quota run) must not see a later event sealed past
    its own and its own left unsealed below the head for ever."""
    import psycopg
    from django.db import connection

    from ..conftest import pg_params

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    with psycopg.connect(**pg_params()) as long_one:  # a transaction, open until commit()
        early = long_one.execute(
            "INSERT INTO audit_auditevent (at, channel, action, object_type, object_id, data,"
            " request_id) VALUES (now(), 'cli', 'catalog.import', 'catalog', '', '{}', '')"
            " RETURNING id"
        ).fetchone()[0]
        late = audit_record(actor=SYSTEM, action="test.event", object_type="t", object_id="late")
        assert late.pk > early
        with clock.frozen(clock.now() + GRACE + dt.timedelta(minutes=5)):
            assert audit_seal() == 0  # the later event waits for the open transaction
        long_one.commit()
    with clock.frozen(clock.now() + GRACE + dt.timedelta(minutes=5)):
        assert audit_seal() == 2
    report = audit_verify()
    assert report.intact and report.checked == 2 and not report.unsealed_below_head


def test_the_verifier_reads_each_event_as_the_seal_wrote_it() -> None:
    """The seal hashes model instances and the verifier rows of values (ADR 0012, "Later"): the
    same link for text in Kyrgyz, nested data, no actor, a time with and without microseconds."""
    from kattoo.audit.chain import FIELDS, event_digest, row_digest

    with clock.frozen(clock.bishkek(2026, 4, 1, 10, 0)):
        audit_record(actor=SYSTEM, action="test.event", object_type="t", object_id="ө")
    with clock.frozen(clock.bishkek(2026, 4, 1, 10, 0) + dt.timedelta(microseconds=120)):
        audit_record(
            actor=SYSTEM,
            action="test.event",
            object_type="t",
            object_id="ң",
            data={"name": "Үмөт", "list": [1, {"b": None, "a": 2.5}], "ok": True},
        )
    with later():
        assert audit_seal() == 2
    rows = list(AuditEvent.objects.order_by("pk").values_list(*FIELDS))
    events = list(AuditEvent.objects.order_by("pk"))
    previous = ""
    for row, event in zip(rows, events, strict=True):
        assert row_digest(previous, row) == event_digest(previous, event) == event.chain_hash
        previous = event.chain_hash
    assert audit_verify().intact and audit_verify().checked == 2
