"""Reports checked against hand-counted fixtures (§9); open data withholds small cells."""

from __future__ import annotations

import datetime as dt
import io

from django.test import Client
from openpyxl import load_workbook

from kattoo.accounts.models import Role
from kattoo.accounts.services import token_issue
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.services import application_admit, application_cancel, application_register

from ..api.test_applicant_api import Api, problem
from ..conftest import STAGE2, SYSTEM, World
from ..factories import UserFactory


def fill(world: World) -> None:
    """Hand-counted: 3 registrations in stage 1 at school (ky): 1 admitted, 1 cancelled,
    1 registered; 2 in stage 2 at other_school (ky), both registered. Born 2019 x3, 2020 x2."""
    births = [dt.date(2019, 1, 5), dt.date(2019, 2, 5), dt.date(2020, 3, 5)]
    apps = []
    for born in births:
        family = world.family(births=[born])
        apps.append(
            application_register(
                campaign=world.campaign,
                user=family.parent,
                child=family.child,
                school=world.school,
                language="ky",
                actor=Actor(user=family.parent),
            )
        )
    application_admit(application=apps[0], actor=SYSTEM)
    application_cancel(application=apps[1], actor=SYSTEM)
    with clock.frozen(STAGE2 + dt.timedelta(hours=1)):
        for born in (dt.date(2019, 7, 7), dt.date(2020, 8, 8)):
            family = world.family(births=[born])
            application_register(
                campaign=world.campaign,
                user=family.parent,
                child=family.child,
                school=world.other_school,
                language="ky",
                actor=Actor(user=family.parent),
            )


def test_summary_by_stage_and_birth_year(client: Client, world: World, at_stage1) -> None:
    fill(world)
    ministry = Api(client, token_issue(user=UserFactory(role=Role.MINISTRY_ANALYST), actor=SYSTEM))
    body = ministry.get("/reports/summary", by="stage,birth_year").json()
    rows = {(r["stage"], r["birth_year"]): r for r in body["applications"]}
    assert rows[("stage1", 2019)] == {
        "stage": "stage1",
        "birth_year": 2019,
        "registered": 0,
        "admitted": 1,
        "refused": 0,
        "cancelled": 1,
        "above_quota": 0,
    }
    assert rows[("stage1", 2020)]["registered"] == 1
    assert rows[("stage2", 2019)]["registered"] == 1 and rows[("stage2", 2020)]["registered"] == 1
    by_route = ministry.get("/reports/summary", by="route").json()["applications"]
    assert {r["route"]: r["registered"] + r["admitted"] for r in by_route} == {
        "microdistrict": 2,
        "open": 2,
    }


def test_scope_and_files(client: Client, world: World, at_stage1) -> None:
    fill(world)
    district = Api(
        client,
        token_issue(
            user=UserFactory(role=Role.DISTRICT, district=world.school.district), actor=SYSTEM
        ),
    )
    rows = district.get("/reports/summary", by="school").json()["applications"]
    assert [r["school"] for r in rows] == [world.school.code]  # only its own district
    seats = district.get("/reports/summary", by="school,language").json()["seats"]
    assert seats[0]["free"] == seats[0]["capacity"] - 2
    csv_file = client.get("/api/v1/reports/summary.csv", {"by": "school"}, headers=district.headers)
    assert csv_file["Content-Type"].startswith("text/csv")
    assert (
        csv_file.content.decode("utf-8-sig").splitlines()[0]
        == "school,registered,admitted,refused,cancelled,above_quota"
    )
    xlsx = client.get(
        "/api/v1/reports/summary.xlsx", {"by": "school", "kind": "seats"}, headers=district.headers
    )
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in next(sheet.iter_rows())] == [
        "school",
        "quota_seats",
        "capacity",
        "taken",
        "free",
    ]
    problem(district.get("/reports/summary", by="shoe_size"), 422, "validation_error")
    family = world.family()
    parent = Api(client, token_issue(user=family.parent, actor=SYSTEM))
    problem(parent.get("/reports/summary"), 403, "forbidden")


def test_open_data_withholds_cells_under_ten(client: Client, world: World, at_stage1) -> None:
    fill(world)
    body = Api(client).get("/open-data/summary", by="route").json()
    assert all(r["registered"] is None or r["registered"] == 0 for r in body["applications"])
    assert body["suppressed_below"] == 10


def test_places_are_grouped_by_code_not_by_name(client: Client, world: World, at_stage1) -> None:
    fill(world)
    world.other_school.district.name_ru = world.school.district.name_ru  # two districts, one name
    world.other_school.district.save()
    ministry = Api(client, token_issue(user=UserFactory(role=Role.MINISTRY_ANALYST), actor=SYSTEM))
    rows = ministry.get("/reports/summary", by="district").json()["applications"]
    assert len(rows) == 2 and len({r["district_code"] for r in rows}) == 2
