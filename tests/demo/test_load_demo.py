"""The demo of `make run`: it loads, and a demo parent registers through the API."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import Stage, campaign_active, campaign_stage
from kattoo.integrations.registry.client import registry_reset
from kattoo.quotas.models import Quota
from kattoo.quotas.selectors import quota_is_locked

from ..api.test_applicant_api import Api, problem


@pytest.fixture
def demo(settings, tmp_path, campaign):
    settings.KATTOO_REGISTRY = {
        "BACKEND": "kattoo.integrations.registry.fake.FakeRegistry",
        "POPULATION_FILE": str(tmp_path / "population.json"),
    }
    registry_reset()
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    yield out.getvalue()
    registry_reset()


def test_demo_opens_a_rehearsal_in_stage_one(demo: str) -> None:
    campaign = campaign_active()
    assert campaign.code == "2026-2027-rehearsal"
    assert campaign_stage(campaign) == Stage.STAGE1
    assert not Campaign.objects.get(code="2026-2027").is_active
    quotas = Quota.objects.filter(campaign=campaign)
    assert quotas.count() > 20 and all(quota_is_locked(q) for q in quotas)
    assert "director" in demo and "Bearer" in demo


def test_a_demo_parent_registers_is_refused_and_cancels(demo: str, client: Client) -> None:
    token = re.search(r"Bearer (\S+)\"", demo).group(1)
    api = Api(client, token, language="en")
    children = api.get("/me/children").json()
    child = next(c for c in children if c["eligible"])
    schools = api.get("/schools", child=child["id"]).json()["items"]
    assert schools, "stage 1 offers the microdistrict school"
    school = next(s for s in schools if s["pools"])
    language = school["pools"][0]["language"]
    all_schools = api.get("/schools", limit=50).json()["items"]
    elsewhere = next(
        s for s in all_schools if s["id"] not in {x["id"] for x in schools} and s["pools"]
    )
    problem(
        api.post(
            "/applications",
            {
                "child": child["id"],
                "school": elsewhere["id"],
                "language": elsewhere["pools"][0]["language"],
            },
        ),
        409,
        "not_in_microdistrict",
    )
    created = api.post(
        "/applications", {"child": child["id"], "school": school["id"], "language": language}
    )
    assert created.status_code == 201, created.content

    def free():
        return next(
            p
            for p in api.get(f"/schools/{school['id']}").json()["pools"]
            if p["language"] == language
        )["free"]

    before_cancel = free()
    assert api.post(f"/applications/{created.json()['id']}/cancel").json()["status"] == "cancelled"
    assert free() == before_cancel + 1


def test_demo_loads_twice(demo: str, settings) -> None:
    call_command("load_demo", "--stage", "2", stdout=io.StringIO())
    assert campaign_stage(campaign_active()) == Stage.STAGE2
