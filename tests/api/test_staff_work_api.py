"""The school's and the district's work over the API, scoped (API.md staff endpoints)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.accounts.services import token_issue
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application, Status
from kattoo.enrollment.services import application_register

from ..conftest import SYSTEM, World
from ..factories import SchoolFactory, UserFactory, registry_adult
from .test_applicant_api import Api, problem


@pytest.fixture
def registered(world: World, at_stage1):
    family = world.family()
    return application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )


def api_for(client: Client, **user) -> Api:
    # The tests travel months in time; a staff token lives only hours by default.
    token = token_issue(user=UserFactory(**user), actor=SYSTEM, ttl=dt.timedelta(days=365))
    return Api(client, token, language="en")


def test_director_lists_admits_and_records_certificates(
    client: Client, world: World, registered
) -> None:
    director = api_for(client, role=Role.SCHOOL, school=world.school)
    rows = director.get(f"/schools/{world.school.pk}/applications", status="registered").json()[
        "items"
    ]
    assert [r["id"] for r in rows] == [str(registered.pk)] and rows[0]["abilities"]["admit"]
    admitted = director.post(f"/applications/{registered.pk}/admit").json()
    assert admitted["status"] == "admitted"
    problem(
        director.post(
            f"/applications/{registered.pk}/documents",
            {"kind": "medical_health", "received_on": "2026-07-01"},
        ),
        409,
        "document_window_closed",
    )
    with clock.frozen(clock.bishkek(2026, 8, 10, 10)):
        recorded = director.post(
            f"/applications/{registered.pk}/documents",
            {"kind": "medical_health", "received_on": "2026-08-10"},
        ).json()
    assert recorded["documents"] == ["medical_health"]


def test_refusal_needs_a_legal_reason_and_frees_the_seat(
    client: Client, world: World, registered
) -> None:
    director = api_for(client, role=Role.SCHOOL, school=world.school)
    problem(
        director.post(
            f"/applications/{registered.pk}/refuse", {"reason": "dislike", "text": "no reason"}
        ),
        422,
        "validation_error",
    )
    refused = director.post(
        f"/applications/{registered.pk}/refuse",
        {"reason": "false_data", "text": "Birth certificate does not match."},
    )
    assert refused.json()["status"] == "refused"
    district = api_for(client, role=Role.DISTRICT, district=world.school.district)
    rows = district.get(f"/schools/{world.school.pk}/applications", status="refused").json()[
        "items"
    ]
    assert [r["id"] for r in rows] == [str(registered.pk)]
    problem(district.post(f"/applications/{registered.pk}/admit"), 403, "forbidden")


def test_other_schools_see_nothing(client: Client, world: World, registered) -> None:
    other = api_for(client, role=Role.SCHOOL, school=SchoolFactory())
    problem(other.get(f"/schools/{world.school.pk}/applications"), 404, "not_found")
    problem(other.post(f"/applications/{registered.pk}/admit"), 404, "not_found")
    assert Application.objects.get().status == Status.REGISTERED


def test_address_teacher_and_classes(client: Client, world: World, registered) -> None:
    director = api_for(client, role=Role.SCHOOL, school=world.school)
    added = director.post(
        f"/schools/{world.school.pk}/microdistrict/addresses",
        {
            "street": world.elsewhere.code,
            "house_from": 1,
            "house_to": 9,
            "parity": "odd",
            "note": "Decision of the district office No. 5",
        },
    )
    assert added.status_code == 201, added.content
    world.registry.add_person(registry_adult("11203198800001"))
    # §24: at stage 1 the roster is frozen: the addition waits for the district (202).
    teacher = director.post(
        f"/schools/{world.school.pk}/teachers", {"pin": "11203198800001", "full_name": "Айгүл"}
    )
    assert teacher.status_code == 202, teacher.content
    assert teacher.json()["status"] == "pending"
    director.post(f"/applications/{registered.pk}/admit")
    formed = director.post(f"/schools/{world.school.pk}/classes/form", {"language": "ky"}).json()
    assert formed[0]["children"] == [str(registered.pk)]


def test_commission_decision_over_the_api(client: Client, world: World, at_stage2) -> None:
    family = world.family(births=[dt.date(2018, 2, 2)])
    officer = api_for(client, role=Role.DISTRICT, district=world.school.district)
    body = {
        "child_pin": family.child.pin,
        "applicant_pin": family.parent.person.pin,
        "school": str(world.school.pk),
        "language": "ky",
        "number": "КДД-7",
        "decided_on": "2026-06-01",
        "ground": "over_age",
        "documents_checked": True,
    }
    placed = officer.post("/commission-decisions", body)
    assert placed.status_code == 201, placed.content
    assert Application.objects.get(pk=placed.json()["application"]).route == "commission"
    director = api_for(client, role=Role.SCHOOL, school=world.school)
    problem(director.post("/commission-decisions", body), 403, "forbidden")


def test_kundoluk_export_lists_the_admitted_children_with_their_class(
    client: Client, world: World, registered
) -> None:
    director = api_for(client, role=Role.SCHOOL, school=world.school)
    director.post(f"/applications/{registered.pk}/admit")
    director.post(f"/schools/{world.school.pk}/classes/form", {"language": "ky"})
    body = director.get(f"/schools/{world.school.pk}/kundoluk.json").json()
    assert body["format"] == "kattoo-kundoluk/1" and body["school"]["code"] == world.school.code
    [child] = body["children"]
    assert child["pin"] == registered.child.pin and child["class"] == "1А"
    csv_file = client.get(
        f"/api/v1/schools/{world.school.pk}/kundoluk.csv", headers=director.headers
    )
    lines = csv_file.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("application,pin,") and registered.child.pin in lines[1]
    other = api_for(client, role=Role.SCHOOL, school=SchoolFactory())
    problem(other.get(f"/schools/{world.school.pk}/kundoluk.json"), 404, "not_found")
