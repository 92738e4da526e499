"""Issue 13 item 5: where one is signed in, ending a session or a token, signing out
everywhere; staff sessions are short (kattoo.web.views.sessions)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from kattoo.accounts.models import ApiToken, Role, User, UserSession, token_digest
from kattoo.accounts.services import token_issue, user_for_token
from kattoo.accounts.sessions import web_session_record
from kattoo.audit.models import AuditEvent
from kattoo.core import clock

from ..conftest import SYSTEM
from .staff.conftest import PASSWORD, staff_user, totp_device
from .staff.test_sign_in import code_of


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()


def signed_in(user: User, agent: str = "Firefox") -> Client:
    """A browser signed in as the applicant, its session recorded as the sign-in does."""
    browser = Client(HTTP_USER_AGENT=agent)
    browser.force_login(user)
    web_session_record(
        user=user,
        session_key=browser.session.session_key,
        expires_at=clock.now() + dt.timedelta(days=14),
        user_agent=agent,
        ip="198.51.100.4",
        actor=SYSTEM,
    )
    return browser


def test_the_page_lists_sessions_and_tokens(world) -> None:
    parent = world.family().parent
    phone, laptop = signed_in(parent, "Phone"), signed_in(parent, "Laptop")
    token_issue(user=parent, actor=SYSTEM, label="harness")
    signed_in(world.family().parent, "Stranger's")
    page = laptop.get("/account/sessions/", headers={"Accept-Language": "en"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Phone" in html and "Laptop" in html and "harness" in html
    assert "Stranger's" not in html
    assert html.count("this browser") == 1
    assert phone.get("/children/").status_code == 200


def test_end_another_session_and_revoke_a_token(world) -> None:
    parent = world.family().parent
    phone, laptop = signed_in(parent, "Phone"), signed_in(parent, "Laptop")
    raw = token_issue(user=parent, actor=SYSTEM, label="harness")
    token = ApiToken.objects.get(digest=token_digest(raw))
    row = UserSession.objects.get(user=parent, user_agent="Phone")
    response = laptop.post("/account/sessions/", {"action": "end_session", "id": row.pk})
    assert response.status_code == 302 and response["Location"] == "/account/sessions/"
    assert phone.get("/children/")["Location"].startswith("/login/")
    assert laptop.get("/children/").status_code == 200
    laptop.post("/account/sessions/", {"action": "revoke_token", "id": token.pk})
    assert user_for_token(raw) is None
    assert AuditEvent.objects.filter(action="session.end", object_id=str(row.pk)).exists()
    assert AuditEvent.objects.filter(action="token.revoke", object_id=str(token.pk)).exists()


@pytest.mark.parametrize(
    "form",
    [
        {"action": "revoke_token", "id": "{theirs_token}"},
        {"action": "end_session", "id": "{theirs_session}"},
        {"action": "revoke_token", "id": "１"},
        {"action": "explode", "id": "1"},
        {},
    ],
)
def test_bad_or_foreign_requests_change_nothing(world, form: dict[str, str]) -> None:
    parent, stranger = world.family().parent, world.family().parent
    laptop = signed_in(parent)
    theirs_browser = signed_in(stranger)
    theirs_raw = token_issue(user=stranger, actor=SYSTEM)
    values = {
        "{theirs_token}": str(ApiToken.objects.get(digest=token_digest(theirs_raw)).pk),
        "{theirs_session}": str(UserSession.objects.get(user=stranger).pk),
    }
    data = {key: values.get(value, value) for key, value in form.items()}
    before = (AuditEvent.objects.count(), UserSession.objects.count())
    response = laptop.post("/account/sessions/", data, headers={"Accept-Language": "en"})
    assert response.status_code == 302
    page = laptop.get("/account/sessions/", headers={"Accept-Language": "en"}).content.decode()
    assert "nothing changed" in page
    assert (AuditEvent.objects.count(), UserSession.objects.count()) == before
    assert user_for_token(theirs_raw) == stranger
    assert theirs_browser.get("/children/").status_code == 200


def test_sign_out_everywhere(world) -> None:
    parent = world.family().parent
    phone, laptop = signed_in(parent, "Phone"), signed_in(parent, "Laptop")
    raw = token_issue(user=parent, actor=SYSTEM)
    response = laptop.post("/account/sessions/", {"action": "everywhere"})
    assert response["Location"] == "/login/"
    for browser in (phone, laptop):
        assert browser.get("/children/")["Location"].startswith("/login/")
    assert user_for_token(raw) is None
    assert not UserSession.objects.filter(user=parent).exists()


def test_logout_ends_the_session_and_its_row(world) -> None:
    parent = world.family().parent
    phone, laptop = signed_in(parent, "Phone"), signed_in(parent, "Laptop")
    assert phone.post("/logout/").status_code == 302
    assert list(UserSession.objects.filter(user=parent).values_list("user_agent", flat=True)) == [
        "Laptop"
    ]
    assert laptop.get("/children/").status_code == 200


def test_staff_sign_in_is_recorded_and_short_applicants_keep_theirs(world) -> None:
    director = staff_user(Role.SCHOOL, school=world.school)
    device = totp_device(director)
    desk = Client(HTTP_USER_AGENT="School desk")
    desk.post(
        "/staff/login/",
        {"username": director.username, "password": PASSWORD, "code": code_of(device)},
    )
    hours = settings.KATTOO_STAFF["SESSION_HOURS"]
    assert hours < 14 * 24
    assert desk.session.get_expiry_age() == hours * 3600
    row = UserSession.objects.get(user=director)
    assert row.user_agent == "School desk"
    page = desk.get("/staff/sessions/", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "this browser" in page.content.decode()
    desk.post("/staff/logout/")
    assert not UserSession.objects.filter(user=director).exists()
    parent = world.family().parent
    assert signed_in(parent).session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_deactivation_ends_the_recorded_sessions(world) -> None:
    from kattoo.accounts.staff import staff_deactivate
    from kattoo.core.actors import Actor

    officer = staff_user(Role.DISTRICT, district=world.school.district)
    director = staff_user(Role.SCHOOL, school=world.school)
    device = totp_device(director)
    desk = Client()
    desk.post(
        "/staff/login/",
        {"username": director.username, "password": PASSWORD, "code": code_of(device)},
    )
    assert UserSession.objects.filter(user=director).exists()
    staff_deactivate(user=director, actor_user=officer, actor=Actor(user=officer))
    assert not UserSession.objects.filter(user=director).exists()
