"""Staff accounts over the API (API.md "Campaign lifecycle", ADR 0018): create, list,
deactivate, a new link after a lost phone, the enrolment without a browser, and a staff
token from username, password and code."""

from __future__ import annotations

from base64 import b32decode
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import ApiToken, Role, User
from kattoo.accounts.services import token_issue, user_for_token
from kattoo.audit.models import AuditEvent

from ..accounts.staff_helpers import CLI, PASSWORD, person, wrong_code
from ..factories import DistrictFactory, SchoolFactory
from .test_applicant_api import Api, problem


@pytest.fixture(autouse=True)
def _limits() -> None:
    cache.clear()


def api_as(client: Client, user: User) -> Api:
    return Api(client, token_issue(user=user, actor=CLI), language="en")


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def current_code(secret: str, *, ahead: int = 0) -> str:
    """The code an authenticator app that scanned this secret shows now (``ahead``: in the
    next 30-second step; a code is accepted once, so the sign-in right after the enrolment
    uses the next step's code, which the device's tolerance of one step accepts)."""
    return f"{totp(b32decode(secret), drift=ahead):06d}"


def enrol_over_api(client: Client, url: str) -> str:
    """Choose the password and confirm with the code the phone would show; the secret."""
    anonymous = Api(client, language="en")
    started = anonymous.post("/staff/enrolment", {"token": token_of(url), "password": PASSWORD})
    assert started.status_code == 200, started.content
    secret = str(started.json()["secret"])
    confirmed = anonymous.post(
        "/staff/enrolment/confirm", {"token": token_of(url), "code": current_code(secret)}
    )
    assert confirmed.status_code == 204, confirmed.content
    return secret


def test_ministry_creates_an_officer_who_creates_a_director_end_to_end(client: Client) -> None:
    school = SchoolFactory()
    admin = api_as(client, person(Role.MINISTRY_ADMIN))
    created = admin.post(
        "/staff",
        {
            "username": "officer.chui",
            "role": "district",
            "full_name": "Айбек Осмонов",
            "district": school.district.soate,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["role"] == "district" and body["district"] == school.district.soate
    assert body["school"] is None and body["full_name"] == "Айбек Осмонов"
    assert body["enrolment_url"].startswith("http://127.0.0.1:8000/staff/enrol/")
    assert body["enrolment_expires_at"].endswith("+06:00")
    assert "password" not in str(body)

    secret = enrol_over_api(client, body["enrolment_url"])
    signed_in = Api(client, language="en").post(
        "/auth/staff-token",
        {"username": "officer.chui", "password": PASSWORD, "code": current_code(secret, ahead=1)},
    )
    assert signed_in.status_code == 201, signed_in.content
    officer = Api(client, signed_in.json()["token"], language="en")
    assert user_for_token(signed_in.json()["token"]).username == "officer.chui"
    expires = ApiToken.objects.get(label="staff").expires_at
    assert expires is not None

    director = officer.post(
        "/staff",
        {"username": "director1", "role": "school", "full_name": "Гүлнара", "school": school.code},
    )
    assert director.status_code == 201, director.content
    assert director.json()["school"] == school.code

    listed = officer.get("/staff").json()
    assert [(p["username"], p["enrolled"], p["is_active"]) for p in listed] == [
        ("director1", False, True)
    ]
    assert listed[0]["abilities"] == {"deactivate": True, "reset_second_factor": True}
    everyone = {p["username"]: p for p in admin.get("/staff").json()}
    assert everyone["officer.chui"]["enrolled"] is True and "director1" in everyone
    # The ministry sees the director but does not manage directors.
    assert everyone["director1"]["abilities"]["deactivate"] is False


def test_refusals_are_problems_and_change_nothing(client: Client) -> None:
    own, other = SchoolFactory(), SchoolFactory()
    officer = api_as(client, person(Role.DISTRICT, district=own.district))
    analyst = api_as(client, person(Role.MINISTRY_ANALYST))
    admin = api_as(client, person(Role.MINISTRY_ADMIN))
    users = User.objects.count()
    director = {"username": "dir2", "role": "school", "full_name": "X", "school": other.code}
    problem(officer.post("/staff", director), 404, "not_found")
    problem(officer.post("/staff", {**director, "role": "district"}), 403, "forbidden")
    problem(analyst.post("/staff", {**director, "role": "ministry_analyst"}), 403, "forbidden")
    problem(analyst.get("/staff"), 403, "forbidden")
    bad_role = problem(
        admin.post("/staff", {**director, "role": "applicant"}), 422, "validation_error"
    )
    assert bad_role["errors"][0]["field"] == "role"
    problem(Api(client).post("/staff", director), 401, "unauthorized")
    person(Role.MINISTRY_ANALYST, username="taken")
    problem(
        admin.post("/staff", {"username": "taken", "role": "ministry_analyst", "full_name": "Y"}),
        409,
        "username_taken",
    )
    assert User.objects.count() == users + 1
    assert not AuditEvent.objects.filter(action="staff.create").exists()


def test_deactivate_and_reset_in_scope(client: Client) -> None:
    own, other = SchoolFactory(), SchoolFactory()
    officer = api_as(client, person(Role.DISTRICT, district=own.district))
    mine = person(Role.SCHOOL, school=own, username="mine")
    theirs = person(Role.SCHOOL, school=other, username="theirs")
    raw = token_issue(user=mine, actor=CLI)
    TOTPDevice.objects.create(user=mine, name="kattoo", confirmed=True)

    reset = officer.post("/staff/mine/second-factor/reset")
    assert reset.status_code == 201, reset.content
    assert reset.json()["username"] == "mine" and "/staff/enrol/" in reset.json()["enrolment_url"]
    assert not TOTPDevice.objects.filter(user=mine).exists() and user_for_token(raw) is None

    problem(officer.post("/staff/theirs/deactivate"), 404, "not_found")
    problem(officer.post("/staff/nobody/deactivate"), 404, "not_found")
    assert officer.post("/staff/mine/deactivate").status_code == 204
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert not mine.is_active and theirs.is_active
    problem(officer.post("/staff/mine/second-factor/reset"), 409, "invalid_status_transition")
    analyst = api_as(client, person(Role.MINISTRY_ANALYST))
    problem(analyst.post("/staff/theirs/deactivate"), 403, "forbidden")


def test_enrolment_refusals(client: Client) -> None:
    admin = api_as(client, person(Role.MINISTRY_ADMIN))
    body = admin.post(
        "/staff", {"username": "analyst1", "role": "ministry_analyst", "full_name": "Z"}
    ).json()
    token = token_of(body["enrolment_url"])
    anonymous = Api(client, language="en")
    problem(
        anonymous.post("/staff/enrolment", {"token": "x" * 43, "password": PASSWORD}),
        404,
        "enrolment_invalid",
    )
    problem(
        anonymous.post("/staff/enrolment/confirm", {"token": token, "code": "123456"}),
        409,
        "enrolment_not_started",
    )
    weak = problem(
        anonymous.post("/staff/enrolment", {"token": token, "password": "short"}),
        422,
        "validation_error",
    )
    assert weak["errors"][0]["field"] == "password"
    started = anonymous.post("/staff/enrolment", {"token": token, "password": PASSWORD}).json()
    device = TOTPDevice.objects.get(user__username="analyst1")
    assert started["secret"] and started["otpauth_uri"].startswith("otpauth://totp/")
    problem(
        anonymous.post("/staff/enrolment/confirm", {"token": token, "code": wrong_code(device)}),
        422,
        "totp_invalid",
    )
    assert not TOTPDevice.objects.filter(user__username="analyst1", confirmed=True).exists()


def _enrolled(client: Client) -> tuple[str, str]:
    admin = api_as(client, person(Role.MINISTRY_ADMIN))
    body = admin.post(
        "/staff", {"username": "analyst2", "role": "ministry_analyst", "full_name": "Z"}
    ).json()
    return "analyst2", enrol_over_api(client, body["enrolment_url"])


def test_staff_token_refuses_wrong_password_or_code_and_locks_out(client: Client) -> None:
    username, secret = _enrolled(client)
    anonymous = Api(client, language="en")
    right = current_code(secret, ahead=1)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"

    def attempt(password: str, code: str) -> Any:
        return anonymous.post(
            "/auth/staff-token", {"username": username, "password": password, "code": code}
        )

    problem(attempt("wrong password!!", right), 401, "credentials_invalid")
    problem(attempt(PASSWORD, wrong), 401, "credentials_invalid")
    assert AuditEvent.objects.filter(action="staff.login_failed").count() == 2
    for _ in range(3):
        problem(attempt("wrong password!!", right), 401, "credentials_invalid")
    # Five failures: the username is locked for the window, even with the right answers.
    problem(attempt(PASSWORD, right), 429, "rate_limited")
    assert not ApiToken.objects.filter(label="staff").exists()


def test_staff_token_for_someone_not_enrolled_is_refused(client: Client) -> None:
    admin = api_as(client, person(Role.MINISTRY_ADMIN))
    admin.post("/staff", {"username": "fresh1", "role": "ministry_analyst", "full_name": "F"})
    problem(
        Api(client).post(
            "/auth/staff-token", {"username": "fresh1", "password": PASSWORD, "code": "123456"}
        ),
        401,
        "credentials_invalid",
    )


def test_a_district_officer_is_refused_a_district(client: Client) -> None:
    district = DistrictFactory()
    officer = api_as(client, person(Role.DISTRICT, district=district))
    problem(
        officer.post(
            "/staff",
            {"username": "o2", "role": "district", "full_name": "O", "district": district.soate},
        ),
        403,
        "forbidden",
    )
