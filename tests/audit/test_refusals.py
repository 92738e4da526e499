"""§7 "all user actions": a parent's registration attempt that a rule refuses leaves one audit
row (``registration.refused``) with the refusal's code and the ids — through the API and the
web, for a registration, a draft and a waitlist join; an accepted attempt, a malformed one or
an out-of-scope one leaves none."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from django.db.models import F
from django.test import Client

from kattoo.accounts.services import token_issue
from kattoo.audit.models import AuditEvent
from kattoo.audit.refusals import REFUSED, is_refusal
from kattoo.audit_viewer.selectors import AuditFilter, audit_events
from kattoo.core import clock
from kattoo.core.errors import ERRORS, RuleViolation
from kattoo.enrollment.models import Application, SeatPool

from ..api.test_applicant_api import Api, problem
from ..conftest import BEFORE, STAGE1, SYSTEM, Family, World
from ..web.staff.conftest import verified

SECOND = STAGE1.replace(second=30)


def refusals(after: int = 0) -> list[AuditEvent]:
    """The refusal rows (those after the id ``after``: events are never deleted, ADR 0039)."""
    return list(AuditEvent.objects.filter(action=REFUSED, pk__gt=after).order_by("pk"))


def the_refusal(family: Family, channel: str, after: int = 0) -> dict[str, Any]:
    """The one refusal row (after the id ``after``): its data, after checking it names the
    child and holds no PIN or name of the family."""
    [row] = refusals(after)
    assert (row.channel, row.actor_id) == (channel, family.parent.pk)
    assert (row.object_type, row.object_id) == ("people.person", str(family.child.pk))
    text = json.dumps(row.data, ensure_ascii=False)
    person = family.parent.person
    assert person is not None
    for secret in (person.pin, person.surname, family.child.pin, family.child.name):
        assert secret not in text
    return row.data


def api_of(client: Client, family: Family) -> Api:
    return Api(client, token_issue(user=family.parent, actor=SYSTEM), language="en")


def web_of(client: Client, family: Family) -> Client:
    client.force_login(family.parent)
    return client


def choice(world: World, family: Family, school: Any) -> dict[str, Any]:
    return {"child": str(family.child.pk), "school": str(school.pk), "language": "ky"}


def fill(world: World) -> None:
    SeatPool.objects.filter(school=world.school, language="ky").update(taken=F("capacity"))


def test_only_a_rules_refusal_is_recorded() -> None:
    refusal_codes = {c for c, (status, _t) in ERRORS.items() if status == 409}
    assert {"not_in_microdistrict", "no_free_seats", "guardian_limit_reached"} <= refusal_codes
    assert "outside_birth_window" in refusal_codes
    for code in ERRORS:
        assert is_refusal(RuleViolation(code)) == (code in refusal_codes)
    # an outage, a busy server, a refused scope are not refusals of the attempt
    assert not any(
        is_refusal(RuleViolation(c)) for c in ("registry_unavailable", "service_busy", "forbidden")
    )


def test_api_registration_refused(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    api = api_of(client, family)
    problem(
        api.post("/applications", choice(world, family, world.other_school)),
        409,
        "not_in_microdistrict",
    )
    assert not Application.objects.exists()
    assert the_refusal(family, "api") == {
        "code": "not_in_microdistrict",
        "attempt": "register",
        "school": world.other_school.pk,
        "language": "ky",
    }
    # The viewer finds it by its action and by the school it names.
    found = audit_events(AuditFilter(action=REFUSED, school=world.other_school.pk))
    assert found.count() == 1
    assert not audit_events(AuditFilter(action=REFUSED, school=world.school.pk)).exists()


def test_api_accepted_and_malformed_attempts_record_no_refusal(
    client: Client, world: World, at_stage1
) -> None:
    family = world.family()
    api = api_of(client, family)
    problem(
        api.post("/applications", {**choice(world, family, world.school), "school": "999999"}),
        404,
        "not_found",
    )
    stranger = world.family()
    problem(api.post("/applications", choice(world, stranger, world.school)), 404, "not_found")
    assert api.post("/applications", choice(world, family, world.school)).status_code == 201
    assert refusals() == []


def test_api_draft_refused_when_saved_and_when_submitted(client: Client, world: World) -> None:
    family = world.family()
    api = api_of(client, family)
    child = str(family.child.pk)
    with clock.frozen(BEFORE):
        response = client.put(
            f"/api/v1/drafts/{child}",
            {"school": str(world.other_school.pk), "language": "ky"},
            content_type="application/json",
            headers=api.headers,
        )
        problem(response, 409, "not_in_microdistrict")
        assert the_refusal(family, "api")["attempt"] == "draft_save"
        seen = refusals()[-1].pk
        saved = client.put(
            f"/api/v1/drafts/{child}",
            {"school": str(world.school.pk), "language": "ky"},
            content_type="application/json",
            headers=api.headers,
        )
        assert saved.status_code == 200 and refusals(seen) == []
    fill(world)
    with clock.frozen(SECOND):
        problem(api.post(f"/drafts/{child}/submit"), 409, "no_free_seats")
    assert the_refusal(family, "api", seen) == {
        "code": "no_free_seats",
        "attempt": "draft_submit",
        "school": world.school.pk,
        "language": "ky",
    }


def test_api_a_fast_path_refusal_names_the_drafts_choice(
    client: Client, world: World, monkeypatch
) -> None:
    """The opening minute's own refusal (a pool that filled between its read and its write):
    the row is written after the fast path, reading the draft only then."""
    family = world.family()
    api = api_of(client, family)
    child = str(family.child.pk)
    with clock.frozen(BEFORE):
        client.put(
            f"/api/v1/drafts/{child}",
            {"school": str(world.school.pk), "language": "ky"},
            content_type="application/json",
            headers=api.headers,
        )

    def full(**_kwargs: Any) -> None:
        raise RuleViolation("no_free_seats")

    # (the package's ``drafts`` is the router: the module is taken from sys.modules)
    monkeypatch.setattr(sys.modules["kattoo.api.v1.drafts"], "draft_submit_fast", full)
    with clock.frozen(SECOND):
        problem(api.post(f"/drafts/{child}/submit"), 409, "no_free_seats")
    assert the_refusal(family, "api") == {
        "code": "no_free_seats",
        "attempt": "draft_submit",
        "school": world.school.pk,
        "language": "ky",
    }


def test_api_waitlist_join_refused(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    api = api_of(client, family)
    problem(api.post("/waitlist", choice(world, family, world.school)), 409, "waitlist_not_needed")
    data = the_refusal(family, "api")
    assert (data["code"], data["attempt"], data["school"]) == (
        "waitlist_not_needed",
        "waitlist_join",
        world.school.pk,
    )


def test_web_registration_refused(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    web = web_of(client, family)
    response = web.post("/applications/new/", choice(world, family, world.other_school))
    assert response.status_code == 409
    assert the_refusal(family, "web") == {
        "code": "not_in_microdistrict",
        "attempt": "register",
        "school": world.other_school.pk,
        "language": "ky",
    }
    # accepted: no second row
    accepted = web.post("/applications/new/", choice(world, family, world.school))
    assert accepted.status_code == 302 and len(refusals()) == 1


def test_web_draft_and_waitlist_refused(client: Client, world: World) -> None:
    family = world.family()
    web = web_of(client, family)
    with clock.frozen(BEFORE):
        response = web.post("/drafts/", choice(world, family, world.other_school))
        assert response.status_code == 409
    assert the_refusal(family, "web")["attempt"] == "draft_save"
    seen = refusals()[-1].pk
    with clock.frozen(SECOND):
        response = web.post("/waitlist/join/", choice(world, family, world.school))
    assert response.status_code == 409
    data = the_refusal(family, "web", seen)
    assert (data["code"], data["attempt"]) == ("waitlist_not_needed", "waitlist_join")


def test_web_draft_submit_refused(client: Client, world: World) -> None:
    family = world.family()
    web = web_of(client, family)
    with clock.frozen(BEFORE):
        web.post("/drafts/", choice(world, family, world.school))
    fill(world)
    with clock.frozen(SECOND):
        response = web.post(f"/drafts/{family.child.pk}/submit/")
    assert response.status_code == 302
    assert the_refusal(family, "web") == {
        "code": "no_free_seats",
        "attempt": "draft_submit",
        "school": world.school.pk,
        "language": "ky",
    }


def test_the_viewer_lists_refusals(client: Client, world: World, at_stage1) -> None:
    from kattoo.accounts.models import Role

    from ..factories import UserFactory

    family = world.family()
    api_of(client, family).post("/applications", choice(world, family, world.other_school))
    viewer = verified(Client(), UserFactory(role=Role.MINISTRY_ANALYST))
    page = viewer.get("/staff/ministry/audit/", {"action": REFUSED})
    assert page.status_code == 200 and page.content.decode().count(f"{REFUSED}</td>") == 1


@pytest.mark.postgres
def test_the_opening_minute_refusal_on_postgresql(client: Client, world: World) -> None:
    """The draft submitted into a full pool through the fast path's database."""
    test_api_draft_refused_when_saved_and_when_submitted(client, world)
