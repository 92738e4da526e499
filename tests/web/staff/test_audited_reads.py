"""§7 "all user actions": every staff page, card and file with children's personal data writes
exactly one audit row (``personal_data.read`` / ``personal_data.export``) holding ids, counts
and filters only — never a child's or a parent's name or PIN."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from kattoo.audit.models import AuditEvent
from kattoo.audit.reads import EXPORT, READ
from kattoo.classes.services import classes_form
from kattoo.core import clock
from kattoo.enrollment.services import application_admit, application_refuse

from ...conftest import SYSTEM
from .conftest import Scene, as_user

AFTER_OPENING = clock.bishkek(2026, 4, 1, 10, 30)


def last_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def personal_rows(since: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=since, action__in=[READ, EXPORT]).order_by("pk"))


def secrets(scene: Scene) -> list[str]:
    """What must never appear in a read's row: the family's PINs and names."""
    people = [scene.family.parent.person, *scene.family.children]
    values = []
    for person in people:
        assert person is not None
        values += [person.pin, person.surname, person.name]
    return values


def only_one(scene: Scene, since: int, action: str, what: str) -> AuditEvent:
    rows = personal_rows(since)
    assert [(r.action, r.data["what"]) for r in rows] == [(action, what)]
    text = json.dumps(rows[0].data, ensure_ascii=False)
    assert not [s for s in secrets(scene) if s in text]
    assert rows[0].channel == "web"
    return rows[0]


def get(client: Client, path: str, **params: Any):
    response = client.get(path, params)
    assert response.status_code == 200, (path, response.status_code)
    return response


def test_the_schools_list_card_and_act(client: Client, scene: Scene) -> None:
    as_user(client, scene.users["school_own"])
    school = scene.world.school
    since = last_id()
    get(client, "/staff/school/children/", status="registered", language="ky")
    row = only_one(scene, since, READ, "applications")
    assert row.object_type == "catalog.school" and row.object_id == str(school.pk)
    assert row.data["school"] == school.pk and row.data["count"] == 1
    assert row.data["filters"] == {"status": "registered", "language": "ky"}

    since = last_id()
    get(client, f"/staff/school/applications/{scene.application.pk}/")
    card = only_one(scene, since, READ, "application")
    assert card.object_type == "enrollment.application"
    assert card.object_id == str(scene.application.pk) and card.data["school"] == school.pk

    since = last_id()
    path = f"/staff/school/applications/{scene.application.pk}/acts/{scene.act.pk}/file/"
    b"".join(get(client, path).streaming_content)
    act = only_one(scene, since, EXPORT, "guardian_act")
    assert act.data["format"] == "pdf" and act.object_id == str(scene.act.pk)


def test_an_htmx_fragment_refresh_writes_no_row(client: Client, scene: Scene) -> None:
    as_user(client, scene.users["school_own"])
    since = last_id()
    client.get("/staff/school/children/", headers={"HX-Request": "true"})
    assert personal_rows(since) == []
    client.get("/staff/school/children/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert len(personal_rows(since)) == 1  # a boosted link is a page view


def test_a_refused_read_writes_no_row(client: Client, scene: Scene) -> None:
    as_user(client, scene.users["school_other"])
    since = last_id()
    response = client.get(f"/staff/school/applications/{scene.application.pk}/")
    assert response.status_code == 404 and personal_rows(since) == []


def test_classes_and_kundoluk_files(client: Client, scene: Scene) -> None:
    world = scene.world
    with clock.frozen(AFTER_OPENING):
        application_admit(application=scene.application, actor=SYSTEM)
    as_user(client, scene.users["school_own"])
    since = last_id()
    get(client, "/staff/school/classes/")
    assert personal_rows(since) == []  # no class formed yet: no child on the page
    classes_form(campaign=world.campaign, school=world.school, language="ky", actor=SYSTEM)

    for path, action, what, file_format in (
        ("/staff/school/classes/", READ, "classes", None),
        ("/staff/school/classes/classes.xlsx", EXPORT, "class_lists", "xlsx"),
        ("/staff/school/classes/classes.pdf", EXPORT, "class_lists", "pdf"),
        ("/staff/school/kundoluk.csv", EXPORT, "kundoluk", "csv"),
    ):
        since = last_id()
        get(client, path)
        row = only_one(scene, since, action, what)
        assert row.data["school"] == world.school.pk and row.data["count"] == 1, path
        assert row.data.get("format") == file_format


def test_the_district_lists(client: Client, scene: Scene) -> None:
    with clock.frozen(AFTER_OPENING):
        application_refuse(
            application=scene.application,
            reason_code="other",
            reason="The parent brought another child's papers.",
            actor=SYSTEM,
        )
    as_user(client, scene.users["district_own"])
    district = scene.world.school.district
    for path, what, count in (
        ("/staff/district/refusals/", "refusals", 1),
        ("/staff/district/commission/", "commission_decisions", 0),
    ):
        since = last_id()
        get(client, path)
        row = only_one(scene, since, READ, what)
        assert row.object_type == "catalog.district" and row.object_id == str(district.pk)
        assert row.data["count"] == count


def test_the_waitlist_and_a_signals_registration(client: Client, scene: Scene) -> None:
    as_user(client, scene.users["district_own"])
    school = scene.world.school
    since = last_id()
    get(client, f"/staff/schools/{school.pk}/waitlist/")
    assert only_one(scene, since, READ, "waitlist").data == {
        "what": "waitlist",
        "school": school.pk,
        "count": 0,
    }
    since = last_id()
    get(client, f"/staff/fraud/applications/{scene.application.pk}/")
    row = only_one(scene, since, READ, "fraud_application")
    assert row.object_id == str(scene.application.pk) and row.data["school"] == school.pk


def test_the_guardian_act_download_is_audited_for_staff_only(client: Client, scene: Scene) -> None:
    path = f"/documents/guardian-acts/{scene.act.pk}/"
    as_user(client, scene.family.parent)
    since = last_id()
    b"".join(get(client, path).streaming_content)
    assert personal_rows(since) == []  # the representative's own upload
    staff = as_user(Client(), scene.users["school_own"])
    since = last_id()
    b"".join(get(staff, path).streaming_content)
    assert only_one(scene, since, EXPORT, "guardian_act").object_id == str(scene.act.pk)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_ministry_report_files(client: Client, scene: Scene, fmt: str) -> None:
    as_user(client, scene.users["analyst"])
    since = last_id()
    get(client, "/staff/ministry/reports/", kind="applications", by="region")
    assert personal_rows(since) == []  # the table on the page is aggregates only
    get(client, f"/staff/ministry/reports/report.{fmt}", kind="applications", by="region")
    row = only_one(scene, since, EXPORT, "report")
    assert row.data["format"] == fmt and row.data["count"] == 1
    assert row.data["filters"] == {"kind": "applications", "by": ["region"]}
    assert row.object_type == "campaigns.campaign"


def test_the_audit_viewer_audits_itself(client: Client, scene: Scene) -> None:
    as_user(client, scene.users["analyst"])
    pin = scene.family.parent.get_username()
    since = last_id()
    get(client, "/staff/ministry/audit/", actor=pin, channel="web")
    row = only_one(scene, since, READ, "audit_events")
    assert row.data["filters"]["channel"] == "web"
    assert row.data["filters"]["actor"] == f"{pin[0]}{'*' * 10}{pin[-3:]}"  # masked (§7)

    since = last_id()
    get(client, f"/staff/ministry/audit/{row.pk}/")
    event = only_one(scene, since, READ, "audit_event")
    assert event.object_type == "audit.auditevent" and event.object_id == str(row.pk)

    since = last_id()
    b"".join(get(client, "/staff/ministry/audit/events.csv", action=READ).streaming_content)
    export = only_one(scene, since, EXPORT, "audit")
    assert export.data["format"] == "csv" and export.data["filters"] == {"action": READ}

    # The reads are in the trail the viewer filters: by action, and by the school they name.
    # (A page's own row is written after its rows are read: it shows from the next page on.)
    page = get(client, "/staff/ministry/audit/", action=READ).content.decode()
    assert page.count(f"{READ}</td>") == 2  # the first page and the event
    page = get(client, "/staff/ministry/audit/", action=EXPORT).content.decode()
    assert page.count(f"{EXPORT}</td>") == 1
    school = get(client, "/staff/ministry/audit/", school=scene.world.school.code)
    assert f"{READ}</td>" not in school.content.decode()  # the viewer's reads name no school


def test_the_appeals_inbox_and_the_address_requests(client: Client, scene: Scene) -> None:
    """Lists that name children and families are reads too: the district's appeals inbox and
    a school's pending address requests (the family's registered address)."""
    as_user(client, scene.users["district_own"])
    since = last_id()
    get(client, "/staff/district/appeals/")
    assert only_one(scene, since, READ, "appeals").data["count"] >= 1
    as_user(client, scene.users["school_own"])
    since = last_id()
    get(client, "/staff/school/addresses/")
    row = only_one(scene, since, READ, "address_requests")
    assert row.data == {"what": "address_requests", "school": scene.world.school.pk, "count": 1}
