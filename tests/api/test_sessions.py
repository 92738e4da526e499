"""Issue 13 item 5: every token expires, logout revokes it, one lists and revokes one's own."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from kattoo.accounts.models import ApiToken, Role, UserSession, token_digest
from kattoo.accounts.services import token_issue, user_for_token
from kattoo.audit.models import AuditEvent
from kattoo.core import clock

from ..conftest import SYSTEM, World
from ..factories import UserFactory
from .test_applicant_api import Api, problem


def token_row(raw: str) -> ApiToken:
    return ApiToken.objects.get(digest=token_digest(raw))


def test_every_token_expires_staff_sooner(world: World) -> None:
    parent = world.family().parent
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    with clock.frozen(clock.bishkek(2026, 4, 1, 9)):
        parents = token_issue(user=parent, actor=SYSTEM)
        staffs = token_issue(user=officer, actor=SYSTEM)
    assert token_row(parents).expires_at == clock.bishkek(2026, 5, 1, 9)
    assert token_row(staffs).expires_at == clock.bishkek(2026, 4, 1, 21)
    with clock.frozen(clock.bishkek(2026, 4, 1, 21)):
        assert user_for_token(staffs) is None
        assert user_for_token(parents) == parent


def test_logout_revokes_only_the_calling_token(client: Client, world: World) -> None:
    parent = world.family().parent
    first, second = (token_issue(user=parent, actor=SYSTEM) for _ in range(2))
    response = Api(client, first).post("/auth/logout")
    assert response.status_code == 204
    assert user_for_token(first) is None and user_for_token(second) == parent
    problem(Api(client, first).get("/me/tokens"), 401, "unauthorized")
    assert AuditEvent.objects.filter(action="token.revoke", object_id=str(token_row(first).pk))


def test_logout_all_revokes_every_token_and_web_session(client: Client, world: World) -> None:
    parent = world.family().parent
    first, second = (token_issue(user=parent, actor=SYSTEM) for _ in range(2))
    browser = Client()
    browser.force_login(parent)
    key = browser.session.session_key
    UserSession.objects.create(
        user=parent,
        session_key=key,
        created_at=clock.now(),
        expires_at=clock.now() + dt.timedelta(days=1),
    )
    assert browser.get("/children/").status_code == 200
    assert Api(client, first).post("/auth/logout-all").status_code == 204
    assert user_for_token(first) is None and user_for_token(second) is None
    assert browser.get("/children/")["Location"].startswith("/login/")
    assert not UserSession.objects.filter(user=parent).exists()
    assert AuditEvent.objects.filter(action="user.sign_out_everywhere", object_id=str(parent.pk))


def test_list_own_tokens_without_secrets(client: Client, world: World) -> None:
    parent = world.family().parent
    mine = token_issue(user=parent, actor=SYSTEM, label="phone")
    other = token_issue(user=parent, actor=SYSTEM, label="laptop")
    token_issue(user=world.family().parent, actor=SYSTEM, label="stranger's")
    Api(client, other).post("/auth/logout")
    body = Api(client, mine).get("/me/tokens").json()
    assert [(t["label"], t["current"]) for t in body] == [("phone", True)]
    assert set(body[0]) == {"id", "label", "created_at", "expires_at", "current"}
    assert mine not in str(body) and token_digest(mine) not in str(body)


def test_revoke_own_token_and_another_persons_is_not_found(client: Client, world: World) -> None:
    parent, stranger = world.family().parent, world.family().parent
    mine = token_issue(user=parent, actor=SYSTEM)
    spare = token_issue(user=parent, actor=SYSTEM)
    theirs = token_issue(user=stranger, actor=SYSTEM)
    api = Api(client, mine)
    before = AuditEvent.objects.count()
    for target in (str(token_row(theirs).pk), "999999999", "１", "abc"):
        response = client.delete(f"/api/v1/me/tokens/{target}", headers=api.headers)
        problem(response, 404, "not_found")
    assert user_for_token(theirs) == stranger and AuditEvent.objects.count() == before
    response = client.delete(f"/api/v1/me/tokens/{token_row(spare).pk}", headers=api.headers)
    assert response.status_code == 204
    assert user_for_token(spare) is None and user_for_token(mine) == parent


def test_staff_use_the_same_operations(client: Client, world: World) -> None:
    officer = UserFactory(role=Role.MINISTRY_ANALYST)
    raw = token_issue(user=officer, actor=SYSTEM)
    assert [t["current"] for t in Api(client, raw).get("/me/tokens").json()] == [True]
    assert Api(client, raw).post("/auth/logout").status_code == 204
    assert user_for_token(raw) is None


def test_anonymous_is_refused(client: Client) -> None:
    problem(Api(client).post("/auth/logout"), 401, "unauthorized")
    problem(Api(client).post("/auth/logout-all"), 401, "unauthorized")
    problem(Api(client).get("/me/tokens"), 401, "unauthorized")
