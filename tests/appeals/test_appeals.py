"""Appeals to the district office: due in 3 working days (§17), answered, scoped."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from kattoo.accounts.models import Role
from kattoo.accounts.services import token_issue
from kattoo.appeals.models import Appeal, AppealStatus
from kattoo.appeals.services import appeal_due_at
from kattoo.core import clock
from kattoo.notifications.models import Notification

from ..api.test_applicant_api import Api, problem
from ..conftest import SYSTEM, World
from ..factories import DistrictFactory, UserFactory


def test_due_in_three_working_days_by_the_calendar(campaign) -> None:
    # Filed Friday 2026-04-03; Mon 6 is working, Tue 7 is a holiday, Wed 8, Thu 9 → end of Thu 9.
    filed = clock.bishkek(2026, 4, 3, 15, 0)
    assert appeal_due_at(campaign, filed) == clock.bishkek(2026, 4, 10)


def test_file_answer_and_scope(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    parent = Api(client, token_issue(user=family.parent, actor=SYSTEM))
    created = parent.post(
        "/appeals",
        {
            "subject": "missing_address",
            "school": str(world.other_school.pk),
            "text": "Our house 12 is next to the school but missing.",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "open" and body["due_at"] == "2026-04-07T00:00:00+06:00"

    officer = Api(
        client,
        # the officer reads the appeals again a week later: a token that lives that long
        token_issue(
            user=UserFactory(role=Role.DISTRICT, district=world.other_school.district),
            actor=SYSTEM,
            ttl=dt.timedelta(days=30),
        ),
    )
    elsewhere = Api(
        client,
        token_issue(user=UserFactory(role=Role.DISTRICT, district=DistrictFactory()), actor=SYSTEM),
    )
    assert [a["id"] for a in officer.get("/appeals").json()["items"]] == [body["id"]]
    assert elsewhere.get("/appeals").json()["items"] == []
    problem(elsewhere.post(f"/appeals/{body['id']}/answer", {"text": "no"}), 404, "not_found")
    problem(parent.post(f"/appeals/{body['id']}/answer", {"text": "self-answer"}), 403, "forbidden")

    with clock.frozen(clock.bishkek(2026, 4, 8, 9, 0)):
        assert [a["id"] for a in officer.get("/appeals", overdue="true").json()["items"]] == [
            body["id"]
        ]
        answered = officer.post(
            f"/appeals/{body['id']}/answer", {"text": "The school added house 12."}
        )
    assert answered.json()["status"] == "answered"
    assert Notification.objects.filter(event="appeal_answered").count() == 1
    assert Appeal.objects.get().status == AppealStatus.ANSWERED
    assert parent.get("/appeals").json()["items"][0]["answer"] == "The school added house 12."


def test_bad_appeals_change_nothing(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    parent = Api(client, token_issue(user=family.parent, actor=SYSTEM))
    problem(
        parent.post("/appeals", {"subject": "complaint", "text": "x" * 20}), 422, "validation_error"
    )
    problem(parent.post("/appeals", {"subject": "other", "text": "short"}), 422, "validation_error")
    problem(
        parent.post("/appeals", {"subject": "other", "school": "999999", "text": "x" * 20}),
        404,
        "not_found",
    )
    assert not Appeal.objects.exists()


def test_forward_to_a_school_which_answers(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    parent = Api(client, token_issue(user=family.parent, actor=SYSTEM))
    body = parent.post(
        "/appeals",
        {
            "subject": "missing_address",
            "school": str(world.other_school.pk),
            "text": "Our house is missing from the list.",
        },
    ).json()
    officer = Api(
        client,
        # the officer reads the appeals again a week later: a token that lives that long
        token_issue(
            user=UserFactory(role=Role.DISTRICT, district=world.other_school.district),
            actor=SYSTEM,
            ttl=dt.timedelta(days=30),
        ),
    )
    director = Api(
        client,
        token_issue(user=UserFactory(role=Role.SCHOOL, school=world.other_school), actor=SYSTEM),
    )
    assert director.get("/appeals").json()["items"] == []
    forwarded = officer.post(
        f"/appeals/{body['id']}/forward", {"school": str(world.other_school.pk)}
    )
    assert forwarded.json()["status"] == "forwarded"
    assert [a["id"] for a in director.get("/appeals").json()["items"]] == [body["id"]]
    assert (
        director.post(f"/appeals/{body['id']}/answer", {"text": "Added house 12."}).json()["status"]
        == "answered"
    )
    problem(officer.post(f"/appeals/{body['id']}/answer", {"text": "   "}), 422, "validation_error")
    problem(
        officer.post(f"/appeals/{body['id']}/answer", {"text": "Again."}),
        409,
        "invalid_status_transition",
    )
