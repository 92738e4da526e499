"""A registry population (``kattoo-population/1``, docs/data-formats.md §2) held in memory.

Two registries serve the same file: the in-process fake (``fake.py``) and the Tunduk
simulator (``kattoo.tunduk_sim``). Both need the same lookups — a person by PIN, a parent's
children from the birth acts, a representative's wards — and the same "add or replace" rule,
so the index lives here once. The module is free of Django on purpose: the simulator imports
it and must start in a fraction of a second.

The field names of the document are those of the Tunduk answers (TUNDUK.md), so the same
functions below turn a population entry *and* a REST answer into the typed records of
``types.py``: the fake and the X-Road client cannot drift apart in how they read a field.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .types import (
    AddressRecord,
    BirthActRecord,
    ContactRecord,
    FamilyMember,
    PassportRecord,
    PersonRecord,
)

FORMAT = "kattoo-population/1"

Person = dict[str, Any]


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a load changed, so the simulator's admin interface can say it."""

    added: int = 0
    replaced: int = 0
    wards: int = 0


class Population:
    """People by PIN, children by parent (from birth acts) and wards by representative.

    Writes take a lock so that the simulator can add a family (``POST /_admin/people``) while
    its threads answer requests; reads return copies of the index lists for the same reason.
    The person dicts themselves are shared and must be treated as read-only.
    """

    def __init__(self, document: Mapping[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self._people: dict[str, Person] = {}
        # Ordered sets (dict keys): the registry lists children in the order it learnt them,
        # and a replaced birth act must be able to drop a child from its former parent.
        self._children: dict[str, dict[str, None]] = {}
        self._parents: dict[str, tuple[str, ...]] = {}
        self._wards: dict[str, dict[str, None]] = {}
        if document:
            self.load(document)

    @classmethod
    def from_file(cls, path: str | Path) -> Population:
        """Read a population file; bytes straight to ``json.loads`` is the fastest stdlib path."""
        return cls(json.loads(Path(path).read_bytes()))

    # -- writes -------------------------------------------------------------------------
    def load(self, document: Mapping[str, Any]) -> LoadResult:
        """Add or replace the document's people and add its wards."""
        if not isinstance(document, Mapping):
            raise ValueError("a population document is a JSON object")
        if document.get("format", FORMAT) != FORMAT:
            raise ValueError(f"population format must be {FORMAT}")
        people = document.get("people")
        wards = document.get("wards")
        people = [] if people is None else people
        wards = [] if wards is None else wards
        if not isinstance(people, list) or not isinstance(wards, list):
            raise ValueError("people and wards are lists")
        for index, person in enumerate(people):
            if not isinstance(person, dict) or not isinstance(person.get("pin"), str):
                raise ValueError(f"people[{index}] has no pin")
        for index, ward in enumerate(wards):
            if not isinstance(ward, dict) or not all(
                isinstance(ward.get(key), str) for key in ("representativePin", "childPin")
            ):
                raise ValueError(f"wards[{index}] needs representativePin and childPin")
        replaced = 0
        with self._lock:
            for person in people:
                replaced += self._put(person)
            for ward in wards:
                self._wards.setdefault(ward["representativePin"], {})[ward["childPin"]] = None
        return LoadResult(added=len(people) - replaced, replaced=replaced, wards=len(wards))

    def add_person(self, person: Person) -> bool:
        """Add a person or replace the one with the same PIN; True when replaced."""
        with self._lock:
            return bool(self._put(person))

    def add_ward(self, representative_pin: str, child_pin: str) -> None:
        with self._lock:
            self._wards.setdefault(representative_pin, {})[child_pin] = None

    def _put(self, person: Person) -> int:
        pin = person["pin"]
        replaced = pin in self._people
        self._people[pin] = person
        act = person.get("birthAct") or {}
        parents = tuple(p for p in (act.get("motherPin"), act.get("fatherPin")) if p)
        for former in self._parents.pop(pin, ()):
            if former not in parents:
                self._children.get(former, {}).pop(pin, None)
        if parents:
            self._parents[pin] = parents
            for parent in parents:
                self._children.setdefault(parent, {})[pin] = None
        return int(replaced)

    # -- reads --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._people)

    def __contains__(self, pin: object) -> bool:
        return pin in self._people

    def person(self, pin: str) -> Person | None:
        return self._people.get(pin)

    def children(self, parent_pin: str) -> list[Person]:
        """Children whose birth act names this person as mother or father."""
        with self._lock:
            pins = list(self._children.get(parent_pin, ()))
        return [self._people[p] for p in pins if p in self._people]

    def wards(self, representative_pin: str) -> list[Person]:
        """Children under this person's legal representation (§20) the registry knows."""
        with self._lock:
            pins = list(self._wards.get(representative_pin, ()))
        return [self._people[p] for p in pins if p in self._people]

    def family(self, pin: str) -> list[tuple[str, Person]]:
        """(relation, person) as family-members lists them: children first, then wards."""
        return [("child", c) for c in self.children(pin)] + [("ward", w) for w in self.wards(pin)]


# -- typed records from the documents' field names ---------------------------------------
# Missing keys and JSON nulls read the same way: the population file leaves fields out, the
# REST answers send ``null`` (docs/tunduk-protocol.md), and both mean "absent".


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _required_date(data: Mapping[str, Any], key: str) -> dt.date:
    value = _date(data.get(key))
    if value is None:
        raise ValueError(f"{key} is required")
    return value


def _text(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    return default if value is None else str(value)


def person_record(data: Mapping[str, Any]) -> PersonRecord:
    """zags-service/zagsDataByPin."""
    return PersonRecord(
        pin=str(data["pin"]),
        surname=str(data["surname"]),
        name=str(data["name"]),
        patronymic=_text(data, "patronymic"),
        gender=str(data["gender"]),
        date_of_birth=_required_date(data, "dateOfBirth"),
        death_date=_date(data.get("deathDate")),
        pin_blocked=bool(data.get("pinBlocked")),
        citizenship=_text(data, "citizenship", "KG"),
        nationality=_text(data, "nationality"),
    )


def address_record(data: Mapping[str, Any] | None) -> AddressRecord | None:
    """asb-service/asbAddress; None when the person has no registered address."""
    if not data:
        return None
    return AddressRecord(
        text=_text(data, "text"),
        date_created=_date(data.get("dateCreated")),
        region_id=_text(data, "regionId"),
        district_id=_text(data, "districtId"),
        aymak_id=_text(data, "aymakId"),
        village_id=_text(data, "villageId"),
        street_id=_text(data, "streetId"),
        house_id=_text(data, "houseId"),
        house=_text(data, "house"),
        flat=_text(data, "flat"),
    )


def passport_record(data: Mapping[str, Any] | None) -> PassportRecord | None:
    """passport-service/passportDataByPSN; None when the person has no document."""
    if not data:
        return None
    return PassportRecord(
        series=str(data["passportSeries"]),
        number=str(data["passportNumber"]),
        authority=_text(data, "passportAuthority"),
        issued_date=_required_date(data, "issuedDate"),
        expired_date=_required_date(data, "expiredDate"),
        void_status=bool(data.get("voidStatus")),
    )


def birth_act_record(data: Mapping[str, Any], child_pin: str) -> BirthActRecord:
    """zags-service/birthActByPin (the population's ``birthAct`` has no childPin)."""
    return BirthActRecord(
        act_number=_text(data, "actNumber"),
        act_date=_required_date(data, "actDate"),
        issuer=_text(data, "issuer"),
        certificate_series=_text(data, "certificateSeries"),
        certificate_number=_text(data, "certificateNumber"),
        child_pin=_text(data, "childPin") or child_pin,
        mother_pin=_text(data, "motherPin"),
        father_pin=_text(data, "fatherPin"),
    )


def contact_record(data: Mapping[str, Any] | None) -> ContactRecord:
    """passport-service/contactsByPin; empty strings when the registry holds nothing."""
    data = data or {}
    return ContactRecord(phone=_text(data, "phone"), email=_text(data, "email"))


def family_member(data: Mapping[str, Any], relation: str | None = None) -> FamilyMember:
    """One entry of sanaripaymak-service/family-members (or a population person + relation)."""
    return FamilyMember(
        pin=str(data["pin"]),
        relation=relation or str(data["relation"]),
        surname=_text(data, "surname"),
        name=_text(data, "name"),
        date_of_birth=_date(data.get("dateOfBirth")),
    )


def family_members(entries: Iterable[Mapping[str, Any]]) -> list[FamilyMember]:
    return [family_member(entry) for entry in entries]
