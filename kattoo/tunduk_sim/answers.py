"""What each simulated service answers, built from a population entry.

The answer shapes are those of docs/tunduk-protocol.md: every field present, absent values
as JSON ``null``, so the client is exercised on the nulls a real provider sends.
"""

from __future__ import annotations

from typing import Any

from kattoo.integrations.registry.population import Person, Population

_ZAGS_FIELDS = (
    "pin",
    "pinBlocked",
    "surname",
    "name",
    "patronymic",
    "gender",
    "dateOfBirth",
    "deathDate",
    "citizenship",
    "nationality",
)
_PASSPORT_FIELDS = (
    "passportSeries",
    "passportNumber",
    "passportAuthority",
    "issuedDate",
    "expiredDate",
    "voidStatus",
)
_ADDRESS_FIELDS = (
    "text",
    "dateCreated",
    "regionId",
    "districtId",
    "aymakId",
    "villageId",
    "streetId",
    "houseId",
    "house",
    "flat",
)
_BIRTH_ACT_FIELDS = (
    "actNumber",
    "actDate",
    "issuer",
    "certificateSeries",
    "certificateNumber",
    "motherPin",
    "fatherPin",
)


def _pick(data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {key: data.get(key) for key in fields}


def zags(person: Person) -> dict[str, Any]:
    answer = _pick(person, _ZAGS_FIELDS)
    answer["pinBlocked"] = bool(answer["pinBlocked"])
    answer["citizenship"] = answer["citizenship"] or "KG"
    return answer


def passport(person: Person) -> dict[str, Any] | None:
    document = person.get("passport")
    if not document:
        return None
    answer = _pick(document, _PASSPORT_FIELDS)
    answer["voidStatus"] = bool(answer["voidStatus"])
    answer["gender"] = person.get("gender")
    answer["dateOfBirth"] = person.get("dateOfBirth")
    return answer


def address(person: Person) -> dict[str, Any] | None:
    registered = person.get("address")
    return _pick(registered, _ADDRESS_FIELDS) if registered else None


def birth_act(person: Person) -> dict[str, Any] | None:
    act = person.get("birthAct")
    if not act:
        return None
    answer = _pick(act, _BIRTH_ACT_FIELDS)
    answer["childPin"] = person["pin"]
    return answer


def contacts(person: Person) -> dict[str, Any]:
    return _pick(person.get("contacts") or {}, ("phone", "email"))


def family_members(population: Population, pin: str) -> list[dict[str, Any]]:
    return [
        {
            "pin": member["pin"],
            "relation": relation,
            "surname": member.get("surname"),
            "name": member.get("name"),
            "dateOfBirth": member.get("dateOfBirth"),
        }
        for relation, member in population.family(pin)
    ]
