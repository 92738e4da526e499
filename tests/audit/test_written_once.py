"""Audit events are written once (audit migration 0008, ADR 0039): PostgreSQL refuses any
UPDATE or DELETE of them, through the ORM or in SQL, and changes nothing; writing, sealing and
verifying go on as before."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from kattoo.audit.chain import GRACE, audit_seal, audit_verify
from kattoo.audit.models import AuditEvent
from kattoo.audit.services import audit_record
from kattoo.core import clock
from kattoo.core.actors import Actor

from ..conftest import audit_tampering

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="the trigger is PostgreSQL's (migration 0008)"
    ),
]

AT = clock.bishkek(2026, 4, 1, 10, 0)


@pytest.fixture
def trail() -> list[AuditEvent]:
    system = Actor.system()
    with clock.frozen(AT):
        return [
            audit_record(actor=system, action="test.event", object_type="t", object_id=str(i))
            for i in range(3)
        ]


def _as_written() -> list[dict]:
    return list(AuditEvent.objects.order_by("pk").values())


@pytest.mark.parametrize(
    "change",
    [
        lambda e: AuditEvent.objects.filter(pk=e.pk).update(action="edited"),
        lambda e: AuditEvent.objects.filter(pk=e.pk).delete(),
        lambda e: e.save(),  # an ORM save of a loaded event is an UPDATE
        lambda e: AuditEvent.objects.filter(pk=-1).update(action="x"),  # even of no row
    ],
    ids=["update", "delete", "save", "update-nothing"],
)
def test_an_event_cannot_be_changed_or_deleted(trail, change) -> None:
    before = _as_written()
    with pytest.raises(IntegrityError, match="audit events are written once"), transaction.atomic():
        change(trail[1])
    assert _as_written() == before


def test_in_sql_too(trail) -> None:
    before = _as_written()
    for sql, params in (
        ("UPDATE audit_auditevent SET data = '{}'::jsonb", []),
        ("DELETE FROM audit_auditevent WHERE id = %s", [trail[0].pk]),
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert _as_written() == before


def test_writing_sealing_and_verifying_go_on(trail) -> None:
    with clock.frozen(AT + GRACE + dt.timedelta(seconds=1)):
        assert audit_seal() == 3
        audit_record(actor=Actor.system(), action="test.event", object_type="t", object_id="more")
    assert audit_verify().intact
    assert AuditEvent.objects.count() == 4


def test_the_owner_can_still_switch_it_off_and_the_chain_then_tells(trail) -> None:
    with clock.frozen(AT + GRACE + dt.timedelta(seconds=1)):
        audit_seal()
    with audit_tampering():
        AuditEvent.objects.filter(pk=trail[1].pk).update(action="edited")
    assert audit_verify().first_broken == trail[1].pk
    with pytest.raises(IntegrityError), transaction.atomic():  # on again
        AuditEvent.objects.filter(pk=trail[2].pk).delete()
