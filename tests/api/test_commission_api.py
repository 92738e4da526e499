"""The commission over the API (§9, §26): a child the registry does not know, linked later."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from kattoo.accounts.models import Role
from kattoo.commission.models import CommissionDecision
from kattoo.enrollment.models import Application

from ..conftest import World
from ..factories import registry_person
from .test_applicant_api import problem
from .test_staff_work_api import api_for


def test_unregistered_child_placed_and_linked_over_the_api(
    client: Client, world: World, at_stage2
) -> None:
    family = world.family()
    parent = family.parent.person
    officer = api_for(client, role=Role.DISTRICT, district=world.school.district)
    body = {
        "child": {
            "surname": "Токтогулов",
            "name": "Алмаз",
            "birth_date": "2017-11-02",
            "sex": "M",
        },
        "applicant_pin": parent.pin,
        "school": str(world.school.pk),
        "language": "ky",
        "number": "КДД-50",
        "decided_on": "2026-06-01",
        "ground": "no_documents",
    }
    both = problem(
        officer.post("/commission-decisions", {**body, "child_pin": family.child.pin}),
        422,
        "validation_error",
    )
    assert both["errors"][0]["field"] == "child_pin"
    placed = officer.post("/commission-decisions", body)
    assert placed.status_code == 201, placed.content
    out = placed.json()
    assert out["awaits_link"] and out["temporary_id"].startswith("0")
    problem(
        officer.post(
            "/commission-decisions",
            {**body, "number": "КДД-51", "child": {**body["child"], "birth_date": "2021-01-02"}},
        ),
        409,
        "commission_child_too_young",
    )

    record = registry_person(sex="M", born=dt.date(2017, 11, 2), mother=parent.pin)
    world.registry.add_person(record)
    other = api_for(client, role=Role.DISTRICT, district=world.other_school.district)
    assert world.other_school.district_id != world.school.district_id
    outside = other.post(
        f"/commission-decisions/{out['id']}/link-child", {"child_pin": record["pin"]}
    )
    assert outside.status_code == 404
    linked = officer.post(
        f"/commission-decisions/{out['id']}/link-child", {"child_pin": record["pin"]}
    )
    assert linked.status_code == 200, linked.content
    assert linked.json()["awaits_link"] is False
    assert Application.objects.get(pk=out["application"]).child.pin == record["pin"]
    assert CommissionDecision.objects.get(pk=out["id"]).linked_at is not None
    problem(
        officer.post(f"/commission-decisions/{out['id']}/link-child", {"child_pin": record["pin"]}),
        409,
        "commission_already_linked",
    )


def test_a_late_placement_before_the_deadline_is_a_problem(
    client: Client, world: World, at_stage2
) -> None:
    family = world.family()
    officer = api_for(client, role=Role.DISTRICT, district=world.school.district)
    body = {
        "child_pin": family.child.pin,
        "applicant_pin": family.parent.person.pin,
        "school": str(world.school.pk),
        "language": "ky",
        "number": "КДД-52",
        "decided_on": "2026-06-01",
        "ground": "late",
    }
    refused = problem(officer.post("/commission-decisions", body), 409, "commission_not_late")
    assert "after this campaign's registration has ended" in refused["title"]
    documented = problem(
        officer.post("/commission-decisions", {**body, "ground": "no_documents"}),
        409,
        "commission_documents_present",
    )
    assert "birth certificate" in documented["title"]
    assert not CommissionDecision.objects.exists()


def test_a_decision_dated_after_today_is_a_validation_problem(
    client: Client, world: World, at_stage2
) -> None:
    """At 2026-06-01 10:05 in Bishkek a decision of 2026-06-02 is not recorded yet: 422
    ``validation_error`` naming ``decided_on`` (API.md: validation errors carry ``errors``)."""
    family = world.family(births=[dt.date(2018, 2, 2)])
    officer = api_for(client, role=Role.DISTRICT, district=world.school.district)
    body = {
        "child_pin": family.child.pin,
        "applicant_pin": family.parent.person.pin,
        "school": str(world.school.pk),
        "language": "ky",
        "number": "КДД-53",
        "decided_on": "2026-06-02",
        "ground": "over_age",
    }
    refused = problem(officer.post("/commission-decisions", body), 422, "validation_error")
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("decided_on", "in_future")]
    assert not CommissionDecision.objects.exists()
    assert not Application.objects.filter(child=family.child).exists()
    placed = officer.post("/commission-decisions", {**body, "decided_on": "2026-06-01"})
    assert placed.status_code == 201, placed.content
