"""Issue 13 item 9: a stranger guessing ``director`` locks only their own address; the real
director signs in from theirs with the right password and code, and a lockout says how long
to wait (web and API share the counters in kattoo.accounts.staff)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from kattoo.accounts.models import ApiToken, Role
from kattoo.accounts.staff import FAILURES_PER_ADDRESS

from ..web.staff.conftest import PASSWORD, staff_user, totp_device
from ..web.staff.test_sign_in import code_of

STRANGER = "203.0.113.7"
DIRECTOR_DESK = "198.51.100.20"


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def web_attempt(client: Client, address: str, username: str, password: str, code: str):
    return client.post(
        "/staff/login/",
        {"username": username, "password": password, "code": code},
        REMOTE_ADDR=address,
    )


def api_attempt(client: Client, address: str, username: str, password: str, code: str):
    return client.post(
        "/api/v1/auth/staff-token",
        {"username": username, "password": password, "code": code},
        content_type="application/json",
        headers={"Accept-Language": "en"},
        REMOTE_ADDR=address,
    )


@pytest.mark.parametrize("channel", ["web", "api"])
def test_a_strangers_failures_do_not_lock_the_director_out(world, channel: str) -> None:
    director = staff_user(Role.SCHOOL, school=world.school)
    device = totp_device(director)
    attempt = web_attempt if channel == "web" else api_attempt
    stranger = Client()
    for _ in range(20):
        attempt(stranger, STRANGER, director.username, "guess", "000000")
    # The stranger's own address is shut, even with the right answers.
    shut = attempt(stranger, STRANGER, director.username, PASSWORD, code_of(device))
    if channel == "web":
        assert shut.status_code == 200 and 'role="alert"' in shut.content.decode()
    else:
        assert shut.status_code == 429 and shut.json()["code"] == "rate_limited"
    # The director, from the school's desk, signs in with the password and the code.
    desk = Client()
    response = attempt(desk, DIRECTOR_DESK, director.username, PASSWORD, code_of(device, 1))
    if channel == "web":
        assert response.status_code == 302 and response["Location"] == "/staff/"
        assert desk.get("/staff/school/").status_code == 200
    else:
        assert response.status_code == 201, response.content
        assert ApiToken.objects.filter(user=director, label="staff").exists()


def test_failures_from_one_address_lock_that_address_for_everyone(world) -> None:
    director = staff_user(Role.SCHOOL, school=world.school)
    device = totp_device(director)
    stranger = Client()
    for number in range(FAILURES_PER_ADDRESS):
        web_attempt(stranger, STRANGER, f"user{number}", "guess", "000000")
    shut = web_attempt(stranger, STRANGER, director.username, PASSWORD, code_of(device))
    assert shut.status_code == 200 and 'role="alert"' in shut.content.decode()
    assert stranger.get("/staff/school/").status_code == 302


def test_the_lockout_tells_how_long_to_wait(world) -> None:
    director = staff_user(Role.SCHOOL, school=world.school)
    device = totp_device(director)
    client = Client()
    for _ in range(5):
        api_attempt(client, STRANGER, director.username, "guess", "000000")
    refused = api_attempt(client, STRANGER, director.username, PASSWORD, code_of(device))
    assert refused.status_code == 429
    wait = int(refused["Retry-After"])
    assert 14 * 60 < wait <= 15 * 60
    assert "Wait 15 minutes" in refused.json()["detail"]
    with translation.override("en"):
        page = client.post(
            "/staff/login/",
            {"username": director.username, "password": PASSWORD, "code": code_of(device)},
            REMOTE_ADDR=STRANGER,
            headers={"Accept-Language": "en"},
        )
    assert "Wait 15 minutes and try again" in page.content.decode()


def test_bad_input_is_refused_clearly_and_counts_nothing(client: Client, world) -> None:
    response = client.post(
        "/api/v1/auth/staff-token",
        {"username": "director", "password": "x", "code": "12"},
        content_type="application/json",
        REMOTE_ADDR=STRANGER,
    )
    assert response.status_code == 422
    assert cache.get(f"staff-login:ip:{STRANGER}") is None
