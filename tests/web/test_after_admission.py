"""Web, after admission: the parent's withdrawal (a warning and a confirmation first) and answer
to the ПМПК proposal, the school's proposal, the district's transfer and its lists."""

from __future__ import annotations

import pytest
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.catalog.models import School
from kattoo.core.actors import Actor
from kattoo.enrollment.models import (
    AdmissionTransfer,
    Application,
    PmpkOutcome,
    PmpkProposal,
    Status,
)
from kattoo.enrollment.schoolwork import pmpk_outcome_record, pmpk_refer
from kattoo.enrollment.services import application_admit, application_register

from ..conftest import SYSTEM, Family, World, build_school
from .staff.conftest import staff_user, verified


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


def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def test_the_parent_is_warned_then_withdraws(
    client: Client, family: Family, admitted: Application
) -> None:
    english(client).force_login(family.parent)
    page = client.get(f"/applications/{admitted.pk}/").content.decode()
    assert f"/applications/{admitted.pk}/withdraw/" in page
    warning = client.get(f"/applications/{admitted.pk}/withdraw/")
    assert warning.status_code == 200
    assert "cannot be returned" in warning.content.decode()
    # Without the confirmation nothing happens.
    refused = client.post(f"/applications/{admitted.pk}/withdraw/", {"reason": "Move"})
    assert refused.status_code == 422
    admitted.refresh_from_db()
    assert admitted.status == Status.ADMITTED
    done = client.post(
        f"/applications/{admitted.pk}/withdraw/", {"reason": "We move to Osh.", "confirm": "on"}
    )
    assert done.status_code == 302
    admitted.refresh_from_db()
    assert admitted.status == Status.WITHDRAWN
    after = client.get(f"/applications/{admitted.pk}/withdraw/").content.decode()
    assert "Only an admitted child is withdrawn" in after


def test_another_parent_cannot_reach_the_withdrawal(
    client: Client, world: World, admitted: Application
) -> None:
    client.force_login(world.family(street=world.elsewhere).parent)
    assert client.get(f"/applications/{admitted.pk}/withdraw/").status_code == 404
    response = client.post(f"/applications/{admitted.pk}/withdraw/", {"confirm": "on"})
    assert response.status_code == 404
    admitted.refresh_from_db()
    assert admitted.status == Status.ADMITTED


def test_the_school_proposes_and_the_parent_declines(
    client: Client, world: World, family: Family, admitted: Application
) -> None:
    director = staff_user(Role.SCHOOL, school=world.school)
    school = english(verified(Client(), director))
    base = f"/staff/school/applications/{admitted.pk}"
    referral = pmpk_refer(application=admitted, note="", actor=Actor(user=director))
    pmpk_outcome_record(
        referral=referral, outcome=PmpkOutcome.SPECIAL_SCHOOL, actor=Actor(user=director)
    )
    assert f"{base}/pmpk/propose/" in school.get(f"{base}/").content.decode()
    response = school.post(
        f"{base}/pmpk/propose/", {"kind": "special_school", "note": "School No. 7"}
    )
    assert response.status_code == 302
    proposal = PmpkProposal.objects.get(application=admitted)
    english(client).force_login(family.parent)
    page = client.get(f"/applications/{admitted.pk}/").content.decode()
    assert "School No. 7" in page and f"/applications/{admitted.pk}/pmpk-answer/" in page
    client.post(f"/applications/{admitted.pk}/pmpk-answer/", {"answer": "decline"})
    proposal.refresh_from_db()
    admitted.refresh_from_db()
    assert (proposal.answer, admitted.status) == ("declined", Status.ADMITTED)
    # The answer shows on the school's page too.
    assert "the parent declined" in school.get(f"{base}/").content.decode()


def test_the_district_transfers_by_pin_and_sees_everything(
    world: World, family: Family, admitted: Application
) -> None:
    neighbour = build_school(world.campaign, sizes=[("ky", 25)])
    School.objects.filter(pk=neighbour.pk).update(district=world.school.district)
    officer = english(verified(Client(), staff_user(Role.DISTRICT, district=world.school.district)))
    assert officer.get("/staff/district/after-admission/").status_code == 200
    form = {
        "child_pin": family.child.pin,
        "school": neighbour.pk,
        "language": "ky",
        "number": "T-9",
        "decided_on": "2026-04-01",
    }
    response = officer.post("/staff/district/after-admission/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    transfer = AdmissionTransfer.objects.get()
    assert transfer.to_application.school_id == neighbour.pk
    page = officer.get("/staff/district/after-admission/").content.decode()
    assert "T-9" in page
    # The child is admitted at the neighbour now: the same school again is refused.
    again = officer.post("/staff/district/after-admission/", {**form, "number": "T-10"})
    assert again.status_code == 409
    assert AdmissionTransfer.objects.count() == 1
    # Another district does not find the child.
    other = verified(Client(), staff_user(Role.DISTRICT, district=world.other_school.district))
    assert other.post("/staff/district/after-admission/", form).status_code == 422
