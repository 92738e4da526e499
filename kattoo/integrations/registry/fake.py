"""An in-process registry that serves a population from a JSON file.

The file format ("kattoo-population/1") is documented in docs/data-formats.md; the
Tunduk simulator serves the same file over HTTP. Field names follow TUNDUK.md.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from kattoo.core import clock

from .errors import RegistryNotFound, RegistryUnavailable
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

FORMAT = "kattoo-population/1"


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


class FakeRegistry:
    def __init__(self, population: dict[str, Any] | None = None) -> None:
        self.available = True
        self.calls: list[tuple[str, str]] = []
        self._people: dict[str, dict[str, Any]] = {}
        self._children: dict[str, list[str]] = defaultdict(list)
        self._wards: dict[str, list[str]] = defaultdict(list)
        if population:
            self.load(population)

    @classmethod
    def from_settings(cls, config: dict[str, Any]) -> FakeRegistry:
        path = config.get("POPULATION_FILE") or ""
        if path and Path(path).exists():
            return cls.from_file(path)
        return cls()

    @classmethod
    def from_file(cls, path: str | Path) -> FakeRegistry:
        with open(path, encoding="utf-8") as handle:
            return cls(json.load(handle))

    def load(self, population: dict[str, Any]) -> None:
        if population.get("format", FORMAT) != FORMAT:
            raise ValueError(f"population format must be {FORMAT}")
        for person in population.get("people", []):
            self.add_person(person)
        for ward in population.get("wards", []):
            self._wards[ward["representativePin"]].append(ward["childPin"])

    def add_person(self, person: dict[str, Any]) -> None:
        pin = person["pin"]
        self._people[pin] = person
        act = person.get("birthAct") or {}
        for parent in (act.get("motherPin"), act.get("fatherPin")):
            if parent and pin not in self._children[parent]:
                self._children[parent].append(pin)

    def add_ward(self, representative_pin: str, child_pin: str) -> None:
        self._wards[representative_pin].append(child_pin)

    # -- the interface ------------------------------------------------------------------
    def _answer(self, service: str, pin: str, value: Any) -> Answer[Any]:
        return Answer(value=value, xroad_id=str(uuid.uuid4()), fetched_at=clock.now())

    def _get(self, service: str, pin: str) -> dict[str, Any]:
        self.calls.append((service, pin))
        if not self.available:
            raise RegistryUnavailable("the fake registry is switched off")
        try:
            return self._people[pin]
        except KeyError:
            raise RegistryNotFound(pin) from None

    def person(self, pin: str, ctx: RequestContext) -> Answer[PersonRecord]:
        p = self._get("zagsDataByPin", pin)
        born = _date(p["dateOfBirth"])
        assert born is not None
        return self._answer(
            "zagsDataByPin",
            pin,
            PersonRecord(
                pin=pin,
                surname=p["surname"],
                name=p["name"],
                patronymic=p.get("patronymic", ""),
                gender=p["gender"],
                date_of_birth=born,
                death_date=_date(p.get("deathDate")),
                pin_blocked=bool(p.get("pinBlocked")),
                citizenship=p.get("citizenship", "KG"),
                nationality=p.get("nationality", ""),
            ),
        )

    def address(self, pin: str, ctx: RequestContext) -> Answer[AddressRecord | None]:
        a = self._get("asbAddress", pin).get("address")
        record = None
        if a:
            record = AddressRecord(
                text=a.get("text", ""),
                date_created=_date(a.get("dateCreated")),
                region_id=a.get("regionId", ""),
                district_id=a.get("districtId", ""),
                aymak_id=a.get("aymakId", ""),
                village_id=a.get("villageId", ""),
                street_id=a.get("streetId", ""),
                house_id=a.get("houseId", ""),
                house=a.get("house", ""),
                flat=a.get("flat", ""),
            )
        return self._answer("asbAddress", pin, record)

    def passport(self, pin: str, ctx: RequestContext) -> Answer[PassportRecord | None]:
        d = self._get("passportDataByPSN", pin).get("passport")
        record = None
        if d:
            issued, expired = _date(d["issuedDate"]), _date(d["expiredDate"])
            assert issued is not None and expired is not None
            record = PassportRecord(
                series=d["passportSeries"],
                number=d["passportNumber"],
                authority=d.get("passportAuthority", ""),
                issued_date=issued,
                expired_date=expired,
                void_status=bool(d.get("voidStatus")),
            )
        return self._answer("passportDataByPSN", pin, record)

    def birth_act(self, child_pin: str, ctx: RequestContext) -> Answer[BirthActRecord]:
        act = self._get("birthAct", child_pin).get("birthAct")
        if not act:
            raise RegistryNotFound(child_pin)
        act_date = _date(act["actDate"])
        assert act_date is not None
        return self._answer(
            "birthAct",
            child_pin,
            BirthActRecord(
                act_number=act.get("actNumber", ""),
                act_date=act_date,
                issuer=act.get("issuer", ""),
                certificate_series=act.get("certificateSeries", ""),
                certificate_number=act.get("certificateNumber", ""),
                child_pin=child_pin,
                mother_pin=act.get("motherPin") or "",
                father_pin=act.get("fatherPin") or "",
            ),
        )

    def family_members(self, pin: str, ctx: RequestContext) -> Answer[list[FamilyMember]]:
        self._get("family-members", pin)
        members: list[FamilyMember] = []
        for relation, pins in (("child", self._children[pin]), ("ward", self._wards[pin])):
            for child_pin in pins:
                c = self._people.get(child_pin)
                if c is None:
                    continue
                members.append(
                    FamilyMember(
                        pin=child_pin,
                        relation=relation,
                        surname=c["surname"],
                        name=c["name"],
                        date_of_birth=_date(c["dateOfBirth"]),
                    )
                )
        return self._answer("family-members", pin, members)

    def contacts(self, pin: str, ctx: RequestContext) -> Answer[ContactRecord]:
        c = self._get("contacts", pin).get("contacts") or {}
        return self._answer(
            "contacts", pin, ContactRecord(phone=c.get("phone", ""), email=c.get("email", ""))
        )
