"""Applicant sign-in: PIN, then a one-time code by SMS (rate limits, lockout, expiry)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client

from kattoo.accounts.models import LoginChallenge
from kattoo.audit.models import AuditEvent
from kattoo.core import clock

from ..api.test_applicant_api import Api, problem
from ..conftest import World
from ..notifications.phone import sign_in_code


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def sent_code(challenge: str) -> str:
    return sign_in_code(challenge)


def start(api: Api, pin: str):
    return api.post("/auth/code", {"pin": pin})


def test_sign_in_with_a_code_sent_to_the_registry_phone(client: Client, world: World) -> None:
    family = world.family()
    pin = family.parent.person.pin
    api = Api(client)
    started = start(api, pin)
    assert started.status_code == 202, started.content
    body = started.json()
    assert body["phone"].startswith("+996") and "***" in body["phone"]
    token = api.post(
        "/auth/token", {"challenge": body["challenge"], "code": sent_code(body["challenge"])}
    )
    assert token.status_code == 201, token.content
    me = Api(client, token.json()["token"]).get("/me").json()
    assert me["pin"] == pin
    # a code is good once
    problem(
        api.post(
            "/auth/token", {"challenge": body["challenge"], "code": sent_code(body["challenge"])}
        ),
        409,
        "code_expired",
    )
    assert AuditEvent.objects.filter(action="login.success").count() == 1


def test_wrong_codes_lock_the_challenge(client: Client, world: World) -> None:
    family = world.family()
    api = Api(client)
    challenge = start(api, family.parent.person.pin).json()["challenge"]
    right = sent_code(challenge)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(4):
        problem(
            api.post("/auth/token", {"challenge": challenge, "code": wrong}), 422, "code_invalid"
        )
    problem(api.post("/auth/token", {"challenge": challenge, "code": wrong}), 429, "code_locked")
    problem(api.post("/auth/token", {"challenge": challenge, "code": right}), 429, "code_locked")
    assert LoginChallenge.objects.get(pk=challenge).attempts == 5


def test_codes_expire(client: Client, world: World) -> None:
    family = world.family()
    api = Api(client)
    challenge = start(api, family.parent.person.pin).json()["challenge"]
    with clock.frozen(clock.now() + dt.timedelta(minutes=6)):
        problem(
            api.post("/auth/token", {"challenge": challenge, "code": sent_code(challenge)}),
            409,
            "code_expired",
        )


def test_codes_per_pin_are_rate_limited(client: Client, world: World) -> None:
    family = world.family()
    api = Api(client)
    for _ in range(5):
        assert start(api, family.parent.person.pin).status_code == 202
    problem(start(api, family.parent.person.pin), 429, "rate_limited")


def test_bad_input_and_unknown_people(client: Client, world: World) -> None:
    api = Api(client, language="ru")
    body = problem(start(api, "12345"), 422, "validation_error")
    assert body["errors"][0]["field"] == "pin"
    problem(start(api, "22310199099999"), 404, "person_not_found")
    problem(
        api.post("/auth/token", {"challenge": "abc", "code": "123456"}), 422, "validation_error"
    )
    problem(api.post("/auth/token", {"challenge": "999999", "code": "123456"}), 409, "code_expired")


def test_no_phone_on_record(client: Client, world: World) -> None:
    family = world.family()
    person = family.population[0]
    person.pop("contacts", None)
    world.registry.add_person(person)
    problem(start(Api(client), person["pin"]), 409, "no_phone_on_record")
