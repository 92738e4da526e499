"""§7 over the API: each list page, file or audit read of children's personal data writes
exactly one audit row with ids, counts and filters — never a name or a PIN."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.accounts.services import token_issue
from kattoo.audit.models import AuditEvent
from kattoo.audit.reads import EXPORT, READ
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application
from kattoo.enrollment.services import application_admit, application_register

from ..conftest import SYSTEM, Family, World
from ..factories import UserFactory
from .test_applicant_api import Api


@pytest.fixture
def admitted(world: World, at_stage1) -> tuple[Family, Application]:
    family = world.family()
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )
    return family, application_admit(application=application, actor=SYSTEM)


def staff_api(client: Client, **user) -> Api:
    token = token_issue(user=UserFactory(**user), actor=SYSTEM, ttl=dt.timedelta(days=365))
    return Api(client, token, language="en")


def last_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def only_one(family: Family, since: int, action: str, what: str) -> AuditEvent:
    rows = list(AuditEvent.objects.filter(pk__gt=since, action__in=[READ, EXPORT]))
    assert [(r.action, r.data["what"], r.channel) for r in rows] == [(action, what, "api")]
    text = json.dumps(rows[0].data, ensure_ascii=False)
    people = [family.parent.person, family.child]
    assert not [v for p in people if p for v in (p.pin, p.surname, p.name) if v in text]
    return rows[0]


def test_a_schools_list_and_kundoluk(client: Client, world: World, admitted) -> None:
    family, _application = admitted
    api = staff_api(client, role=Role.SCHOOL, school=world.school)
    school = world.school.pk
    since = last_id()
    page = api.get(f"/schools/{school}/applications", status="admitted", limit=10)
    assert page.status_code == 200 and len(page.json()["items"]) == 1
    row = only_one(family, since, READ, "applications")
    assert (row.object_type, row.object_id) == ("catalog.school", str(school))
    assert row.data == {
        "what": "applications",
        "school": school,
        "count": 1,
        "filters": {"status": "admitted", "cursor": False},
    }
    for path, file_format in (("kundoluk.json", "json"), ("kundoluk.csv", "csv")):
        since = last_id()
        assert api.get(f"/schools/{school}/{path}").status_code == 200
        row = only_one(family, since, EXPORT, "kundoluk")
        assert row.data["format"] == file_format and row.data["count"] == 1


def test_out_of_scope_reads_write_nothing(client: Client, world: World, admitted) -> None:
    api = staff_api(client, role=Role.SCHOOL, school=world.other_school)
    since = last_id()
    assert api.get(f"/schools/{world.school.pk}/kundoluk.csv").status_code == 404
    assert api.get(f"/schools/{world.school.pk}/applications").status_code == 404
    assert not AuditEvent.objects.filter(pk__gt=since).exists()


def test_the_staff_waitlist_and_report_files(client: Client, world: World, admitted) -> None:
    family, _application = admitted
    api = staff_api(client, role=Role.MINISTRY_ANALYST)
    since = last_id()
    assert api.get(f"/schools/{world.school.pk}/waitlist").status_code == 200
    assert only_one(family, since, READ, "waitlist").data["school"] == world.school.pk
    since = last_id()
    assert api.get("/reports/summary", by="region").status_code == 200
    assert not AuditEvent.objects.filter(pk__gt=since).exists()  # aggregates on screen
    for fmt in ("csv", "xlsx"):
        since = last_id()
        response = api.get(f"/reports/summary.{fmt}", by="region", kind="seats")
        assert response.status_code == 200
        row = only_one(family, since, EXPORT, "report")
        assert row.data["format"] == fmt
        assert row.data["filters"] == {
            "kind": "seats",
            "by": ["region"],
            "campaign": world.campaign.code,
        }


def test_the_audit_api_audits_itself(client: Client, world: World, admitted) -> None:
    family, _application = admitted
    api = staff_api(client, role=Role.MINISTRY_ADMIN)
    since = last_id()
    first = api.get("/audit/events", action=READ, actor=family.parent.get_username())
    assert first.status_code == 200 and first.json()["items"] == []
    row = only_one(family, since, READ, "audit_events")
    pin = family.parent.get_username()
    assert row.data["filters"] == {"action": READ, "actor": f"{pin[0]}{'*' * 10}{pin[-3:]}"}
    since = last_id()
    assert api.get(f"/audit/events/{row.pk}").json()["action"] == READ
    assert only_one(family, since, READ, "audit_event").object_id == str(row.pk)
    since = last_id()
    csv = b"".join(api.get("/audit/events.csv", action=READ).streaming_content).decode()
    assert len(csv.splitlines()) == 3  # the header, the list read and the event read
    assert only_one(family, since, EXPORT, "audit").data["filters"] == {"action": READ}
    listed = api.get("/audit/events", action=EXPORT).json()["items"]
    assert [e["data"]["what"] for e in listed] == ["audit"]
