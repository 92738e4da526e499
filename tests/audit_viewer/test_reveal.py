"""Issue 13, item 10: the audit viewer masks applicants' user names (their PINs) in the list,
the event page, the CSV and the API; a ministry administrator reveals one event's user name
with a reason, and the reveal is itself audited. Analysts see masked names only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.accounts.services import token_issue
from kattoo.audit.models import AuditEvent
from kattoo.audit.services import audit_record
from kattoo.core.actors import Actor
from kattoo.core.logging import mask_pins

from ..factories import PersonFactory, UserFactory
from ..web.staff.conftest import verified

PIN = "22310199070001"
MASKED = mask_pins(PIN)
REASON = "Complaint No. 12 of 3 April: who cancelled the application"


@pytest.fixture
def parent_event() -> AuditEvent:
    person = PersonFactory(pin=PIN)
    parent = UserFactory(username=PIN, role=Role.APPLICANT, person=person)
    return audit_record(
        actor=Actor(user=parent, channel="web", request_id="req-parent"),
        action="application.cancel",
        object_type="enrollment.application",
        object_id="app-1",
        data={},
    )


def api(client: Client, role: str) -> dict[str, Any]:
    token = token_issue(user=UserFactory(role=role), actor=Actor.system())
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def reveals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="audit.reveal"))


def test_the_mask_is_the_logs_mask() -> None:
    assert MASKED == "2**********001"


@pytest.mark.parametrize("role", [Role.MINISTRY_ANALYST, Role.MINISTRY_ADMIN])
def test_the_viewer_masks_applicants_pins(parent_event: AuditEvent, role: str) -> None:
    client = verified(Client(), UserFactory(role=role))
    pages = [
        client.get("/staff/ministry/audit/").content.decode(),
        client.get(f"/staff/ministry/audit/{parent_event.pk}/").content.decode(),
        b"".join(client.get("/staff/ministry/audit/events.csv")).decode(),
    ]
    for text in pages:
        assert MASKED in text and PIN not in text
    event_page = pages[1]
    can_reveal = f"/staff/ministry/audit/{parent_event.pk}/reveal/" in event_page
    assert can_reveal is (role == Role.MINISTRY_ADMIN)


def test_the_api_masks_applicants_pins(client: Client, parent_event: AuditEvent) -> None:
    auth = api(client, Role.MINISTRY_ANALYST)
    listed = client.get("/api/v1/audit/events", **auth).json()["items"]
    assert [i["actor"] for i in listed if i["id"] == parent_event.pk] == [MASKED]
    detail = client.get(f"/api/v1/audit/events/{parent_event.pk}", **auth).json()
    assert detail["actor"] == MASKED
    csv = b"".join(client.get("/api/v1/audit/events.csv", **auth)).decode()
    assert MASKED in csv and PIN not in csv


def test_an_admin_reveals_with_a_reason_on_the_web(parent_event: AuditEvent) -> None:
    admin = UserFactory(role=Role.MINISTRY_ADMIN)
    client = verified(Client(), admin)
    url = f"/staff/ministry/audit/{parent_event.pk}/reveal/"
    short = client.post(url, {"reason": "because"})
    assert short.status_code == 422 and 'id="id_reason_error"' in short.content.decode()
    assert PIN not in short.content.decode() and reveals() == []
    assert client.get(url).status_code == 405
    shown = client.post(url, {"reason": REASON})
    assert shown.status_code == 200 and PIN in shown.content.decode()
    (revealed,) = reveals()
    assert revealed.actor == admin and revealed.channel == "web"
    assert revealed.object_type == "audit.auditevent"
    assert revealed.object_id == str(parent_event.pk)
    assert revealed.data == {"event": parent_event.pk, "reason": REASON}
    # Nothing is kept: the event page is masked again.
    again = client.get(f"/staff/ministry/audit/{parent_event.pk}/").content.decode()
    assert PIN not in again


def test_an_analyst_cannot_reveal(client: Client, parent_event: AuditEvent) -> None:
    web = verified(Client(), UserFactory(role=Role.MINISTRY_ANALYST))
    url = f"/staff/ministry/audit/{parent_event.pk}/reveal/"
    assert web.post(url, {"reason": REASON}).status_code == 404
    answer = client.post(
        f"/api/v1/audit/events/{parent_event.pk}/reveal",
        json.dumps({"reason": REASON}),
        content_type="application/json",
        **api(client, Role.MINISTRY_ANALYST),
    )
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden"
    assert reveals() == []


def test_an_admin_reveals_with_a_reason_over_the_api(
    client: Client, parent_event: AuditEvent
) -> None:
    auth = api(client, Role.MINISTRY_ADMIN)
    url = f"/api/v1/audit/events/{parent_event.pk}/reveal"

    def post(body: dict[str, Any], target: str = url) -> Any:
        return client.post(target, json.dumps(body), content_type="application/json", **auth)

    short = post({"reason": "  why  "})
    assert short.status_code == 422
    assert [e["field"] for e in short.json()["errors"]] == ["reason"]
    assert (
        post({"reason": REASON}, f"/api/v1/audit/events/{parent_event.pk + 999}/reveal").status_code
        == 404
    )
    assert reveals() == []
    answer = post({"reason": REASON})
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"id": parent_event.pk, "actor": PIN}
    (revealed,) = reveals()
    assert revealed.channel == "api"
    assert revealed.data == {"event": parent_event.pk, "reason": REASON}
