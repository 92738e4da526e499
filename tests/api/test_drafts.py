"""Draft before the opening, one request at the opening (refused before it, with the time)."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from kattoo.accounts.services import token_issue
from kattoo.core import clock
from kattoo.enrollment.models import Application, Draft

from ..conftest import BEFORE, STAGE1, SYSTEM, World
from .test_applicant_api import Api, problem


def test_prepare_before_submit_at_the_opening(client: Client, world: World) -> None:
    family = world.family()
    api = Api(client, token_issue(user=family.parent, actor=SYSTEM), language="en")
    child = str(family.child.pk)
    with clock.frozen(BEFORE):
        # checked now, against the stage that opens next: stage 1 refuses other microdistricts
        problem(
            client.put(
                f"/api/v1/drafts/{child}",
                {"school": str(world.other_school.pk), "language": "ky"},
                content_type="application/json",
                headers=api.headers,
            ),
            409,
            "not_in_microdistrict",
        )
        saved = client.put(
            f"/api/v1/drafts/{child}",
            {"school": str(world.school.pk), "language": "ky"},
            content_type="application/json",
            headers=api.headers,
        )
        assert saved.status_code == 200, saved.content
        assert saved.json()["route"] == "microdistrict"
        assert saved.json()["opens_at"] == "2026-04-01T10:00:00+06:00"
        early = problem(api.post(f"/drafts/{child}/submit"), 409, "registration_closed")
        assert "2026-04-01 10:00" in early["detail"]
    with clock.frozen(STAGE1 - dt.timedelta(seconds=1)):
        problem(api.post(f"/drafts/{child}/submit"), 409, "registration_closed")
    with clock.frozen(STAGE1):
        submitted = api.post(f"/drafts/{child}/submit")
    assert submitted.status_code == 201, submitted.content
    assert submitted.json()["position"] == 1
    assert Application.objects.count() == 1 and not Draft.objects.exists()


def test_draft_of_someone_elses_child_is_404(client: Client, world: World) -> None:
    family, stranger = world.family(), world.family()
    api = Api(client, token_issue(user=stranger.parent, actor=SYSTEM))
    with clock.frozen(BEFORE):
        response = client.put(
            f"/api/v1/drafts/{family.child.pk}",
            {"school": str(world.school.pk), "language": "ky"},
            content_type="application/json",
            headers=api.headers,
        )
    problem(response, 404, "not_found")
    problem(api.post(f"/drafts/{family.child.pk}/submit"), 404, "not_found")
