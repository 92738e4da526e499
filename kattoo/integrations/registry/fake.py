"""An in-process registry that serves a population from a JSON file.

The file format ("kattoo-population/1") is documented in docs/data-formats.md; the
Tunduk simulator serves the same file over HTTP and both read it through ``population.py``.
The fake answers as the X-Road client does for the same data (NotFound for an unknown PIN,
Rejected for a malformed one): tests/integrations/registry/test_xroad_contract.py runs the
same checks against both, so code tested on the fake behaves the same against Tunduk.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from kattoo.core import clock

from .errors import RegistryNotFound, RegistryRejected, RegistryUnavailable
from .pin import pin_is_valid
from .population import (
    FORMAT,
    Population,
    address_record,
    birth_act_record,
    contact_record,
    family_member,
    passport_record,
    person_record,
)
from .types import (
    AddressRecord,
    Answer,
    BirthActRecord,
    ContactRecord,
    FamilyMember,
    PassportRecord,
    PersonRecord,
    RequestContext,
)

__all__ = ["FORMAT", "FakeRegistry"]


class FakeRegistry:
    def __init__(self, population: dict[str, Any] | Population | None = None) -> None:
        self.available = True
        self.calls: list[tuple[str, str]] = []
        if isinstance(population, Population):
            self.population = population
        else:
            self.population = Population(population)

    @classmethod
    def from_settings(cls, config: dict[str, Any]) -> FakeRegistry:
        path = config.get("POPULATION_FILE") or ""
        if path and Path(path).exists():
            return cls.from_file(path)
        return cls()

    @classmethod
    def from_file(cls, path: str | Path) -> FakeRegistry:
        return cls(Population.from_file(path))

    def load(self, population: dict[str, Any]) -> None:
        self.population.load(population)

    def add_person(self, person: dict[str, Any]) -> None:
        self.population.add_person(person)

    def add_ward(self, representative_pin: str, child_pin: str) -> None:
        self.population.add_ward(representative_pin, child_pin)

    # -- the interface ------------------------------------------------------------------
    def _answer(self, value: Any) -> Answer[Any]:
        return Answer(
            value=value,
            xroad_id=str(uuid.uuid4()),
            fetched_at=clock.now(),
            request_id=str(uuid.uuid4()),
        )

    def _get(self, service: str, pin: str) -> dict[str, Any]:
        self.calls.append((service, pin))
        if not self.available:
            raise RegistryUnavailable("the fake registry is switched off")
        if not pin_is_valid(pin):
            raise RegistryRejected(f"{service}: INVALID_PIN")
        person = self.population.person(pin)
        if person is None:
            raise RegistryNotFound(pin)
        return person

    def person(self, pin: str, ctx: RequestContext) -> Answer[PersonRecord]:
        return self._answer(person_record(self._get("zagsDataByPin", pin)))

    def address(self, pin: str, ctx: RequestContext) -> Answer[AddressRecord | None]:
        return self._answer(address_record(self._get("asbAddress", pin).get("address")))

    def passport(self, pin: str, ctx: RequestContext) -> Answer[PassportRecord | None]:
        return self._answer(passport_record(self._get("passportDataByPSN", pin).get("passport")))

    def birth_act(self, child_pin: str, ctx: RequestContext) -> Answer[BirthActRecord]:
        act = self._get("birthAct", child_pin).get("birthAct")
        if not act:
            raise RegistryNotFound(child_pin)
        return self._answer(birth_act_record(act, child_pin))

    def family_members(self, pin: str, ctx: RequestContext) -> Answer[list[FamilyMember]]:
        self._get("family-members", pin)
        members = [family_member(p, relation) for relation, p in self.population.family(pin)]
        return self._answer(members)

    def contacts(self, pin: str, ctx: RequestContext) -> Answer[ContactRecord]:
        return self._answer(contact_record(self._get("contacts", pin).get("contacts")))
