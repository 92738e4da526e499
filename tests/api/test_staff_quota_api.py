"""The quota over the API for the school, the district and the ministry, scoped (§11, §17)."""

from __future__ import annotations

import pytest
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.accounts.services import token_issue
from kattoo.core import clock

from ..conftest import BEFORE, SYSTEM, build_school
from ..factories import SchoolFactory, UserFactory
from .test_applicant_api import Api, problem


@pytest.fixture
def school(campaign):
    return build_school(campaign, sizes=[("ky", 30), ("ru", 20)], first=["ky", "ru"])


def api_for(client: Client, **user) -> Api:
    return Api(client, token_issue(user=UserFactory(**user), actor=SYSTEM))


def test_director_changes_and_confirms_before_the_lock(client, school) -> None:
    director = api_for(client, role=Role.SCHOOL, school=school)
    path = f"/schools/{school.pk}/quota"
    with clock.frozen(BEFORE):
        quota = director.get(path).json()
        assert quota["state"] == "draft" and quota["lock_at"] == "2026-03-28T00:00:00+06:00"
        assert quota["abilities"] == {"change": True, "confirm": True, "approve": False}
        assert [(c["language"], c["seats"], c["source_size"]) for c in quota["class_sets"]] == [
            ("ky", 30, 30),
            ("ru", 25, 20),
        ]
        changed = director.client.patch(
            f"/api/v1{path}",
            {
                "operations": [
                    {"op": "raise", "class_set": 2, "seats": 42},
                    {"op": "add", "seats": 28},
                ]
            },
            content_type="application/json",
            headers=director.headers,
        )
        assert changed.status_code == 200, changed.content
        assert [c["seats"] for c in changed.json()["class_sets"]] == [30, 42, 28]
        bad = director.client.patch(
            f"/api/v1{path}",
            {"operations": [{"op": "raise", "class_set": 1, "seats": 50}]},
            content_type="application/json",
            headers=director.headers,
        )
        assert "42" in problem(bad, 409, "quota_rule_violation")["detail"]  # §11: up to 42
        bad = director.client.patch(
            f"/api/v1{path}",
            {"operations": [{"op": "to_kyrgyz", "class_set": 1, "language": "ru"}]},
            content_type="application/json",
            headers=director.headers,
        )
        problem(bad, 409, "quota_rule_violation")
        confirmed = director.post(f"{path}/confirm").json()
        assert confirmed["state"] == "confirmed"
        assert [h["kind"] for h in confirmed["history"]] == ["computed", "changed", "confirmed"]
        problem(director.post(f"{path}/confirm"), 409, "quota_locked")


def test_after_the_lock_the_quota_is_confirmed_automatically(client, school) -> None:
    director = api_for(client, role=Role.SCHOOL, school=school)
    district = api_for(client, role=Role.DISTRICT, district=school.district)
    with clock.frozen(clock.bishkek(2026, 3, 28, 0, 0)):
        quota = director.get(f"/schools/{school.pk}/quota").json()
        assert quota["state"] == "auto_confirmed" and quota["abilities"]["change"] is False
        problem(director.post(f"/schools/{school.pk}/quota/confirm"), 409, "quota_locked")
        approved = district.post(f"/schools/{school.pk}/quota/approve").json()
        assert approved["approved_at"] and approved["history"][-1]["kind"] == "approved"


def test_scope_out_of_reach_is_404(client, school, campaign) -> None:
    other_school = SchoolFactory()
    outsider = api_for(client, role=Role.SCHOOL, school=other_school)
    problem(outsider.get(f"/schools/{school.pk}/quota"), 404, "not_found")
    other_district = api_for(client, role=Role.DISTRICT, district=other_school.district)
    problem(other_district.post(f"/schools/{school.pk}/quota/approve"), 404, "not_found")
    ministry = api_for(client, role=Role.MINISTRY_ANALYST)
    assert ministry.get(f"/schools/{school.pk}/quota").status_code == 200
    with clock.frozen(BEFORE):
        problem(ministry.post(f"/schools/{school.pk}/quota/confirm"), 403, "forbidden")
    from ..factories import PersonFactory

    parent = api_for(client, role=Role.APPLICANT, person=PersonFactory())
    problem(parent.get(f"/schools/{school.pk}/quota"), 404, "not_found")
