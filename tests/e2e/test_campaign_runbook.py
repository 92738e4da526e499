"""docs/runbooks/campaign.md performed from an empty database through the API only.

The operator's one shell step (``create_staff`` for the first ministry administrator) aside,
every step is an HTTP call a person or their app would make: no ``load_demo``, no ORM write.
The phones are simulated the way they work: an authenticator app computes its codes from the
secret it scanned, and the parent's SMS is read from what the outbox sent. The registry
(Tunduk) knows the family: it is outside the system, so the test gives it its people.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from base64 import b32decode
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django_otp.oath import TOTP

from kattoo.catalog.models import Street
from kattoo.core import clock
from kattoo.integrations.registry.fake import FakeRegistry

from ..api.test_applicant_api import problem
from ..catalog.test_importing import small_catalog
from ..factories import registry_person
from ..notifications.phone import sign_in_code

PASSWORD = "a long passphrase for the ministry"
CODE = "2027-2028"
LENIN = "41711211000000"
TODAY = clock.bishkek(2026, 12, 2, 10, 0)


class Person:
    """Someone using the API with their own token."""

    def __init__(self, client: Client, token: str | None = None, language: str = "en") -> None:
        self.client = client
        self.headers = {"Accept-Language": language}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None, **params: Any):
        if method == "get":
            return self.client.get(f"/api/v1{path}", params, headers=self.headers)
        return self.client.generic(
            method.upper(),
            f"/api/v1{path}",
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self.headers,
        )

    def ok(self, method: str, path: str, body: Any = None, status: int = 200, **params: Any):
        response = self.call(method, path, body, **params)
        assert response.status_code == status, (method, path, response.content[:600])
        return response.json() if response.content else None


def code_now(key: bytes, ahead: int = 0) -> str:
    """What the authenticator app shows now (``ahead``: its next code)."""
    token = TOTP(key, drift=ahead)
    token.time = clock.now().timestamp()
    return f"{token.token():06d}"


def enrol(client: Client, link: str) -> bytes:
    """The newcomer opens the one-time link, chooses a password, scans the QR code and types
    the first code; the phone keeps the secret."""
    token = link.rstrip("/").rsplit("/", 1)[-1]
    anyone = Person(client)
    started = anyone.ok("post", "/staff/enrolment", {"token": token, "password": PASSWORD})
    key = b32decode(started["secret"])
    anyone.ok("post", "/staff/enrolment/confirm", {"token": token, "code": code_now(key)}, 204)
    return key


def sign_in(client: Client, username: str, key: bytes, ahead: int = 0) -> Person:
    """A staff API token (it expires within the day): password and the code of the moment."""
    signed_in = Person(client).ok(
        "post",
        "/auth/staff-token",
        {"username": username, "password": PASSWORD, "code": code_now(key, ahead)},
        201,
    )
    return Person(client, signed_in["token"])


@pytest.fixture(autouse=True)
def _server_time_follows_the_clock(monkeypatch) -> None:
    """The server checks authenticator codes against its own time: the test's clock."""
    monkeypatch.setattr(
        "django_otp.plugins.otp_totp.models.time",
        SimpleNamespace(time=lambda: clock.now().timestamp()),
    )


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    from kattoo.integrations.registry.client import registry_override

    fake = FakeRegistry()
    with registry_override(fake):
        yield fake


def family(registry: FakeRegistry) -> tuple[str, str]:
    """A mother and her daughter born in 2020, at просп. Чуй 5 (S-1's microdistrict): what
    Tunduk would answer about them."""
    street = Street.objects.get(code="1100101")  # read from the imported catalog
    mother = registry_person(sex="F", born=dt.date(1990, 3, 4), street=street, house="5")
    child = registry_person(
        sex="F", born=dt.date(2020, 5, 6), street=street, house="5", mother=mother["pin"]
    )
    registry.add_person(mother)
    registry.add_person(child)
    return mother["pin"], child["pin"]


def catalog_file(data: dict[str, Any]) -> SimpleUploadedFile:
    return SimpleUploadedFile("catalog.json", json.dumps(data, ensure_ascii=False).encode())


def test_a_campaign_from_an_empty_database(client: Client, campaign, registry) -> None:
    with clock.frozen(TODAY):
        # 1. Bootstrap: the operator creates the first ministry administrator on the server.
        out = io.StringIO()
        call_command(
            "create_staff",
            "--username",
            "minister",
            "--role",
            "ministry_admin",
            "--full-name",
            "Асанова Гүлнара",
            "--no-qr",
            stdout=out,
        )
        link = re.search(r"enrolment link: (\S+)", out.getvalue()).group(1)
        keys = {"minister": enrol(client, link)}
        ministry = sign_in(client, "minister", keys["minister"], ahead=1)

        # 2. Campaign: next year's calendar, the campaign copied from last year's, published.
        calendar = ministry.ok(
            "put",
            "/calendar/2027",
            {
                "holidays": ["2027-01-01", "2027-03-08", "2027-03-22", "2027-03-29"],
                "working_days": [],
            },
        )
        assert "2027-03-29" in calendar["holidays"]
        created = ministry.ok(
            "post",
            "/campaigns",
            {
                "code": CODE,
                "title": "2027–2028",
                "copy_from": "2026-2027",
                "birth_from": "2020-01-01",
                "birth_to": "2021-12-31",
                "stage1_opens_at": "2027-04-01T10:00:00+06:00",
                "stage2_opens_at": "2027-06-01T10:00:00+06:00",
                "registration_closes_at": "2027-08-31T00:00:00+06:00",
            },
            201,
        )
        assert created["code"] == CODE and created["cancel_limit"] == 3
        # contradictory settings are refused and change nothing
        refused = ministry.call(
            "patch", f"/campaigns/{CODE}", {"stage2_opens_at": "2027-03-01T10:00:00+06:00"}
        )
        assert problem(refused, 422, "campaign_invalid")["errors"]
        assert ministry.ok("get", f"/campaigns/{CODE}")["stage2_opens_at"].startswith("2027-06-01")
        ministry.ok("post", f"/campaigns/{CODE}/publish")
        lock_at = dt.datetime.fromisoformat(
            ministry.ok("get", f"/campaigns/{CODE}")["quota_lock_at"]
        )
        # §17: three working days before Thursday 1 April, Monday 29 March being a holiday of
        # the calendar just set: 31, 30 and 26 March; the lock is the end of Friday the 26th.
        assert lock_at == clock.bishkek(2027, 3, 27, 0, 0)

        # 3. Catalog: a malformed file changes nothing; a dry run first, then the import.
        broken = small_catalog() | {"academic_year": CODE, "schools": [{"code": "S-9"}]}
        problem(upload(client, ministry, broken, dry_run=False), 422, "catalog_invalid")
        data = small_catalog() | {"academic_year": CODE}
        dry = upload(client, ministry, data, dry_run=True).json()
        assert dry["dry_run"] and dry["counts"]["schools"]["created"] == 2
        assert ministry.ok("get", "/schools")["items"] == []
        imported = upload(client, ministry, data, dry_run=False)
        assert imported.status_code == 200, imported.content
        assert imported.json()["quotas"]["computed"] == 2  # §11: computed at once, as drafts
        schools = {s["code"]: s["id"] for s in ministry.ok("get", "/schools")["items"]}
        s1 = schools["S-1"]
        quota = ministry.ok("get", f"/schools/{s1}/quota")
        assert quota["state"] == "draft" and quota["class_sets"]
        readiness = ministry.ok("get", f"/campaigns/{CODE}/readiness")
        assert "no_director" in {b["code"] for b in readiness["blockers"]}

        # 4. People: the ministry creates the district officer, the officer the director.
        officer_link = ministry.ok(
            "post",
            "/staff",
            {
                "username": "lenin.officer",
                "role": "district",
                "full_name": "Абдыкадырова Айнура",
                "district": LENIN,
            },
            201,
        )["enrolment_url"]
        keys["lenin.officer"] = enrol(client, officer_link)
        officer = sign_in(client, "lenin.officer", keys["lenin.officer"], ahead=1)
        director_link = officer.ok(
            "post",
            "/staff",
            {
                "username": "s1.director",
                "role": "school",
                "full_name": "Жээнбеков Талант",
                "school": "S-1",
            },
            201,
        )["enrolment_url"]
        keys["s1.director"] = enrol(client, director_link)
        s2_link = officer.ok(
            "post",
            "/staff",
            {
                "username": "akyl.director",
                "role": "school",
                "full_name": "Орозова Бермет",
                "school": "S-2",
            },
            201,
        )["enrolment_url"]
        keys["akyl.director"] = enrol(client, s2_link)
        # out of scope: a district officer creates no district officer, nor a ministry user
        problem(
            officer.call(
                "post",
                "/staff",
                {"username": "intruder", "role": "district", "full_name": "X", "district": LENIN},
            ),
            403,
            "forbidden",
        )

    # 5. The director raises a class-set and confirms before the lock.
    with clock.frozen(clock.bishkek(2027, 3, 10, 11, 0)):
        director = sign_in(client, "s1.director", keys["s1.director"])
        officer = sign_in(client, "lenin.officer", keys["lenin.officer"])
        small = next(c for c in quota["class_sets"] if c["seats"] <= 40)
        raised = {"op": "raise", "class_set": small["number"], "seats": small["seats"] + 2}
        director.ok("patch", f"/schools/{s1}/quota", {"operations": [raised]})
        director.ok("post", f"/schools/{s1}/quota/confirm")
        # §17: a confirmed quota may be approved at once; a draft only after the lock
        officer.ok("post", f"/schools/{s1}/quota/approve")
        problem(
            officer.call("post", f"/schools/{schools['S-2']}/quota/approve"),
            409,
            "quota_not_locked",
        )

    # 6. The lock passes: S-2 is confirmed automatically, and the district approves it.
    with clock.frozen(lock_at + dt.timedelta(hours=9)):
        director = sign_in(client, "s1.director", keys["s1.director"])
        officer = sign_in(client, "lenin.officer", keys["lenin.officer"])
        officer.ok("post", f"/schools/{schools['S-2']}/quota/approve")
        problem(
            director.call("patch", f"/schools/{s1}/quota", {"operations": [{"op": "add"}]}),
            409,
            "quota_locked",
        )
        readiness = officer.ok("get", f"/campaigns/{CODE}/readiness")
        blocking = [b for b in readiness["blockers"] if b["severity"] == "blocker"]
        assert blocking == [], blocking

    # 7. The minute timer holds autovacuum off the registration's tables from 08:50 (ADR 0062).
    held = io.StringIO()
    with clock.frozen(clock.bishkek(2027, 4, 1, 9, 55)):
        call_command("opening_hold", stdout=held)
    assert held.getvalue().startswith(
        f"opening hold: held (campaign {CODE}, stage 1"
        if connection.vendor == "postgresql"
        else "opening hold: nothing to do"
    ), held.getvalue()
    # Stage 1 opens by the clock; a parent signs in with the SMS code and registers.
    mother, child_pin = family(registry)
    with clock.frozen(clock.bishkek(2027, 4, 1, 10, 1)):
        assert Person(client).ok("get", "/campaign")["current_stage"] == "stage1"
        started = Person(client).ok("post", "/auth/code", {"pin": mother}, 202)
        code = sign_in_code(started["challenge"])
        token = Person(client).ok(
            "post", "/auth/token", {"challenge": started["challenge"], "code": code}, 201
        )["token"]
        parent = Person(client, token)
        child = next(c for c in parent.ok("get", "/me/children") if c["pin"] == child_pin)
        assert child["eligible"], child
        parent.headers["Idempotency-Key"] = "6c1e0a52-61a4-4b44-9b55-0d2a8f7d1e01"
        registered = parent.ok(
            "post", "/applications", {"child": child["id"], "school": s1, "language": "ky"}, 201
        )
        assert registered["status"] == "registered" and registered["position"] == 1
        pools = Person(client).ok("get", f"/schools/{s1}")["pools"]
        assert next(p for p in pools if p["language"] == "ky")["taken"] == 1

    # Half an hour after the opening autovacuum has the tables back.
    released = io.StringIO()
    with clock.frozen(clock.bishkek(2027, 4, 1, 10, 31)):
        call_command("opening_hold", stdout=released)
    if connection.vendor == "postgresql":
        assert released.getvalue().startswith("opening hold: released: "), released.getvalue()

    # 8. The archive: after the campaign, its reports stay readable.
    with clock.frozen(clock.bishkek(2027, 12, 1, 10, 0)):
        assert Person(client).ok("get", "/campaign")["current_stage"] == "closed"
        ministry = sign_in(client, "minister", keys["minister"])
        summary = ministry.ok("get", "/reports/summary", campaign=CODE)
        assert summary["campaign"] == CODE
        older = ministry.ok("get", "/reports/summary", campaign="2026-2027")
        assert older["campaign"] == "2026-2027"


def upload(client: Client, person: Person, data: dict[str, Any], *, dry_run: bool):
    return client.post(
        f"/api/v1/campaigns/{CODE}/catalog",
        {"file": catalog_file(data), "dry_run": "true" if dry_run else "false"},
        headers=person.headers,
    )
