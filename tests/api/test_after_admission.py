"""API v1, after admission: the parent withdraws and answers the ПМПК proposal, the school
proposes, the district transfers by a commission decision and reads transfers and proposals."""

from __future__ import annotations

import pytest
from django.test import Client

from kattoo.accounts.models import Role, User
from kattoo.accounts.services import token_issue
from kattoo.catalog.models import School
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application, PmpkOutcome, SeatPool, Status
from kattoo.enrollment.schoolwork import pmpk_outcome_record, pmpk_refer
from kattoo.enrollment.services import application_admit, application_register

from ..conftest import SYSTEM, Family, World, build_school
from ..factories import UserFactory
from .test_applicant_api import Api, problem


@pytest.fixture
def family(world: World) -> Family:
    return world.family()


@pytest.fixture
def admitted(world: World, family: Family, at_stage1) -> Application:
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )
    return application_admit(application=application, actor=SYSTEM)


def api_of(client: Client, user: User) -> Api:
    return Api(client, token_issue(user=user, actor=SYSTEM), language="en")


def test_the_parent_withdraws_through_the_api(
    client: Client, world: World, family: Family, admitted: Application
) -> None:
    api = api_of(client, family.parent)
    # One abilities object (enrollment.abilities): the detail says withdrawing is allowed
    # while cancelling is not, and the web page offers the same (tests/web).
    before = api.get(f"/applications/{admitted.pk}").json()["abilities"]
    assert before == {"cancel": False, "appeal": True, "withdraw": True}
    response = api.post(f"/applications/{admitted.pk}/withdraw", {"reason": "We move."})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "withdrawn" and body["abilities"]["withdraw"] is False
    assert body["history"][-1]["reason"] == "We move."
    assert SeatPool.objects.get(school=world.school, language="ky").taken == 0
    problem(api.post(f"/applications/{admitted.pk}/withdraw"), 409, "invalid_status_transition")
    stranger = api_of(client, world.family(street=world.elsewhere).parent)
    problem(stranger.post(f"/applications/{admitted.pk}/withdraw"), 404, "not_found")


def test_the_district_transfers_and_reads_the_transfers(
    client: Client, world: World, family: Family, admitted: Application
) -> None:
    neighbour = build_school(world.campaign, sizes=[("ky", 25)])
    School.objects.filter(pk=neighbour.pk).update(district=world.school.district)
    officer = api_of(client, UserFactory(role=Role.DISTRICT, district=world.school.district))
    body = {
        "school": str(neighbour.pk),
        "language": "ky",
        "number": "T-7",
        "decided_on": "2026-04-01",
    }
    response = officer.post(f"/applications/{admitted.pk}/transfer", body)
    assert response.status_code == 201, response.content
    transfer = response.json()
    assert (transfer["number"], transfer["to_school"], transfer["above_quota"]) == (
        "T-7",
        str(neighbour.pk),
        False,
    )
    assert [t["id"] for t in officer.get("/transfers").json()] == [transfer["id"]]
    problem(
        officer.post(f"/applications/{admitted.pk}/transfer", body),
        409,
        "invalid_status_transition",
    )
    # The new admission is in the parent's account.
    parent = api_of(client, family.parent)
    mine = {a["id"]: a["status"] for a in parent.get("/applications").json()["items"]}
    assert mine == {str(admitted.pk): "transferred", transfer["to_application"]: "admitted"}
    problem(parent.get("/transfers"), 403, "forbidden")
    other = api_of(client, UserFactory(role=Role.DISTRICT, district=world.other_school.district))
    assert other.get("/transfers").json() == []


def test_the_school_proposes_and_the_parent_answers(
    client: Client, world: World, family: Family, admitted: Application
) -> None:
    director_user = UserFactory(role=Role.SCHOOL, school=world.school)
    director = api_of(client, director_user)
    path = f"/applications/{admitted.pk}/pmpk-proposals"
    problem(director.post(path, {"kind": "special_school"}), 409, "pmpk_conclusion_required")
    referral = pmpk_refer(application=admitted, note="", actor=Actor(user=director_user))
    pmpk_outcome_record(
        referral=referral, outcome=PmpkOutcome.SPECIAL_SCHOOL, actor=Actor(user=director_user)
    )
    response = director.post(path, {"kind": "special_school", "note": "School No. 7"})
    assert response.status_code == 201, response.content
    assert response.json()["answer"] == ""
    parent = api_of(client, family.parent)
    [seen] = parent.get("/pmpk-proposals").json()
    assert (seen["kind"], seen["note"]) == ("special_school", "School No. 7")
    problem(parent.post(path, {"kind": "continue_here"}), 403, "forbidden")
    answered = parent.post(f"{path}/answer", {"answer": "agree"})
    assert answered.status_code == 200, answered.content
    assert (answered.json()["answer"], answered.json()["application_status"]) == (
        "agreed",
        "withdrawn",
    )
    problem(parent.post(f"{path}/answer", {"answer": "agree"}), 404, "not_found")
    officer = api_of(client, UserFactory(role=Role.DISTRICT, district=world.school.district))
    assert [p["answer"] for p in officer.get("/pmpk-proposals").json()] == ["agreed"]
    admitted.refresh_from_db()
    assert admitted.status == Status.WITHDRAWN
