"""The demo of `make run`: built through the lifecycle's services on an empty database, for each
stage; it shows every state a newcomer should try, and a demo parent registers through the API."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import Role, User
from kattoo.appeals.models import Appeal, AppealStatus
from kattoo.audit.models import AuditEvent
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import Stage, campaign_active, campaign_stage
from kattoo.catalog.models import School
from kattoo.enrollment.models import Application
from kattoo.integrations.registry.client import registry_reset
from kattoo.quotas.models import Quota, QuotaStatus
from kattoo.quotas.selectors import quota_is_locked

from ..api.test_applicant_api import Api, problem

DEMO = "2026-2027-rehearsal"


@pytest.fixture
def load(settings, tmp_path, campaign) -> Iterator:
    settings.KATTOO_REGISTRY = {
        "BACKEND": "kattoo.integrations.registry.fake.FakeRegistry",
        "POPULATION_FILE": str(tmp_path / "population.json"),
    }
    settings.VAR_DIR = tmp_path
    registry_reset()

    def run(*args: str) -> str:
        out = io.StringIO()
        call_command("load_demo", *args, stdout=out)
        return out.getvalue()

    yield run
    registry_reset()


@pytest.fixture
def demo(load) -> str:
    return load()


def director() -> User:
    return User.objects.get(username="director")


def test_demo_opens_a_rehearsal_in_stage_one(demo: str) -> None:
    campaign = campaign_active()
    assert campaign.code == DEMO
    assert campaign.published_at is not None
    assert campaign_stage(campaign) == Stage.STAGE1
    assert not Campaign.objects.get(code="2026-2027").is_active
    quotas = Quota.objects.filter(campaign=campaign)
    # §11: every participating school got its quota from the import, none by hand
    assert quotas.count() == School.objects.filter(quotas__isnull=False).count() > 20
    assert all(quota_is_locked(q) for q in quotas)
    assert "director" in demo and "Bearer" in demo


def test_each_step_is_taken_by_whom_the_rules_say(demo: str) -> None:
    ministry = User.objects.get(username="ministry")
    officer = User.objects.get(username="district")
    assert AuditEvent.objects.get(action="campaign.create").actor_id == ministry.pk
    assert AuditEvent.objects.get(action="campaign.publish").actor_id == ministry.pk
    assert AuditEvent.objects.get(action="catalog.import").actor_id == ministry.pk
    created_director = AuditEvent.objects.get(action="staff.create", object_id=str(director().pk))
    assert created_director.actor_id == officer.pk
    assert director().school is not None and director().school.district_id == officer.district_id
    # the demo staff enrolled through the one-time link: a chosen password, a confirmed device
    for username in ("ministry", "analyst", "operator", "district", "director"):
        user = User.objects.get(username=username)
        assert user.has_usable_password() and user.check_password("demo-pass-2026")
        assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
    # the other district offices have an officer who has not enrolled yet
    others = User.objects.filter(role=Role.DISTRICT).exclude(username="district")
    assert others.exists() and not any(u.has_usable_password() for u in others)


def test_the_demo_shows_every_state_a_newcomer_should_try(demo: str) -> None:
    campaign = campaign_active()
    school = director().school
    assert school is not None
    # a director whose school has registered children (admit, refuse, classes)
    registered = Application.objects.filter(campaign=campaign, school=school, status="registered")
    assert registered.count() == 5
    # the director raised a class-set and confirmed before the lock
    own = Quota.objects.get(campaign=campaign, school=school)
    assert own.status == QuotaStatus.CONFIRMED and own.approved_at is not None
    assert own.events.filter(kind="changed").exists()
    # quotas waiting for the district's approval, in the demo officer's district
    waiting = Quota.objects.filter(campaign=campaign, approved_at__isnull=True)
    assert waiting.count() == 2
    assert {q.school.district_id for q in waiting} == {school.district_id}
    # an appeal to answer
    appeal = Appeal.objects.get(campaign=campaign)
    assert appeal.status == AppealStatus.OPEN and appeal.district_id == school.district_id


def test_before_stage_one_quotas_wait_for_directors(load) -> None:
    out = load("--stage", "before")
    campaign = campaign_active()
    assert campaign_stage(campaign) == Stage.BEFORE
    own = Quota.objects.get(campaign=campaign, school=director().school)
    # a quota waiting for the director: a draft, not locked yet
    assert own.status == QuotaStatus.DRAFT and not quota_is_locked(own)
    assert not Application.objects.exists()
    assert "waits for the director" in out


def test_stage_two(load) -> None:
    load("--stage", "2")
    assert campaign_stage(campaign_active()) == Stage.STAGE2
    assert Application.objects.filter(school=director().school).count() == 5


def test_the_demo_is_not_loaded_over_a_catalog(demo: str) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="without a catalog"):
        call_command("load_demo", "--stage", "2", stdout=io.StringIO())
    assert AuditEvent.objects.count() == events
    assert campaign_stage(campaign_active()) == Stage.STAGE1


def test_production_settings_refuse_the_demo(load, settings) -> None:
    settings.KATTOO_DEMO_ALLOWED = False
    with pytest.raises(CommandError, match="production"):
        load()
    assert not School.objects.exists() and not User.objects.exists()


def test_a_failure_half_way_leaves_nothing(load, monkeypatch) -> None:
    from kattoo.demo.management.commands import load_demo

    def broken(**kwargs):
        raise RuntimeError("the registry went away")

    monkeypatch.setattr(load_demo, "application_register", broken)
    with pytest.raises(RuntimeError):
        load()
    assert not Campaign.objects.filter(code=DEMO).exists()
    assert not School.objects.exists() and not User.objects.exists()
    assert Campaign.objects.get(code="2026-2027").is_active


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
