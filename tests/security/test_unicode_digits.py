"""Issue 13, item 7: a PIN written with digits that are not ASCII ("５", "٠") is a clear
translated refusal wherever it is typed — sign-in, linking a child, the teacher roster — never
a 500 and never stored; and a registry that refuses a request is a 4xx problem, not a 500."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from kattoo.accounts.models import LoginChallenge, Role, User
from kattoo.accounts.services import token_issue
from kattoo.audit.models import AuditEvent
from kattoo.catalog.models import Teacher
from kattoo.core.errors import ERRORS
from kattoo.integrations.registry.errors import RegistryRejected
from kattoo.notifications.models import Notification
from kattoo.people.models import ChildLink, Person

from ..api.test_applicant_api import Api, problem
from ..api.test_staff_work_api import api_for
from ..conftest import SYSTEM, World
from ..factories import registry_person
from ..web.staff.conftest import Scene, verified

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def foreign(pin: str, table: dict[int, int]) -> str:
    """The PIN with every digit but the first (the sex digit) written in another script: the
    shape ``\\d{14}`` accepted and ``int()`` read as the same date."""
    return pin[0] + pin[1:].translate(table)


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def snapshot() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "people": Person.objects.count(),
        "challenges": LoginChallenge.objects.count(),
        "notifications": Notification.objects.count(),
        "links": ChildLink.objects.count(),
        "teachers": Teacher.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def refused_pin(response: Any, field: str = "pin") -> None:
    body = problem(response, 422, "validation_error")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, "invalid_pin")]


@pytest.mark.parametrize("table", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic"])
def test_api_sign_in_refuses_foreign_digits(client: Client, world: World, table) -> None:
    family = world.family()
    before = snapshot()
    refused_pin(
        Api(client, language="ru").post(
            "/auth/code", {"pin": foreign(family.parent.person.pin, table)}
        )
    )
    assert snapshot() == before


def test_web_sign_in_refuses_foreign_digits(client: Client, world: World) -> None:
    family = world.family()
    before = snapshot()
    page = client.post("/login/", {"pin": foreign(family.parent.person.pin, FULLWIDTH)})
    assert page.status_code == 200
    assert 'id="id_pin_error"' in page.content.decode()
    assert snapshot() == before


def _late_child(world: World, family) -> dict[str, Any]:
    late = registry_person(
        sex="F",
        born=dt.date(2020, 5, 5),
        street=world.home,
        mother=family.parent.person.pin,
        certificate="1234567",
    )
    world.registry.add_person(late)
    return late


def test_api_link_child_refuses_foreign_digits(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    late = _late_child(world, family)
    api = Api(client, token_issue(user=family.parent, actor=SYSTEM))
    before = snapshot()
    certificate = {"series": "I-AN", "number": "1234567"}
    for table in (FULLWIDTH, ARABIC_INDIC):
        body = {"pin": foreign(late["pin"], table), "birth_certificate": certificate}
        refused_pin(api.post("/me/children", body))
    number = {
        "pin": late["pin"],
        "birth_certificate": {"series": "I-AN", "number": "１２３４５６７"},
    }
    problem(api.post("/me/children", number), 422, "validation_error")
    assert snapshot() == before


def test_web_link_child_refuses_foreign_digits(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    late = _late_child(world, family)
    client.force_login(family.parent)
    client.get("/children/")  # the first visit links the registry's children
    before = snapshot()
    page = client.post(
        "/children/",
        {"pin": foreign(late["pin"], FULLWIDTH), "series": "I-AN", "number": "1234567"},
    )
    assert page.status_code in (200, 422)
    assert 'id="id_pin_error"' in page.content.decode()
    assert snapshot() == before


def test_api_teacher_roster_refuses_foreign_digits(client: Client, world: World) -> None:
    director = api_for(client, role=Role.SCHOOL, school=world.school)
    before = snapshot()
    for table in (FULLWIDTH, ARABIC_INDIC):
        refused_pin(
            director.post(
                f"/schools/{world.school.pk}/teachers",
                {"pin": foreign("11203198800001", table), "full_name": "Айгүл"},
            )
        )
    assert snapshot() == before


def test_web_teacher_roster_refuses_foreign_digits(client: Client, scene: Scene) -> None:
    user = scene.users["school_own"]
    assert user is not None
    verified(client, user)
    before = snapshot()
    page = client.post(
        "/staff/school/teachers/",
        {"pin": foreign("21505198500002", FULLWIDTH), "full_name": "Бакыт Асанов"},
    )
    assert page.status_code == 422
    assert 'id="id_pin_error"' in page.content.decode()
    assert snapshot() == before


# -- the registry refuses the request itself --------------------------------------------------


def _rejecting(world: World, monkeypatch: pytest.MonkeyPatch, service: str) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise RegistryRejected(f"{service}: Client.BadRequest.InvalidPin")

    monkeypatch.setattr(world.registry, service, refuse)


def test_registry_rejected_is_a_4xx_problem_over_the_api(
    client: Client, world: World, at_stage1, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = world.family()
    late = _late_child(world, family)
    api = Api(client, token_issue(user=family.parent, actor=SYSTEM), language="ru")
    _rejecting(world, monkeypatch, "birth_act")
    before = snapshot()
    body = problem(
        api.post(
            "/me/children",
            {"pin": late["pin"], "birth_certificate": {"series": "I-AN", "number": "1234567"}},
        ),
        422,
        "registry_rejected",
    )
    with translation.override("ru"):
        assert body["title"] == str(ERRORS["registry_rejected"][1])  # in the caller's language
    assert snapshot() == before


def test_registry_rejected_is_a_clear_message_on_the_web(
    client: Client, world: World, at_stage1, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = world.family()
    late = _late_child(world, family)
    client.force_login(family.parent)
    client.get("/children/")
    _rejecting(world, monkeypatch, "birth_act")
    before = snapshot()
    page = client.post("/children/", {"pin": late["pin"], "series": "I-AN", "number": "1234567"})
    assert page.status_code < 500
    assert "alert error" in page.content.decode()
    assert snapshot() == before
