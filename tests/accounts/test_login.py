"""Applicant sign-in: PIN, then a one-time code by SMS (ADR 0023) — one answer for every PIN,
random challenge handles, limits per PIN, per client and for the country, lockout per challenge
and per client, expiry, the account created only once the code is verified."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from kattoo.accounts.models import LoginChallenge, User, token_digest
from kattoo.audit.models import AuditEvent
from kattoo.core import clock
from kattoo.notifications.backends import MemoryBackend
from kattoo.people.models import Person

from ..api.test_applicant_api import Api, problem
from ..conftest import World
from ..factories import registry_person
from ..notifications.phone import sign_in_code, window_start


@pytest.fixture(autouse=True)
def _fresh_limits():
    """Empty counters, and a clock pinned at the start of a limit window: a count never
    straddles two windows however slow the machine."""
    cache.clear()
    with clock.frozen(window_start()):
        yield
    cache.clear()


def start(api: Api, pin: str):
    return api.post("/auth/code", {"pin": pin})


def from_address(client: Client, address: str, language: str = "ky") -> Api:
    """An API client whose requests come from ``address`` (REMOTE_ADDR, as the trusted-proxy
    middleware leaves it behind the balancer)."""
    client.defaults["REMOTE_ADDR"] = address
    return Api(client, language=language)


def newcomer(world: World, **fields: Any) -> dict[str, Any]:
    """An adult the registry knows who has never signed in (no account, no person row)."""
    person = registry_person(sex="F", born=dt.date(1991, 5, 6), surname="Жакыпова", name="Нуриза")
    person.update(fields)
    world.registry.add_person(person)
    return person


def test_sign_in_with_a_code_sent_to_the_registry_phone(client: Client, world: World) -> None:
    family = world.family()
    pin = family.parent.person.pin
    api = Api(client)
    started = start(api, pin)
    assert started.status_code == 202, started.content
    body = started.json()
    assert set(body) == {"challenge", "expires_at"}  # no phone: nothing tells who the PIN is
    assert len(body["challenge"]) >= 40
    token = api.post(
        "/auth/token", {"challenge": body["challenge"], "code": sign_in_code(body["challenge"])}
    )
    assert token.status_code == 201, token.content
    me = Api(client, token.json()["token"]).get("/me").json()
    assert me["pin"] == pin
    # a code is good once
    problem(
        api.post(
            "/auth/token", {"challenge": body["challenge"], "code": sign_in_code(body["challenge"])}
        ),
        409,
        "code_expired",
    )
    assert AuditEvent.objects.filter(action="login.success").count() == 1


def test_the_same_answer_for_every_pin_and_no_account_before_the_code(
    client: Client, world: World
) -> None:
    adult = newcomer(world)
    no_phone = newcomer(world, name="Айжан")
    no_phone.pop("contacts", None)
    world.registry.add_person(no_phone)
    family = world.family()
    child_pin = family.children[0].pin
    unknown = "12001199012345"
    api = Api(client)
    users, persons = User.objects.count(), Person.objects.count()
    answers = {}
    for pin in (adult["pin"], no_phone["pin"], child_pin, unknown):
        response = start(api, pin)
        assert response.status_code == 202, response.content
        answers[pin] = response.json()
    assert {tuple(sorted(a)) for a in answers.values()} == {("challenge", "expires_at")}
    # Nobody's account or personal data was created by asking for a code.
    assert (User.objects.count(), Person.objects.count()) == (users, persons)
    # Only the adult with a phone got an SMS; the registry was asked only for contacts, and
    # not at all for the child (whose PIN tells the age).
    outcomes = {
        e.data["outcome"]
        for e in AuditEvent.objects.filter(action__in=["login.code_sent", "login.code_not_sent"])
    }
    assert outcomes == {"sent", "no_phone", "not_adult", "unknown"}
    asked = {
        (service, pin) for service, pin in world.registry.calls if pin != family.parent.person.pin
    }
    assert ("contacts", adult["pin"]) in asked
    assert not any(pin == child_pin and s == "contacts" for s, pin in world.registry.calls)
    assert not any(pin == adult["pin"] and s != "contacts" for s, pin in asked)
    # The adult signs in: only now is the account made and the person pulled.
    handle = answers[adult["pin"]]["challenge"]
    token = api.post("/auth/token", {"challenge": handle, "code": sign_in_code(handle)})
    assert token.status_code == 201, token.content
    assert User.objects.filter(username=adult["pin"]).exists()
    assert Person.objects.get(pin=adult["pin"]).phone


def test_codes_of_pins_that_got_no_sms_never_match(client: Client, world: World) -> None:
    api = Api(client)
    handle = start(api, "12001199012345").json()["challenge"]
    for code in ("000000", "123456"):
        problem(api.post("/auth/token", {"challenge": handle, "code": code}), 422, "code_invalid")


def test_wrong_codes_lock_the_challenge(client: Client, world: World) -> None:
    family = world.family()
    api = Api(client)
    challenge = start(api, family.parent.person.pin).json()["challenge"]
    right = sign_in_code(challenge)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(4):
        problem(
            api.post("/auth/token", {"challenge": challenge, "code": wrong}), 422, "code_invalid"
        )
    problem(api.post("/auth/token", {"challenge": challenge, "code": wrong}), 429, "code_locked")
    problem(api.post("/auth/token", {"challenge": challenge, "code": right}), 429, "code_locked")
    assert LoginChallenge.objects.get(handle_digest=token_digest(challenge)).attempts == 5


def test_a_strangers_guesses_lock_only_the_stranger(
    client: Client, world: World, settings: Any
) -> None:
    settings.KATTOO_LOGIN = {**settings.KATTOO_LOGIN, "WRONG_CODES_PER_CLIENT": 6}
    family = world.family()
    parent = from_address(Client(), "10.1.1.1")
    handle = start(parent, family.parent.person.pin).json()["challenge"]
    stranger = from_address(client, "10.6.6.6")
    # Guessing handles: none exists, each guess counts against the stranger's address.
    for guess in ("1", "2", "abc", handle[:-1], "x" * 43, "0" * 20):
        problem(
            stranger.post("/auth/token", {"challenge": guess, "code": "123456"}),
            409,
            "code_expired",
        )
    refused = problem(
        stranger.post("/auth/token", {"challenge": "7", "code": "123456"}), 429, "rate_limited"
    )
    assert int(refused.get("retry_after") or 0) >= 0
    response = stranger.post("/auth/token", {"challenge": "7", "code": "123456"})
    assert 1 <= int(response["Retry-After"]) <= 900
    english = Api(client, language="en").post("/auth/token", {"challenge": "7", "code": "123456"})
    assert re.fullmatch(r"Too many attempts\. Try again in \d+ min\.", english.json()["detail"])
    # The parent's fresh challenge was never touched.
    challenge = LoginChallenge.objects.get(handle_digest=token_digest(handle))
    assert challenge.attempts == 0
    token = parent.post("/auth/token", {"challenge": handle, "code": sign_in_code(handle)})
    assert token.status_code == 201, token.content


def test_codes_per_pin_and_client_leave_other_clients_alone(client: Client, world: World) -> None:
    family = world.family()
    pin = family.parent.person.pin
    attacker = from_address(client, "10.6.6.6")
    for _ in range(3):
        assert start(attacker, pin).status_code == 202
    refused = start(attacker, pin)
    problem(refused, 429, "rate_limited")
    assert 1 <= int(refused["Retry-After"]) <= 900
    # The parent, from their own phone, still gets a code.
    parent = from_address(Client(), "10.1.1.1")
    handle = start(parent, pin).json()["challenge"]
    assert (
        parent.post("/auth/token", {"challenge": handle, "code": sign_in_code(handle)}).status_code
        == 201
    )


def test_codes_per_pin_protect_the_phone(client: Client, world: World) -> None:
    """A crowd of addresses cannot bomb one phone: ten codes a window, then a wait that is
    told; nobody else is affected."""
    family = world.family()
    pin = family.parent.person.pin
    for i in range(10):
        assert start(from_address(Client(), f"10.2.0.{i + 1}"), pin).status_code == 202
    problem(start(from_address(Client(), "10.2.1.1"), pin), 429, "rate_limited")
    other = world.family()
    assert start(from_address(Client(), "10.2.1.1"), other.parent.person.pin).status_code == 202
    # The next window serves the PIN again.
    with clock.frozen(clock.now() + dt.timedelta(minutes=16)):
        assert start(from_address(Client(), "10.2.1.1"), pin).status_code == 202


def test_codes_per_client(client: Client, world: World, settings: Any) -> None:
    settings.KATTOO_LOGIN = {**settings.KATTOO_LOGIN, "CODES_PER_CLIENT": 4}
    noisy = from_address(client, "10.3.3.3")
    pins = [f"1200119901{i:04d}" for i in range(5)]
    for pin in pins[:4]:
        assert start(noisy, pin).status_code == 202
    problem(start(noisy, pins[4]), 429, "rate_limited")
    assert start(from_address(Client(), "10.3.3.4"), pins[4]).status_code == 202


def test_the_country_budget_sheds_load_instead_of_locking_anyone_out(
    client: Client, world: World, settings: Any
) -> None:
    settings.KATTOO_LOGIN = {**settings.KATTOO_LOGIN, "CODES_PER_MINUTE": 3}
    moment = clock.bishkek(2026, 4, 1, 10, 0)
    with clock.frozen(moment):
        for i in range(3):
            assert (
                start(from_address(Client(), f"10.4.0.{i + 1}"), f"1200119901{i:04d}").status_code
                == 202
            )
        shed = start(from_address(Client(), "10.4.0.9"), "12001199019999")
        problem(shed, 503, "service_busy")
        assert 1 <= int(shed["Retry-After"]) <= 60
    with clock.frozen(moment + dt.timedelta(minutes=1)):
        assert start(from_address(Client(), "10.4.0.9"), "12001199019999").status_code == 202


def test_codes_expire(client: Client, world: World) -> None:
    family = world.family()
    api = Api(client)
    challenge = start(api, family.parent.person.pin).json()["challenge"]
    code = sign_in_code(challenge)
    with clock.frozen(clock.now() + dt.timedelta(minutes=6)):
        problem(
            api.post("/auth/token", {"challenge": challenge, "code": code}), 409, "code_expired"
        )


def test_bad_input(client: Client, world: World) -> None:
    api = Api(client, language="ru")
    body = problem(start(api, "12345"), 422, "validation_error")
    assert body["errors"][0]["field"] == "pin"
    problem(start(api, "２２310199099999"), 422, "validation_error")
    problem(
        api.post("/auth/token", {"challenge": "a b", "code": "123456"}), 422, "validation_error"
    )
    problem(api.post("/auth/token", {"challenge": "999999", "code": "123456"}), 409, "code_expired")


def test_the_language_of_the_pin_page_is_the_accounts_and_its_sms(
    client: Client, world: World
) -> None:
    adult = newcomer(world)
    api = Api(client, language="ru")
    handle = start(api, adult["pin"]).json()["challenge"]
    code = sign_in_code(handle)
    sms = [m["body"] for m in MemoryBackend.outbox if code in m["body"]]
    assert sms and "код" in sms[-1]
    assert api.post("/auth/token", {"challenge": handle, "code": code}).status_code == 201
    assert User.objects.get(username=adult["pin"]).language == "ru"


def test_a_registry_outage_at_verification_keeps_the_code_good(
    client: Client, world: World
) -> None:
    adult = newcomer(world)
    api = Api(client)
    handle = start(api, adult["pin"]).json()["challenge"]
    code = sign_in_code(handle)
    world.registry.available = False
    problem(
        api.post("/auth/token", {"challenge": handle, "code": code}), 503, "registry_unavailable"
    )
    assert not User.objects.filter(username=adult["pin"]).exists()
    world.registry.available = True
    assert api.post("/auth/token", {"challenge": handle, "code": code}).status_code == 201


def test_a_registry_outage_when_sending_sends_nothing_and_tells_nobody(
    client: Client, world: World
) -> None:
    adult = newcomer(world)
    world.registry.available = False
    response = start(Api(client), adult["pin"])
    assert response.status_code == 202
    event = AuditEvent.objects.get(action="login.code_not_sent")
    assert event.data["outcome"] == "registry_unavailable"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", '{"pin": "22310199070001"}'),
        ("application/x-www-form-urlencoded", "pin=22310199070001"),
        (
            "multipart/form-data; boundary=x",
            '--x\r\nContent-Disposition: form-data; name="pin"\r\n\r\n22310199070001\r\n--x--\r\n',
        ),
    ],
)
def test_api_writes_are_json_only(
    client: Client, world: World, content_type: str, body: str
) -> None:
    """A cross-site page cannot make a visitor's browser ask for codes: no "simple" POST."""
    response = client.post(
        "/api/v1/auth/code", body, content_type=content_type, headers={"Accept-Language": "en"}
    )
    refused = problem(response, 415, "unsupported_media_type")
    assert "JSON" in refused["detail"]
    assert not LoginChallenge.objects.exists()


def test_json_with_a_charset_is_json(client: Client, world: World) -> None:
    response = client.post(
        "/api/v1/auth/code",
        '{"pin": "22310199070001"}',
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 202, response.content


def test_a_write_without_a_body_needs_no_type(client: Client, world: World) -> None:
    response = client.generic("POST", "/api/v1/auth/code")
    assert response.status_code != 415


def test_signing_in_in_another_language_switches_the_accounts(client: Client, world: World) -> None:
    family = world.family()
    assert family.parent.language == "ky"
    api = Api(client, language="ru")
    handle = start(api, family.parent.person.pin).json()["challenge"]
    assert (
        api.post("/auth/token", {"challenge": handle, "code": sign_in_code(handle)}).status_code
        == 201
    )
    family.parent.refresh_from_db()
    assert family.parent.language == "ru"
    assert AuditEvent.objects.filter(action="user.language", data__language="ru").exists()
