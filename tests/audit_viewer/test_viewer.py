"""The ministry's audit viewer: filters, newest-first keyset pages, an event's seal, CSV; the
same through the API; nobody else gets it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.accounts.services import token_issue
from kattoo.audit.chain import GRACE, audit_seal, event_seal
from kattoo.audit.models import AuditEvent
from kattoo.audit.services import audit_record
from kattoo.audit_viewer.selectors import AuditFilter, audit_events, audit_page
from kattoo.core import clock
from kattoo.core.actors import Actor

from ..conftest import audit_tampering
from ..factories import SchoolFactory, UserFactory
from ..web.staff.conftest import verified

DAY = clock.bishkek(2026, 4, 1, 10, 0)
SYSTEM = Actor.system()


@pytest.fixture
def trail():
    """Twelve events over two days: a director's, a parent's through the API, the system's."""
    director = UserFactory(username="director", role=Role.SCHOOL, school=SchoolFactory())
    school = director.school
    events = []
    for i in range(12):
        with clock.frozen(DAY + dt.timedelta(hours=4 * i)):
            if i % 3 == 0:
                actor = Actor(user=director, channel="web", request_id=f"req-{i}")
                event = audit_record(
                    actor=actor, action="teacher.add", obj=school, data={"school": school.pk}
                )
            elif i % 3 == 1:
                event = audit_record(
                    actor=Actor(user=None, channel="api", request_id=f"req-{i}"),
                    action="application.register",
                    object_type="enrollment.application",
                    object_id=f"app-{i}",
                    data={"school": school.pk + 1000},
                )
            else:
                event = audit_record(actor=SYSTEM, action="person.refresh", object_id=str(i))
            events.append(event)
    return {"director": director, "school": school, "events": events}


def ids(events) -> list[int]:
    return [e.pk for e in events]


def test_filters(trail) -> None:
    events, school = trail["events"], trail["school"]
    by_action = audit_events(AuditFilter(action="teacher.add"))
    assert ids(by_action.order_by("pk")) == ids(events[0::3])
    assert audit_events(AuditFilter(actor="director")).count() == 4
    assert audit_events(AuditFilter(channel="api")).count() == 4
    assert ids(audit_events(AuditFilter(request_id="req-4"))) == [events[4].pk]
    assert ids(audit_events(AuditFilter(object_type="enrollment.application", object_id="app-7")))
    assert audit_events(AuditFilter(school=school.pk)).count() == 4
    assert audit_events(AuditFilter(district=school.district_id)).count() == 4
    # Day one in Bishkek holds the events at 10:00, 14:00, 18:00 and 22:00.
    assert audit_events(AuditFilter(since=DAY.date(), until=DAY.date())).count() == 4


def test_pages_are_newest_first_without_gaps_or_repeats(trail) -> None:
    seen, before = [], None
    while True:
        rows, before = audit_page(audit_events(AuditFilter()), before=before, limit=5)
        seen += ids(rows)
        if before is None:
            break
    assert seen == sorted(ids(trail["events"]), reverse=True)


def test_an_events_seal_verifies_until_the_row_is_edited(trail) -> None:
    event = trail["events"][3]
    assert not event_seal(event).sealed
    with clock.frozen(DAY + dt.timedelta(days=3) + GRACE):
        audit_seal()
    seal = event_seal(event)
    assert seal.sealed and seal.own_link_ok and seal.intact_to_head and seal.checked == 9
    with audit_tampering():
        AuditEvent.objects.filter(pk=trail["events"][6].pk).update(data={"forged": True})
    seal = event_seal(AuditEvent.objects.get(pk=event.pk))
    assert seal.own_link_ok and seal.first_broken == trail["events"][6].pk
    assert not event_seal(AuditEvent.objects.get(pk=trail["events"][6].pk)).own_link_ok


def test_the_ministry_page_filters_pages_and_exports(trail) -> None:
    client = verified(Client(), UserFactory(role=Role.MINISTRY_ANALYST))
    page = client.get("/staff/ministry/audit/", {"action": "teacher.add"})
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count("teacher.add</td>") == 4 and "req-9" in text
    assert "?object_type=catalog.school&amp;object_id=" in text  # the object's history
    assert f"/schools/{trail['school'].pk}/quota-log/" in text  # the object's own page
    first = client.get("/staff/ministry/audit/")
    assert "before=" not in first.content.decode()  # 12 events, 50 a page: no next page
    older = client.get("/staff/ministry/audit/", {"before": trail["events"][6].pk})
    assert older.content.decode().count(f"/staff/ministry/audit/{trail['events'][0].pk}/") == 1
    assert f"/staff/ministry/audit/{trail['events'][6].pk}/" not in older.content.decode()
    csv = b"".join(client.get("/staff/ministry/audit/events.csv", {"channel": "api"}))
    assert csv.decode().count("application.register") == 4
    wrong = client.get("/staff/ministry/audit/", {"since": "2026-04-03", "until": "2026-04-01"})
    assert wrong.status_code == 422


def test_the_event_page_shows_data_and_seal(trail) -> None:
    with clock.frozen(DAY + dt.timedelta(days=3) + GRACE):
        audit_seal()
    event = trail["events"][0]
    client = verified(Client(), UserFactory(role=Role.MINISTRY_ADMIN))
    text = client.get(f"/staff/ministry/audit/{event.pk}/").content.decode()
    assert AuditEvent.objects.get(pk=event.pk).chain_hash in text
    assert "alert success" in text
    assert client.get("/staff/ministry/audit/999999/").status_code == 404


@pytest.mark.parametrize("role", [Role.DISTRICT, Role.SCHOOL, Role.OPERATOR])
def test_nobody_else_sees_the_trail(trail, role) -> None:
    user = UserFactory(role=role, school=trail["school"], district=trail["school"].district)
    client = verified(Client(), user)
    assert client.get("/staff/ministry/audit/").status_code == 404
    token = token_issue(user=user, actor=SYSTEM)
    api = client.get("/api/v1/audit/events", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.status_code == 403


def test_the_api_pages_by_cursor_and_shows_the_seal(client: Client, trail) -> None:
    token = token_issue(user=UserFactory(role=Role.MINISTRY_ANALYST), actor=SYSTEM)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    # Each page read is itself audited (§7), after the events it shows: the pages hold the
    # events that were there when paging began.
    trail_ids = list(AuditEvent.objects.order_by("-pk").values_list("pk", flat=True))
    seen, cursor = [], None
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/audit/events", params, **auth).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == trail_ids
    school = trail["school"]
    narrowed = client.get("/api/v1/audit/events", {"school": school.code}, **auth).json()
    assert {i["action"] for i in narrowed["items"]} == {"teacher.add"}
    unknown = client.get("/api/v1/audit/events", {"school": "NOPE"}, **auth).json()
    assert unknown["items"] == []
    detail = client.get(f"/api/v1/audit/events/{trail['events'][0].pk}", **auth).json()
    assert detail["seal"]["sealed"] is False and detail["actor"] == "director"
    assert client.get("/api/v1/audit/events/abc", **auth).status_code == 404
    csv = b"".join(client.get("/api/v1/audit/events.csv", {"actor": "director"}, **auth))
    assert csv.decode().count("teacher.add") == 4


def test_the_action_field_suggests_reads_exports_and_refusals(trail) -> None:
    client = verified(Client(), UserFactory(role=Role.MINISTRY_ANALYST))
    page = client.get("/staff/ministry/audit/").content.decode()
    assert 'list="audit-actions"' in page
    for action in ("personal_data.read", "personal_data.export", "registration.refused"):
        assert f'<option value="{action}">' in page
