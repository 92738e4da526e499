"""The small population the simulator tests and the registry contract tests share, and the
fixtures that serve it over real HTTP on 127.0.0.1 (both conftests import them)."""

from __future__ import annotations

import copy
import datetime as dt
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from kattoo.catalog.models import Settlement, Street
from kattoo.tunduk_sim import app as simulator_app
from kattoo.tunduk_sim.app import make_app
from kattoo.tunduk_sim.server import RunningSimulator, serve_in_thread

from ..factories import registry_person

# Longer than the tests' client timeouts (0.25 s), short enough that hung server threads
# finish during the run.
HANG_SECONDS = 1.0
CLIENT_ID = "central-server/GOV/70000001/kattoo"


@dataclass
class Cast:
    """Who is in the test population, by the part they play."""

    mother: dict[str, Any]
    father: dict[str, Any]
    twins: list[dict[str, Any]]
    guardian: dict[str, Any]
    ward: dict[str, Any]
    undocumented: dict[str, Any]  # an adult with no passport, address or contacts
    deceased: dict[str, Any]
    everyone: list[dict[str, Any]] = field(default_factory=list)

    @property
    def document(self) -> dict[str, Any]:
        return {
            "format": "kattoo-population/1",
            "people": copy.deepcopy(self.everyone),
            "wards": [{"representativePin": self.guardian["pin"], "childPin": self.ward["pin"]}],
        }


def cast_build() -> Cast:
    # Unsaved rows: registry_person only reads the street's code, name and settlement SOATE.
    street = Street(
        code="ST-SIM-01", name_ru="ул. Ахунбаева", settlement=Settlement(soate="41711211000010")
    )
    mother = registry_person(
        sex="F", born=dt.date(1990, 2, 3), surname="Асанова", name="Айгүл", street=street
    )
    mother["patronymic"] = "Бакыт кызы"
    mother["nationality"] = "кыргыз"
    mother["address"].update(regionId="41711000000000", districtId="41711211000000", flat="5")
    father = registry_person(
        sex="M", born=dt.date(1988, 7, 9), surname="Асанов", name="Бакыт", street=street, house="7"
    )
    twins = [
        registry_person(
            sex=sex,
            born=dt.date(2019, 9, 1),
            surname="Асанов",
            name=name,
            street=street,
            mother=mother["pin"],
            father=father["pin"],
        )
        for sex, name in (("F", "Айсезим"), ("M", "Алихан"))
    ]
    guardian = registry_person(sex="F", born=dt.date(1960, 1, 15), surname="Токтосунова")
    ward = registry_person(
        sex="M", born=dt.date(2019, 11, 20), surname="Токтосунов", name="Нурсултан"
    )
    undocumented = registry_person(sex="M", born=dt.date(1995, 5, 5), name="Эрлан")
    for key in ("passport", "contacts", "address"):
        undocumented.pop(key, None)
    deceased = registry_person(sex="M", born=dt.date(1940, 3, 3), name="Мукаш")
    deceased.update(deathDate="2021-02-02", pinBlocked=True)
    everyone = [mother, father, *twins, guardian, ward, undocumented, deceased]
    return Cast(
        mother=mother,
        father=father,
        twins=twins,
        guardian=guardian,
        ward=ward,
        undocumented=undocumented,
        deceased=deceased,
        everyone=everyone,
    )


@pytest.fixture(scope="session")
def cast() -> Cast:
    return cast_build()


@pytest.fixture(scope="session")
def simulator_server(cast: Cast) -> Iterator[RunningSimulator]:
    running = serve_in_thread(make_app(cast.document, hang_seconds=HANG_SECONDS))
    yield running
    running.stop()


@pytest.fixture
def simulator(simulator_server: RunningSimulator) -> RunningSimulator:
    """The session's simulator with no faults and zeroed counters."""
    simulator_server.app.faults_reset()
    simulator_server.app.stats_reset()
    return simulator_server


class SimulatorTime:
    """Stands in for the simulator's ``time`` module: records the delays it is asked for,
    sleeps them only if ``real``, and with a ``barrier`` holds each delayed request until
    all of them are in flight at once (served one after another, the barrier breaks and
    the request fails) — concurrency proved by overlap, not by a stopwatch."""

    def __init__(self) -> None:
        self.real = False
        self.barrier: threading.Barrier | None = None
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
        if self.barrier is not None:
            self.barrier.wait()
        if self.real:
            time.sleep(seconds)


@pytest.fixture
def simulator_time(monkeypatch: pytest.MonkeyPatch) -> SimulatorTime:
    recorder = SimulatorTime()
    monkeypatch.setattr(simulator_app, "time", recorder)
    return recorder
