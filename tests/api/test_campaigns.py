"""The campaign lifecycle and the calendar over the API (issue 11, ADR 0016)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.accounts.services import token_issue
from kattoo.audit.models import AuditEvent
from kattoo.campaigns.models import CalendarDay, Campaign
from kattoo.core import clock

from ..conftest import SYSTEM
from ..factories import SchoolFactory, UserFactory
from .test_applicant_api import Api, problem

NOW = clock.bishkek(2026, 12, 1, 12, 0)
BODY = {
    "code": "2027-2028",
    "title": "2027–2028",
    "birth_from": "2020-01-01",
    "birth_to": "2021-12-31",
    "stage1_opens_at": "2027-04-01T10:00:00+06:00",
    "stage2_opens_at": "2027-06-01T10:00:00",
    "registration_closes_at": "2027-08-31T00:00:00+06:00",
}


@pytest.fixture(autouse=True)
def _december(campaign):
    with clock.frozen(NOW):
        yield


def api_as(client: Client, role: str, **scope) -> Api:
    return Api(client, token_issue(user=UserFactory(role=role, **scope), actor=SYSTEM), "en")


def send(api: Api, method: str, path: str, body=None):
    return getattr(api.client, method)(
        f"/api/v1{path}", body or {}, content_type="application/json", headers=api.headers
    )


def test_the_ministry_creates_copies_and_publishes_next_years_campaign(client) -> None:
    admin = api_as(client, Role.MINISTRY_ADMIN)
    created = admin.post("/campaigns", {**BODY, "copy_from": "2026-2027"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "draft" and body["current"] is False
    assert body["stage1_opens_at"] == "2027-04-01T10:00:00+06:00"
    assert body["stage2_opens_at"] == "2027-06-01T10:00:00+06:00"  # no offset: Asia/Bishkek
    # Copied from 2026-2027, moved by one year.
    assert body["medical_from"] == "2027-08-04" and body["documents_request_until"] == "2027-08-30"
    assert body["class_size_max"] == 42 and body["weekend_days"] == [5, 6]
    # Thursday 2027-04-01: Wed 31, Tue 30, Mon 29 → the lock is the end of Monday 29 March.
    assert body["quota_lock_at"] == "2027-03-30T00:00:00+06:00"
    assert body["abilities"] == {"change": True, "publish": True}

    listed = admin.get("/campaigns").json()
    assert [c["code"] for c in listed] == ["2027-2028", "2026-2027"]
    assert listed[1]["state"] == "current" and listed[1]["stage"] == "closed"

    changed = send(admin, "patch", "/campaigns/2027-2028", {"cancel_limit": 2})
    assert changed.status_code == 200, changed.content
    assert changed.json()["cancel_limit"] == 2

    published = admin.post("/campaigns/2027-2028/publish")
    assert published.status_code == 200, published.content
    assert published.json()["state"] == "current" and published.json()["published_at"]
    old = admin.get("/campaigns/2026-2027").json()
    assert old["state"] == "archived" or old["is_active"] is False
    assert Campaign.objects.get(is_active=True).code == "2027-2028"
    problem(admin.post("/campaigns/2027-2028/publish"), 409, "campaign_already_current")
    actions = list(
        AuditEvent.objects.filter(object_type="campaigns.campaign").values_list("action", flat=True)
    )
    assert actions[-3:] == ["campaign.create", "campaign.update", "campaign.publish"]
    update = AuditEvent.objects.get(action="campaign.update", object_type="campaigns.campaign")
    assert update.data["changed"] == {"cancel_limit": [3, 2]}


def test_contradictory_settings_are_refused_field_by_field(client) -> None:
    admin = api_as(client, Role.MINISTRY_ADMIN)
    body = {
        **BODY,
        "copy_from": "2026-2027",
        "birth_to": "2021-12-30",
        "stage2_opens_at": "2027-03-01T10:00:00+06:00",
        "class_size_min": 30,
        "class_size_max": 20,
        "medical_from": "2027-09-10",
        "medical_until": "2027-09-01",
        "cancel_limit": 0,
    }
    refused = problem(admin.post("/campaigns", body), 422, "campaign_invalid")
    codes = {(e["field"], e["code"]) for e in refused["errors"]}
    assert codes == {
        ("birth_to", "birth_window_length"),
        ("stage2_opens_at", "stage_order"),
        ("class_size_max", "class_size_order"),
        ("medical_until", "medical_window_order"),
        ("cancel_limit", "limit_too_small"),
    }
    assert all(e["message"] for e in refused["errors"])
    assert not Campaign.objects.filter(code="2027-2028").exists()
    assert not AuditEvent.objects.filter(action="campaign.create").exists()


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"code": "2027-2029"}, "code", "code_format"),
        ({"code": "2026-2027"}, "code", "code_taken"),
        ({"stage1_opens_at": "2026-12-03T10:00:00+06:00"}, "stage1_opens_at", "quota_lock_past"),
        (
            {"registration_closes_at": "2027-05-01T10:00:00+06:00"},
            "registration_closes_at",
            "stage_order",
        ),
        ({"copy_from": "1999-2000"}, "copy_from", "not_found"),
    ],
)
def test_each_refusal_names_its_field(client, change, field, code) -> None:
    admin = api_as(client, Role.MINISTRY_ADMIN)
    refused = problem(
        admin.post("/campaigns", {**BODY, "copy_from": "2026-2027", **change}),
        422,
        "campaign_invalid",
    )
    assert (field, code) in {(e["field"], e["code"]) for e in refused["errors"]}


def test_without_copy_every_setting_is_required(client) -> None:
    admin = api_as(client, Role.MINISTRY_ADMIN)
    refused = problem(admin.post("/campaigns", BODY), 422, "campaign_invalid")
    assert ("cancel_limit", "required") in {(e["field"], e["code"]) for e in refused["errors"]}


def test_a_campaign_cannot_change_after_stage_1_opens(client) -> None:
    admin = api_as(client, Role.MINISTRY_ADMIN)
    refused = send(admin, "patch", "/campaigns/2026-2027", {"cancel_limit": 1})
    problem(refused, 409, "campaign_started")
    assert Campaign.objects.get(code="2026-2027").cancel_limit == 3


def test_publishing_waits_for_the_current_campaign_to_close(client) -> None:
    admin = api_as(client, Role.MINISTRY_ADMIN)
    assert admin.post("/campaigns", {**BODY, "copy_from": "2026-2027"}).status_code == 201
    with clock.frozen(clock.bishkek(2026, 8, 1)):
        refused = problem(admin.post("/campaigns/2027-2028/publish"), 409, "campaign_still_open")
    assert "2026-2027" in refused["detail"]
    assert Campaign.objects.get(is_active=True).code == "2026-2027"


@pytest.mark.parametrize("role", [Role.MINISTRY_ANALYST, Role.OPERATOR, Role.DISTRICT])
def test_only_the_ministry_administrator_writes(client, role) -> None:
    scope = {"district": SchoolFactory().district} if role == Role.DISTRICT else {}
    other = api_as(client, role, **scope)
    assert other.get("/campaigns").status_code == 200
    assert other.get("/campaigns/2026-2027").json()["abilities"]["change"] is False
    assert other.get("/calendar/2027").status_code == 200
    problem(other.post("/campaigns", {**BODY, "copy_from": "2026-2027"}), 403, "forbidden")
    problem(send(other, "patch", "/campaigns/2026-2027", {"title": "x"}), 403, "forbidden")
    problem(other.post("/campaigns/2026-2027/publish"), 403, "forbidden")
    problem(send(other, "put", "/calendar/2027", {"holidays": ["2027-03-22"]}), 403, "forbidden")
    assert not Campaign.objects.filter(code="2027-2028").exists()
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_applicants_see_nothing(client, world) -> None:
    family = world.family()
    parent = Api(client, token_issue(user=family.parent, actor=SYSTEM))
    problem(parent.get("/campaigns"), 403, "forbidden")
    problem(parent.get("/campaigns/2026-2027"), 403, "forbidden")
    problem(parent.get("/calendar/2026"), 403, "forbidden")
    assert Api(client).get("/campaigns").status_code == 401


def test_an_unknown_campaign_is_404(client) -> None:
    problem(api_as(client, Role.MINISTRY_ADMIN).get("/campaigns/2030-2031"), 404, "not_found")


def test_the_calendar_of_a_year_is_replaced_and_moves_the_lock(client) -> None:
    admin = api_as(client, Role.MINISTRY_ADMIN)
    assert admin.post("/campaigns", {**BODY, "copy_from": "2026-2027"}).status_code == 201
    put = send(
        admin,
        "put",
        "/calendar/2027",
        {
            "holidays": ["2027-03-29", "2027-03-22"],
            "working_days": ["2027-03-27"],
            "names": {"2027-03-22": "Nooruz (moved)"},
        },
    )
    assert put.status_code == 200, put.content
    body = put.json()
    assert body["holidays"] == ["2027-03-22", "2027-03-29"]
    assert body["working_days"] == ["2027-03-27"]
    # Mon 29 is a holiday: Wed 31, Tue 30, Sat 27 (working) → the end of Saturday 27 March.
    assert body["campaigns"] == [
        {
            "code": "2027-2028",
            "stage1_opens_at": "2027-04-01T10:00:00+06:00",
            "quota_lock_at": "2027-03-28T00:00:00+06:00",
        }
    ]
    assert admin.get("/calendar/2027").json()["holidays"] == ["2027-03-22", "2027-03-29"]
    event = AuditEvent.objects.get(action="calendar.set")
    assert event.object_id == "2027" and event.data["added"] == [
        "2027-03-22",
        "2027-03-27",
        "2027-03-29",
    ]


def test_a_bad_calendar_changes_nothing(client) -> None:
    admin = api_as(client, Role.MINISTRY_ADMIN)
    refused = problem(
        send(
            admin,
            "put",
            "/calendar/2027",
            {"holidays": ["2027-03-22", "2028-01-01"], "working_days": ["2027-03-22"]},
        ),
        422,
        "calendar_invalid",
    )
    assert {e["code"] for e in refused["errors"]} == {"outside_year", "in_both_lists"}
    # 2026 days before 1 December were used for computations.
    past = send(admin, "put", "/calendar/2026", {"holidays": ["2026-12-31"]})
    assert "day_in_past" in {e["code"] for e in problem(past, 422, "calendar_invalid")["errors"]}
    assert not CalendarDay.objects.filter(date__year__in=[2027, 2028]).exists()
    assert CalendarDay.objects.filter(date__year=2026).count() == 14
    assert not AuditEvent.objects.filter(action="calendar.set").exists()
    assert admin.get("/calendar/1999").status_code == 422
    assert dt.date(2026, 12, 31) not in set(CalendarDay.objects.values_list("date", flat=True))
