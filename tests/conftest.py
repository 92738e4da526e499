from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from kattoo.accounts.models import User
from kattoo.accounts.services import applicant_for_pin
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import School, Street
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.integrations.registry.client import registry_override
from kattoo.integrations.registry.fake import FakeRegistry
from kattoo.people.models import ChildLink, Person
from kattoo.people.services import applicant_children_sync
from kattoo.quotas.services import quota_compute

from .factories import (
    ExistingClassSetFactory,
    MicrodistrictAddressFactory,
    SchoolFactory,
    StreetFactory,
    registry_person,
)

STAGE1 = clock.bishkek(2026, 4, 1, 10, 0)
STAGE2 = clock.bishkek(2026, 6, 1, 10, 0)
BEFORE = clock.bishkek(2026, 3, 2, 9, 0)


@pytest.fixture(autouse=True)
def _db_access_for_all(db: None) -> None:
    """Tests use the real database (factories, services), never mocks of it."""


@pytest.fixture
def fake_registry() -> Iterator[FakeRegistry]:
    fake = FakeRegistry()
    with registry_override(fake):
        yield fake


@pytest.fixture
def campaign() -> Campaign:
    """The 2026–2027 campaign loaded by the data migration (reloaded after a transactional
    test's flush)."""
    if not Campaign.objects.filter(code="2026-2027").exists():
        from django.apps import apps

        importlib.import_module("kattoo.campaigns.migrations.0002_campaign_2026").load(apps, None)
        importlib.import_module(
            "kattoo.campaigns.migrations.0003_campaign_published_at"
        ).published_already(apps, None)
    return Campaign.objects.get(code="2026-2027")


@pytest.fixture
def at_stage1() -> Iterator[dt.datetime]:
    with clock.frozen(STAGE1 + dt.timedelta(minutes=5)):
        yield STAGE1


@pytest.fixture
def at_stage2() -> Iterator[dt.datetime]:
    with clock.frozen(STAGE2 + dt.timedelta(minutes=5)):
        yield STAGE2


SYSTEM = Actor.system()


@dataclass
class Family:
    parent: User
    children: list[Person]
    links: list[ChildLink] = field(default_factory=list)
    population: list[dict[str, Any]] = field(default_factory=list)

    @property
    def child(self) -> Person:
        return self.children[0]


@dataclass
class World:
    """A small town: a school with its microdistrict street, a school elsewhere, and a
    registry that families are added to."""

    campaign: Campaign
    registry: FakeRegistry
    school: School
    other_school: School
    home: Street
    elsewhere: Street

    def family(
        self,
        *,
        street: Street | None = None,
        births: list[dt.date] | None = None,
        father_street: Street | None = None,
    ) -> Family:
        street = street or self.home
        mother = registry_person(
            sex="F", born=dt.date(1990, 2, 3), surname="Асанова", name="Айгүл", street=street
        )
        father = registry_person(
            sex="M",
            born=dt.date(1988, 7, 9),
            surname="Асанов",
            name="Бакыт",
            street=father_street or street,
        )
        kids = [
            registry_person(
                sex="M" if i % 2 else "F",
                born=born,
                surname="Асанов",
                name=f"Бала{i}",
                street=street,
                mother=mother["pin"],
                father=father["pin"],
            )
            for i, born in enumerate(births or [dt.date(2019, 9, 1)])
        ]
        for person in (mother, father, *kids):
            self.registry.add_person(person)
        parent = applicant_for_pin(pin=mother["pin"], actor=SYSTEM)
        assert parent.person is not None
        links = applicant_children_sync(applicant=parent.person, actor=SYSTEM)
        children = [Person.objects.get(pin=k["pin"]) for k in kids]
        return Family(
            parent=parent, children=children, links=links, population=[mother, father, *kids]
        )


@contextlib.contextmanager
def audit_tampering() -> Iterator[None]:
    """Edit or delete audit events as the table's owner could: with the trigger that refuses
    it switched off (audit migration 0008) — for the tests that prove the chain names such a
    change. Nothing to switch on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_events_written_once")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_events_written_once")


def waits_for_a_lock(
    fetch: Callable[[str, list[Any]], Sequence[Any] | None],
    *,
    pid: int | None = None,
    queries: Sequence[str] = (),
    seconds: float = 30,
) -> bool:
    """Whether a backend waits for a lock (``pg_stat_activity.wait_event_type = 'Lock'``)
    within ``seconds``: the backend ``pid``, or any backend of this database whose query is
    LIKE one of ``queries``. ``fetch(sql, params)`` runs a statement on a connection of the
    caller's and returns its first row. The race tests prove their order of events this way:
    the second side is known to wait on the first before the first goes on."""
    if (pid is None) == (not queries):
        raise ValueError("a pid or query patterns, one of the two")
    if pid is not None:
        where, params = "pid = %s", [pid]
    else:
        where = "(" + " OR ".join("query LIKE %s" for _ in queries) + ")"
        where += " AND datname = current_database()"
        params = list(queries)
    sql = f"SELECT count(*) FROM pg_stat_activity WHERE {where} AND wait_event_type = 'Lock'"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        row = fetch(sql, params)
        if row is not None and row[0]:
            return True
        time.sleep(0.05)
    return False


def pg_params() -> dict[str, Any]:
    """psycopg's connection arguments for the test database: a second connection of a test's
    own, beside Django's (another transaction, another backend)."""
    from django.db import connection

    s = connection.settings_dict
    return {
        "host": s["HOST"] or "127.0.0.1",
        "port": s["PORT"] or 5432,
        "user": s["USER"],
        "password": s["PASSWORD"],
        "dbname": s["NAME"],
    }


def build_school(
    campaign: Campaign,
    *,
    sizes: list[tuple[str, int]],
    first: list[str] | None = None,
    street: Street | None = None,
) -> School:
    school = SchoolFactory()
    for i, (language, size) in enumerate(sizes):
        ExistingClassSetFactory(
            school=school, campaign=campaign, language=language, size=size, letter="АБВГДЕ"[i]
        )
    for i, language in enumerate(first or [lang for lang, _ in sizes]):
        ExistingClassSetFactory(
            school=school,
            campaign=campaign,
            grade="first",
            language=language,
            size=28,
            letter="АБВГДЕ"[i],
        )
    if street is not None:
        MicrodistrictAddressFactory(school=school, street=street)
    with clock.frozen(BEFORE):
        quota_compute(school=school, campaign=campaign, actor=SYSTEM)
    return school


@pytest.fixture
def world(campaign: Campaign, fake_registry: FakeRegistry) -> World:
    home = StreetFactory()
    elsewhere = StreetFactory(settlement=home.settlement)
    school = build_school(campaign, sizes=[("ky", 25), ("ru", 26)], street=home)
    other = build_school(campaign, sizes=[("ky", 30)], street=elsewhere)
    return World(
        campaign=campaign,
        registry=fake_registry,
        school=school,
        other_school=other,
        home=home,
        elsewhere=elsewhere,
    )
