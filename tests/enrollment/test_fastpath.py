"""The two-statement draft submit (fastpath.py) answers exactly as the ordinary path does.

Each scenario builds two families in the same situation; one submits through the fast path,
the other with the fast path switched off. Status, problem code, route, the rows written
(history, audit, SMS, idempotency record, draft gone) must be the same. PostgreSQL only, and
outside a test transaction (the fast path commits on its own)."""

from __future__ import annotations

import datetime as dt
import importlib
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection  # noqa: F401  (the skipif condition reads it)
from django.db.models import F
from django.test import Client

from kattoo.accounts.services import token_issue
from kattoo.audit.models import AuditEvent
from kattoo.catalog.models import Ownership, Teacher
from kattoo.core import clock
from kattoo.enrollment import fastpath
from kattoo.enrollment.models import (
    Application,
    ApplicationTransition,
    Draft,
    IdempotencyRecord,
    SeatPool,
)
from kattoo.notifications.models import Notification
from kattoo.people.models import Person

from ..conftest import STAGE1, STAGE2, SYSTEM, Family, World

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="the fast path is PostgreSQL's statement"
    ),
]

IN_STAGE1 = STAGE1 + dt.timedelta(seconds=3)
IN_STAGE2 = STAGE2 + dt.timedelta(hours=1)


class Spy:
    """Counts what the fast path decided, so a test knows which path answered."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, enabled: bool) -> None:
        self.decided = 0
        self.enabled = enabled
        original = fastpath.draft_submit_fast

        def wrapped(**kwargs: Any) -> Any:
            if not self.enabled:
                return None
            answer = original(**kwargs)
            self.decided += answer is not None
            return answer

        monkeypatch.setattr(
            importlib.import_module("kattoo.api.v1.drafts"), "draft_submit_fast", wrapped
        )


def submit(
    client: Client, family: Family, *, key: str | None = None, at: dt.datetime = IN_STAGE1
) -> Any:
    token = token_issue(user=family.parent, actor=SYSTEM)
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    if key:
        headers["Idempotency-Key"] = key
    with clock.frozen(at):
        return client.post(
            f"/api/v1/drafts/{family.child.pk}/submit", content_type="application/json",
            headers=headers,
        )  # fmt: skip


def draft(world: World, family: Family, school: Any = None, language: str = "ky") -> None:
    Draft.objects.create(
        user=family.parent,
        campaign=world.campaign,
        child=family.child,
        school=school or world.school,
        language=language,
        route="microdistrict",
        checked_at=clock.now(),
    )


def outcome(response: Any, family: Family) -> dict[str, Any]:
    body = response.json()
    application = Application.objects.filter(child=family.child).order_by("-created_at").first()
    written = application is not None and response.status_code == 201
    return {
        "status": response.status_code,
        "code": body.get("code"),
        "route": body.get("route"),
        "above_quota": body.get("above_quota"),
        "history": written
        and ApplicationTransition.objects.filter(application=application).count(),
        "audit": written
        and AuditEvent.objects.filter(
            object_id=str(application.pk), action="application.register"
        ).count(),
        "sms": Notification.objects.filter(
            user=family.parent, event="application_registered"
        ).count(),
        "draft_left": Draft.objects.filter(child=family.child).exists(),
    }


Setup = Callable[[World, Family], dict[str, Any]]


def _plain(world: World, family: Family) -> dict[str, Any]:
    draft(world, family)
    return {}


def _teacher(world: World, family: Family) -> dict[str, Any]:
    draft(world, family)
    Teacher.objects.create(
        school=world.school, pin=family.population[0]["pin"], added_at=clock.now()
    )
    return {}


def _other_school_stage1(world: World, family: Family) -> dict[str, Any]:
    draft(world, family, world.other_school)
    return {}


def _other_school_stage2(world: World, family: Family) -> dict[str, Any]:
    draft(world, family, world.other_school)
    return {"at": IN_STAGE2}


def _full(world: World, family: Family) -> dict[str, Any]:
    draft(world, family)
    SeatPool.objects.filter(school=world.school, language="ky").update(taken=F("capacity"))
    return {}


def _no_documents(world: World, family: Family) -> dict[str, Any]:
    draft(world, family)
    Person.objects.filter(pk=family.child.pk).update(birth_certificate_number="")
    return {}


def _outside_window(world: World, family: Family) -> dict[str, Any]:
    draft(world, family)
    Person.objects.filter(pk=family.child.pk).update(birth_date=dt.date(2016, 1, 1))
    return {}


def _language_not_offered(world: World, family: Family) -> dict[str, Any]:
    draft(world, family, language="uz")
    return {}


def _not_participating(world: World, family: Family) -> dict[str, Any]:
    draft(world, family)
    type(world.school).objects.filter(pk=world.school.pk).update(
        ownership=Ownership.PRIVATE, opted_in=False
    )
    return {}


def _closed(world: World, family: Family) -> dict[str, Any]:
    draft(world, family)
    return {"at": world.campaign.registration_ends_at + dt.timedelta(minutes=1)}


SCENARIOS: dict[str, tuple[Setup, bool]] = {
    # name: (setup, the fast path decides it itself)
    "microdistrict": (_plain, True),
    "teacher": (_teacher, True),
    "open_stage2": (_other_school_stage2, True),
    "full": (_full, True),
    "not_in_microdistrict": (_other_school_stage1, False),
    "documents_missing": (_no_documents, False),
    "outside_birth_window": (_outside_window, False),
    "language_not_offered": (_language_not_offered, False),
    "not_participating": (_not_participating, False),
    "closed": (_closed, False),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_fast_and_ordinary_paths_agree(
    name: str, client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup, decides = SCENARIOS[name]
    answers = []
    for enabled in (True, False):
        family = world.family()
        options = setup(world, family)
        spy = Spy(monkeypatch, enabled=enabled)
        response = submit(client, family, **options)
        answers.append(outcome(response, family))
        if enabled:
            assert spy.decided == (1 if decides and response.status_code == 201 else 0)
    fast, ordinary = answers
    assert fast == ordinary, name


def test_twin_above_quota_agrees(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = []
    for enabled in (False, True):
        born = dt.date(2019, 9, 1)
        family = world.family(births=[born, born])
        first = Family(parent=family.parent, children=[family.children[0]])
        second = Family(parent=family.parent, children=[family.children[1]])
        Spy(monkeypatch, enabled=False)
        draft(world, first)
        assert submit(client, first).status_code == 201
        spy = Spy(monkeypatch, enabled=enabled)
        draft(world, second)
        response = submit(client, second)
        assert response.status_code == 201, response.content
        answers.append((response.json()["route"], response.json()["above_quota"]))
        assert spy.decided == (1 if enabled else 0)
    assert answers[0] == answers[1] == ("twin", True)


def test_fast_submit_writes_everything_in_one_go(client: Client, world: World) -> None:
    family = world.family()
    draft(world, family)
    key = str(uuid.uuid4())
    response = submit(client, family, key=key)
    assert response.status_code == 201, response.content
    body = response.json()
    application = Application.objects.get(pk=body["id"])
    assert (application.route, application.position, body["position"]) == ("microdistrict", 1, 1)
    assert body["history"][0]["to_status"] == "registered"
    sms = Notification.objects.get(user=family.parent, event="application_registered")
    assert re.search(r"\b1\b", sms.body)  # the position, not the mark
    assert fastpath._POSITION_MARK not in sms.body
    record = IdempotencyRecord.objects.get(user=family.parent, key=key)
    assert record.status_code == 201 and record.response["position"] == 1
    assert record.response["id"] == body["id"]
    pool = SeatPool.objects.get(school=world.school, language="ky")
    assert pool.taken == 1 and pool.accepted_count == 1
    # The same key again: the stored answer, nothing new (the ordinary path replays it).
    again = submit(client, family, key=key)
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert Application.objects.filter(child=family.child).count() == 1


def test_second_submit_of_a_registered_child_is_refused(client: Client, world: World) -> None:
    family = world.family()
    draft(world, family)
    assert submit(client, family).status_code == 201
    draft(world, family, world.other_school)
    again = submit(client, family)
    assert again.status_code == 409 and again.json()["code"] == "already_registered"
    assert SeatPool.objects.get(school=world.other_school, language="ky").taken == 0
