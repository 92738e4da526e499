"""API v1, the waitlist: join, number, offer, accept, decline, leave; staff read scoped."""

from __future__ import annotations

import uuid

from django.test import Client

from kattoo.accounts.models import Role
from kattoo.accounts.services import token_issue
from kattoo.audit.models import AuditEvent
from kattoo.audit.refusals import REFUSED
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.services import application_cancel
from kattoo.waitlist.models import EntryStatus, WaitlistEntry

from ..api.test_applicant_api import Api, problem
from ..conftest import SYSTEM
from ..factories import SchoolFactory, UserFactory
from .conftest import Town
from .test_services import AFTER_DEADLINE


def parent(town: Town, client: Client):
    family = town.world.family()
    return family, Api(client, token_issue(user=family.parent, actor=SYSTEM), language="en")


def join(api: Api, town: Town, family, **headers: str):
    body = {"child": str(family.child.pk), "school": str(town.world.school.pk), "language": "ky"}
    return api.post("/waitlist", body, headers=headers)


def test_join_see_the_number_and_accept_the_offer(town: Town, client: Client) -> None:
    first_family, first = parent(town, client)
    second_family, second = parent(town, client)
    key = str(uuid.uuid4())
    response = join(first, town, first_family, **{"Idempotency-Key": key})
    assert response.status_code == 201, response.content
    entry = response.json()
    assert (entry["status"], entry["number"]) == ("waiting", 1)
    assert entry["abilities"] == {"accept": False, "decline": False, "leave": True}
    again = join(first, town, first_family, **{"Idempotency-Key": key})
    assert again.status_code == 201 and again.json()["id"] == entry["id"]
    assert join(second, town, second_family).json()["number"] == 2
    application_cancel(application=town.holders[0], actor=Actor(user=None))
    offered = first.get(f"/waitlist/{entry['id']}").json()
    assert offered["status"] == "offered" and offered["offer_expires_at"]
    assert offered["abilities"]["accept"] and offered["number"] is None
    assert second.get("/waitlist").json()["items"][0]["number"] == 1
    accepted = first.post(f"/waitlist/{entry['id']}/accept")
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["status"] == "registered" and accepted.json()["position"] == 3
    assert first.get(f"/waitlist/{entry['id']}").json()["status"] == "accepted"


def test_refusals_are_problem_documents(town: Town, client: Client) -> None:
    family, api = parent(town, client)
    entry_id = join(api, town, family).json()["id"]
    problem(join(api, town, family), 409, "already_waiting")
    problem(api.post(f"/waitlist/{entry_id}/accept"), 409, "invalid_status_transition")
    application_cancel(application=town.holders[0], actor=Actor(user=None))
    with clock.frozen(AFTER_DEADLINE):
        assert api.get(f"/waitlist/{entry_id}").json()["status"] == "expired"
        problem(api.post(f"/waitlist/{entry_id}/decline"), 409, "offer_expired")
    # §7: the refused join and the refused acceptance are audited (a decline registers nothing).
    refused = list(AuditEvent.objects.filter(action=REFUSED).order_by("pk"))
    assert [(e.data["attempt"], e.data["code"]) for e in refused] == [
        ("waitlist_join", "already_waiting"),
        ("offer_accept", "invalid_status_transition"),
    ]
    assert refused[1].data["entry"] == int(entry_id) and refused[1].data["pool"] == town.pool.pk


def test_decline_and_leave(town: Town, client: Client) -> None:
    first_family, first = parent(town, client)
    second_family, second = parent(town, client)
    first_id = join(first, town, first_family).json()["id"]
    second_id = join(second, town, second_family).json()["id"]
    application_cancel(application=town.holders[0], actor=Actor(user=None))
    assert first.post(f"/waitlist/{first_id}/decline").json()["status"] == "declined"
    assert WaitlistEntry.objects.get(pk=second_id).status == EntryStatus.OFFERED
    third_family, third = parent(town, client)
    third_id = join(third, town, third_family).json()["id"]
    assert third.post(f"/waitlist/{third_id}/leave").json()["status"] == "left"


def test_entries_of_others_are_not_found(town: Town, client: Client) -> None:
    family, api = parent(town, client)
    entry_id = join(api, town, family).json()["id"]
    _other_family, other = parent(town, client)
    problem(other.get(f"/waitlist/{entry_id}"), 404, "not_found")
    problem(other.post(f"/waitlist/{entry_id}/leave"), 404, "not_found")
    problem(other.get("/waitlist/not-a-number"), 404, "not_found")


def test_staff_read_the_waitlists_of_their_schools_only(town: Town, client: Client) -> None:
    family, api = parent(town, client)
    join(api, town, family)
    school = town.world.school
    director = Api(
        client,
        token_issue(user=UserFactory(role=Role.SCHOOL, school=school), actor=SYSTEM),
        language="en",
    )
    pools = director.get(f"/schools/{school.pk}/waitlist").json()
    ky = next(p for p in pools if p["language"] == "ky")
    assert ky["taken"] == 2 and [e["number"] for e in ky["entries"]] == [1]
    assert not any(ky["entries"][0]["abilities"].values())
    district = Api(
        client,
        token_issue(user=UserFactory(role=Role.DISTRICT, district=school.district), actor=SYSTEM),
    )
    assert district.get(f"/schools/{school.pk}/waitlist").status_code == 200
    elsewhere = SchoolFactory()
    problem(director.get(f"/schools/{elsewhere.pk}/waitlist"), 404, "not_found")
    problem(api.get(f"/schools/{school.pk}/waitlist"), 404, "not_found")
