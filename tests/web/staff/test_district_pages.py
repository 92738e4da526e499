"""The district officer's journeys: quota approval, commission decisions, appeals."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from kattoo.appeals.models import AppealStatus
from kattoo.appeals.services import appeal_file
from kattoo.commission.models import CommissionDecision
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application, Route
from kattoo.quotas.models import Quota
from kattoo.quotas.services import quota_confirm

from ...conftest import BEFORE, STAGE2, SYSTEM
from .conftest import Scene, verified

AFTER_LOCK = clock.bishkek(2026, 3, 30, 9, 0)


def officer(client: Client, scene: Scene, who: str = "district_own") -> Client:
    user = scene.users[who]
    assert user is not None
    return verified(client, user)


def test_schools_not_confirmed_lock_automatically_and_are_approved(
    client: Client, scene: Scene
) -> None:
    school = scene.world.school
    officer(client, scene)
    with clock.frozen(BEFORE):
        page = client.get("/staff/district/").content.decode()
        assert "alert warn" in page and school.code in page
        assert f"/staff/district/schools/{school.pk}/approve/" not in page
        early = client.post(f"/staff/district/schools/{school.pk}/approve/", follow=True)
        assert Quota.objects.get(school=school).approved_at is None
        assert "alert error" in early.content.decode()
    with clock.frozen(AFTER_LOCK):
        page = client.get("/staff/district/").content.decode()
        assert "alert warn" not in page
        assert f"/staff/district/schools/{school.pk}/approve/" in page
        detail = client.get(f"/staff/district/schools/{school.pk}/").content.decode()
        assert school.name_ky in detail and scene.world.home.name_ky in detail
        unconfirmed = client.post(
            f"/staff/district/schools/{school.pk}/approve/", {"back": "school"}, follow=True
        )
        assert Quota.objects.get(school=school).approved_at is None
        assert "alert error" in unconfirmed.content.decode()
        assert 'name="confirm"' in unconfirmed.content.decode()
        assert "required" in unconfirmed.content.decode()
        response = client.post(
            f"/staff/district/schools/{school.pk}/approve/", {"back": "school", "confirm": "on"}
        )
        assert response["Location"] == f"/staff/district/schools/{school.pk}/"
    quota = Quota.objects.get(school=school)
    assert quota.approved_at is not None and quota.approved_by_id == scene.users["district_own"].pk


def test_a_confirmed_quota_is_approved_and_others_cannot(client: Client, scene: Scene) -> None:
    school = scene.world.school
    with clock.frozen(BEFORE):
        quota_confirm(quota=Quota.objects.get(school=school), actor=SYSTEM)
        stranger = officer(Client(), scene, "district_other")
        assert stranger.post(f"/staff/district/schools/{school.pk}/approve/").status_code == 404
        assert stranger.get(f"/staff/district/schools/{school.pk}/").status_code == 404
        officer(client, scene)
        page = client.get("/staff/district/").content.decode()
        assert f"/staff/district/schools/{school.pk}/approve/" in page
        client.post(f"/staff/district/schools/{school.pk}/approve/", {"confirm": "on"})
    assert Quota.objects.get(school=school).approved_at is not None


def test_commission_decision_places_a_child(client: Client, scene: Scene) -> None:
    world = scene.world
    officer(client, scene)
    with clock.frozen(STAGE2 + dt.timedelta(days=3)):
        older = world.family(births=[dt.date(2018, 2, 2)])
        body = {
            "child_pin": older.child.pin,
            "applicant_pin": older.parent.person.pin,
            "school": world.school.pk,
            "language": "ky",
            "number": "КДД-7",
            "decided_on": "2026-06-03",
            "ground": "over_age",
            "documents_checked": "on",
        }
        bad = client.post("/staff/district/commission/", {**body, "child_pin": "123"})
        assert bad.status_code == 422
        foreign = client.post(
            "/staff/district/commission/", {**body, "school": world.other_school.pk}
        )
        assert foreign.status_code == 422  # not a school of this district: not a choice
        response = client.post("/staff/district/commission/", body)
        assert response.status_code == 302, response.content.decode()[:2000]
        decision = CommissionDecision.objects.get(number="КДД-7")
        assert decision.documents_checked and decision.application.route == Route.COMMISSION
        page = client.get("/staff/district/commission/").content.decode()
        assert "КДД-7" in page and older.child.full_name in page
        # The same decision number again (another child): the form says so, nothing is placed.
        another = world.family(births=[dt.date(2018, 3, 3)])
        again = client.post(
            "/staff/district/commission/",
            {**body, "child_pin": another.child.pin, "applicant_pin": another.parent.person.pin},
        )
        assert again.status_code == 409
        assert not Application.objects.filter(child=another.child).exists()
        twice = client.post("/staff/district/commission/", {**body, "number": "КДД-8"})
        assert twice.status_code == 409  # the child already has a seat
        unknown = client.post(
            "/staff/district/commission/", {**body, "child_pin": "21212201800099", "number": "9"}
        )
        assert unknown.status_code == 409


def test_appeals_inbox_overdue_first_and_answered(client: Client, scene: Scene) -> None:
    world = scene.world
    with clock.frozen(clock.bishkek(2026, 4, 20, 10)):
        fresh = appeal_file(
            campaign=world.campaign,
            user=scene.family.parent,
            subject="other",
            text="When do classes start?",
            school=world.school,
            actor=Actor(user=scene.family.parent),
        )
        officer(client, scene)
        page = client.get("/staff/district/appeals/").content.decode()
        # The appeal filed on 04-01 is overdue and comes before the fresh one.
        assert page.index(f'id="appeal-{scene.appeal.pk}"') < page.index(f'id="appeal-{fresh.pk}"')
        assert "badge bad" in page
        answer = f"/staff/district/appeals/{fresh.pk}/answer/"
        empty = client.post(answer, {f"a{fresh.pk}-text": ""})
        assert empty.status_code == 302
        fresh.refresh_from_db()
        assert fresh.status == AppealStatus.OPEN
        client.post(
            f"/staff/district/appeals/{fresh.pk}/answer/",
            {f"a{fresh.pk}-text": "Classes start on September 1."},
        )
    fresh.refresh_from_db()
    assert fresh.status == AppealStatus.ANSWERED and fresh.answer.startswith("Classes")
    stranger = officer(Client(), scene, "district_other")
    assert (
        stranger.post(
            f"/staff/district/appeals/{scene.appeal.pk}/answer/",
            {f"a{scene.appeal.pk}-text": "x" * 9},
        ).status_code
        == 404
    )


def test_the_officer_verifies_a_school(client: Client, scene: Scene) -> None:
    from kattoo.audit.models import AuditEvent
    from kattoo.catalog.models import SchoolVerification

    school = scene.world.school
    officer(client, scene)
    page = client.get(f"/staff/district/schools/{school.pk}/").content.decode()
    assert f"/staff/district/schools/{school.pk}/verify/" in page
    client.post(f"/staff/district/schools/{school.pk}/verify/", {"note": "checked with the akimat"})
    verification = SchoolVerification.objects.get(school=school)
    assert verification.verified_by == scene.users["district_own"]
    assert AuditEvent.objects.filter(action="school.verify", object_id=str(school.pk)).exists()
    page = client.get(f"/staff/district/schools/{school.pk}/").content.decode()
    assert "checked with the akimat" in page and "/verify/" not in page


def test_the_officer_forwards_an_appeal_to_a_school(client: Client, scene: Scene) -> None:
    from kattoo.appeals.models import Appeal

    family = scene.world.family()
    with clock.frozen(STAGE2):
        appeal = appeal_file(
            campaign=scene.world.campaign,
            user=family.parent,
            subject="missing_address",
            text="Our house is missing from the list.",
            school=scene.world.school,
            actor=Actor(user=family.parent),
        )
        officer(client, scene)
        page = client.get("/staff/district/appeals/").content.decode()
        assert f"/staff/district/appeals/{appeal.pk}/forward/" in page
        client.post(
            f"/staff/district/appeals/{appeal.pk}/forward/", {"school": scene.world.school.pk}
        )
    assert Appeal.objects.get(pk=appeal.pk).status == AppealStatus.FORWARDED
