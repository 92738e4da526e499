"""The district's check of special-order admissions over the API (§17, §24)."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from kattoo.accounts.models import Role
from kattoo.catalog.models import Teacher
from kattoo.commission.services import commission_place
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import SeatPool

from ..conftest import BEFORE, World
from ..factories import UserFactory, registry_adult
from .test_applicant_api import problem
from .test_staff_work_api import api_for


def test_above_quota_admissions_with_their_ground(client: Client, world: World, at_stage2) -> None:
    SeatPool.objects.filter(school=world.school, language="ky").update(taken=25)
    officer_user = UserFactory(role=Role.DISTRICT, district=world.school.district)
    older = world.family(births=[dt.date(2018, 2, 2)])
    decision = commission_place(
        campaign=world.campaign,
        officer=officer_user,
        child=older.child,
        applicant=older.parent.person,
        school=world.school,
        language="ky",
        number="КДД-9",
        decided_on=dt.date(2026, 6, 1),
        ground="over_age",
        documents_checked=True,
        actor=Actor(user=officer_user),
    )
    officer = api_for(client, role=Role.DISTRICT, district=world.school.district)
    rows = officer.get("/above-quota").json()
    assert [(r["application"], r["route"]) for r in rows] == [
        (str(decision.application_id), "commission")
    ]
    assert "КДД-9" in rows[0]["detail"]
    other = api_for(client, role=Role.DISTRICT, district=world.other_school.district)
    assert other.get("/above-quota").json() == []
    director = api_for(client, role=Role.SCHOOL, school=world.school)
    problem(director.get("/above-quota"), 403, "forbidden")


def test_a_late_teacher_waits_for_the_district(client: Client, world: World, at_stage1) -> None:
    world.registry.add_person(registry_adult("21505198500002", surname="Асанов", name="Бакыт"))
    director = api_for(client, role=Role.SCHOOL, school=world.school)
    asked = director.post(
        f"/schools/{world.school.pk}/teachers", {"pin": "21505198500002", "full_name": "Бакыт"}
    )
    assert asked.status_code == 202, asked.content
    addition = asked.json()["addition"]
    officer = api_for(client, role=Role.DISTRICT, district=world.school.district)
    [listed] = officer.get("/teacher-additions").json()
    assert listed["id"] == addition and listed["status"] == "pending"
    problem(
        officer.post(f"/teacher-additions/{addition}/reject", {"note": ""}), 422, "validation_error"
    )
    other = api_for(client, role=Role.DISTRICT, district=world.other_school.district)
    assert other.post(f"/teacher-additions/{addition}/approve", {}).status_code == 404
    with clock.frozen(clock.bishkek(2026, 4, 2, 9, 0)):
        approved = officer.post(f"/teacher-additions/{addition}/approve", {})
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert Teacher.objects.filter(school=world.school, pin="21505198500002").exists()
    problem(
        officer.post(f"/teacher-additions/{addition}/reject", {"note": "late"}),
        409,
        "invalid_status_transition",
    )


def test_a_removal_after_the_lock_waits_for_the_district(client: Client, world: World) -> None:
    # §24: before the lock the school removes at once; from the lock the district decides.
    world.registry.add_person(registry_adult("11203198800001"))
    world.registry.add_person(registry_adult("21505198500002", surname="Асанов", name="Бакыт"))
    director = api_for(client, role=Role.SCHOOL, school=world.school)
    roster = f"/schools/{world.school.pk}/teachers"
    with clock.frozen(BEFORE):
        first = director.post(roster, {"pin": "11203198800001", "full_name": "Айгүл"}).json()
        second = director.post(roster, {"pin": "21505198500002", "full_name": "Бакыт"}).json()
        removed = director.post(f"{roster}/{first['id']}/remove", {})
        assert removed.status_code == 200 and removed.json()["removed"] is True
    assert not Teacher.objects.filter(pin="11203198800001").exists()
    with clock.frozen(clock.bishkek(2026, 3, 30, 9, 0)):
        problem(director.post(f"{roster}/{second['id']}/remove", {}), 422, "validation_error")
        asked = director.post(f"{roster}/{second['id']}/remove", {"ground": "Dismissed"})
        assert asked.status_code == 202, asked.content
        assert (asked.json()["kind"], asked.json()["status"]) == ("remove", "pending")
        listed = director.get(roster).json()
        assert listed["frozen"] is True
        assert [t["pin"] for t in listed["teachers"]] == ["21505198500002"]
        assert [(c["kind"], c["ground"]) for c in listed["changes"]] == [("remove", "Dismissed")]
        officer = api_for(client, role=Role.DISTRICT, district=world.school.district)
        [change] = officer.get("/teacher-additions").json()
        assert (change["kind"], change["ground"], change["status"]) == (
            "remove",
            "Dismissed",
            "pending",
        )
        other = api_for(client, role=Role.SCHOOL, school=world.other_school)
        assert other.post(f"{roster}/{second['id']}/remove", {"ground": "x"}).status_code in (
            403,
            404,
        )
        approved = officer.post(f"/teacher-additions/{change['id']}/approve", {})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert not Teacher.objects.filter(pin="21505198500002").exists()
