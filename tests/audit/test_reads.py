"""Reads, exports and refused attempts go into the same trail as the writes: the helpers keep
ids, counts and filters only (PIN-like text masked), and the sealed chain still verifies —
and still catches an edited read row."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from kattoo.audit.chain import GRACE, audit_seal, audit_verify
from kattoo.audit.models import AuditEvent
from kattoo.audit.reads import EXPORT, READ, audit_download, audit_read
from kattoo.audit.refusals import REFUSED, audit_refusal
from kattoo.audit.services import audit_record
from kattoo.audit_viewer.selectors import AuditFilter, audit_events
from kattoo.core import clock
from kattoo.core.actors import Actor

from ..conftest import audit_tampering
from ..factories import SchoolFactory, UserFactory

AT = clock.bishkek(2026, 4, 1, 10, 0)
PIN = "21203201900123"


@pytest.fixture
def mixed():
    """A write, a read, an export and a refusal."""
    school = SchoolFactory()
    director = Actor(user=UserFactory(role="school", school=school), channel="web")
    parent = Actor(user=None, channel="api")  # whoever: the row is what matters here
    with clock.frozen(AT):
        return [
            audit_record(actor=director, action="teacher.add", obj=school),
            audit_read(
                actor=director,
                what="applications",
                obj=school,
                school=school.pk,
                count=12,
                filters={"status": "registered", "language": "", "q": f"child {PIN}"},
            ),
            audit_download(
                actor=director, what="kundoluk", file_format="csv", obj=school, school=school.pk
            ),
            audit_refusal(
                actor=parent,
                code="not_in_microdistrict",
                attempt="register",
                child=7,
                school=school.pk,
                language="ky",
            ),
        ]


def test_a_read_keeps_ids_counts_and_masked_filters(mixed) -> None:
    _write, read, export, refusal = mixed
    school = read.object_id
    assert (read.action, read.object_type) == (READ, "catalog.school")
    assert read.data == {
        "what": "applications",
        "school": int(school),
        "count": 12,
        "filters": {"status": "registered", "q": "child 2**********123"},
    }
    assert PIN not in str(read.data)
    assert (export.action, export.data) == (
        EXPORT,
        {"what": "kundoluk", "format": "csv", "school": int(school)},
    )
    assert (refusal.action, refusal.object_type, refusal.object_id) == (
        REFUSED,
        "people.person",
        "7",
    )
    assert refusal.data == {
        "code": "not_in_microdistrict",
        "attempt": "register",
        "school": int(school),
        "language": "ky",
    }


def test_the_viewer_filters_reads_exports_and_refusals(mixed) -> None:
    school = int(mixed[1].object_id)
    assert [e.pk for e in audit_events(AuditFilter(action=READ))] == [mixed[1].pk]
    assert [e.pk for e in audit_events(AuditFilter(action=EXPORT))] == [mixed[2].pk]
    assert [e.pk for e in audit_events(AuditFilter(action=REFUSED))] == [mixed[3].pk]
    by_school = audit_events(AuditFilter(school=school)).order_by("pk")
    assert [e.pk for e in by_school] == [e.pk for e in mixed]  # with the write on the school


def test_the_chain_seals_and_verifies_with_reads_included(mixed) -> None:
    with clock.frozen(AT + GRACE + dt.timedelta(seconds=1)):
        assert audit_seal() == 4
    report = audit_verify()
    assert report.intact and report.checked == 4
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "intact: 4 events" in out.getvalue()
    # A read row edited afterwards (its count lowered to hide a bulk export) is named.
    with audit_tampering():
        AuditEvent.objects.filter(pk=mixed[1].pk).update(data={**mixed[1].data, "count": 1})
    assert audit_verify().first_broken == mixed[1].pk
    with pytest.raises(CommandError, match=f"first bad event {mixed[1].pk}"):
        call_command("audit_verify")


def test_a_deleted_refusal_breaks_the_chain(mixed) -> None:
    with clock.frozen(AT + GRACE + dt.timedelta(seconds=1)):
        audit_seal()
    with audit_tampering():
        AuditEvent.objects.filter(pk=mixed[3].pk).delete()
    assert not audit_verify().intact


def test_a_refusals_variant_is_kept() -> None:
    row = audit_refusal(
        actor=Actor(user=None, channel="web"),
        code="outside_birth_window",
        variant="too_young",
        attempt="draft_save",
        child=3,
    )
    assert row.data == {
        "code": "outside_birth_window",
        "variant": "too_young",
        "attempt": "draft_save",
    }
