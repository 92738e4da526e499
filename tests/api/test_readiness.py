"""GET /api/v1/campaigns/{code}/readiness: the ministry reads the country or a district, a
district officer its own district only; other roles 403; unknown campaign or district 404."""

from __future__ import annotations

import pytest
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.accounts.services import token_issue
from kattoo.core import clock

from ..conftest import BEFORE, SYSTEM, World
from ..factories import UserFactory
from .test_applicant_api import Api, problem


def api_for(client: Client, **user) -> Api:
    return Api(client, token_issue(user=UserFactory(**user), actor=SYSTEM))


@pytest.fixture(autouse=True)
def _before():
    with clock.frozen(BEFORE):
        yield


@pytest.mark.parametrize("role", [Role.MINISTRY_ADMIN, Role.MINISTRY_ANALYST])
def test_ministry_reads_the_country_and_a_district(client: Client, world: World, role) -> None:
    api = api_for(client, role=role)
    body = api.get("/campaigns/2026-2027/readiness").json()
    assert body["campaign"] == "2026-2027" and body["district"] is None
    assert body["totals"]["schools"] == 2 and body["totals"]["quotas_computed"] == 2
    assert body["totals"]["seats"] == {"ky": 55, "ru": 26}
    assert {d["soate"] for d in body["districts"]} >= {
        world.school.district.soate,
        world.other_school.district.soate,
    }
    blockers = {b["code"]: b for b in body["blockers"]}
    assert blockers["no_director"]["count"] == 2 and blockers["no_director"]["schools"] == []
    assert body["ready"] is False and body["stage"] == "before"

    soate = world.school.district.soate
    body = api.get("/campaigns/2026-2027/readiness", district=soate).json()
    assert body["district"] == soate and body["districts"] == []
    assert [s["school"]["code"] for s in body["schools"]] == [world.school.code]
    blockers = {b["code"]: b for b in body["blockers"]}
    assert [s["code"] for s in blockers["no_director"]["schools"]] == [world.school.code]


def test_district_officer_reads_its_own_district_only(client: Client, world: World) -> None:
    api = api_for(client, role=Role.DISTRICT, district=world.school.district)
    own = api.get("/campaigns/2026-2027/readiness")
    assert own.status_code == 200
    assert own.json()["district"] == world.school.district.soate
    assert [s["school"]["code"] for s in own.json()["schools"]] == [world.school.code]
    same = api.get("/campaigns/2026-2027/readiness", district=world.school.district.soate)
    assert same.json() == own.json()
    problem(
        api.get("/campaigns/2026-2027/readiness", district=world.other_school.district.soate),
        404,
        "not_found",
    )


def test_unknown_campaign_or_district_is_404(client: Client, world: World) -> None:
    api = api_for(client, role=Role.MINISTRY_ADMIN)
    problem(api.get("/campaigns/1999-2000/readiness"), 404, "not_found")
    problem(api.get("/campaigns/2026-2027/readiness", district="999"), 404, "not_found")


def test_other_roles_are_refused(client: Client, world: World) -> None:
    for user in (
        {"role": Role.SCHOOL, "school": world.school},
        {"role": Role.OPERATOR},
    ):
        problem(api_for(client, **user).get("/campaigns/2026-2027/readiness"), 403, "forbidden")
    family = world.family()
    parent = Api(client, token_issue(user=family.parent, actor=SYSTEM))
    problem(parent.get("/campaigns/2026-2027/readiness"), 403, "forbidden")
    problem(Api(client).get("/campaigns/2026-2027/readiness"), 401, "unauthorized")


def test_messages_follow_the_language(client: Client, world: World) -> None:
    token = token_issue(user=UserFactory(role=Role.MINISTRY_ADMIN), actor=SYSTEM)
    english = Api(client, token, language="en").get("/campaigns/2026-2027/readiness").json()
    message = {b["code"]: b["message"] for b in english["blockers"]}["no_director"]
    assert message.startswith("2 schools have no director")
