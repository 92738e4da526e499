"""Typed answers of the registry services (field names follow TUNDUK.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Answer(Generic[T]):
    """A registry answer with what the audit trail needs: X-Road ids and fetch time.

    ``xroad_id`` is the X-Road-Id we sent; ``request_id`` and ``request_hash`` are what the
    Security Server gave the exchange (X-Road-Request-Id, X-Road-Request-Hash).
    """

    value: T
    xroad_id: str
    request_hash: str = ""
    fetched_at: dt.datetime | None = None
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who asks and why (X-Road-UserId and X-Road-Issue)."""

    user_pin: str = ""
    issue: str = ""


@dataclass(frozen=True, slots=True)
class PersonRecord:  # zags-service/zagsDataByPin
    pin: str
    surname: str
    name: str
    patronymic: str
    gender: str  # "F" | "M"
    date_of_birth: dt.date
    death_date: dt.date | None = None
    pin_blocked: bool = False
    citizenship: str = "KG"
    nationality: str = ""


@dataclass(frozen=True, slots=True)
class AddressRecord:  # asb-service/asbAddress
    text: str
    date_created: dt.date | None
    region_id: str = ""
    district_id: str = ""
    aymak_id: str = ""
    village_id: str = ""  # SOATE code of the settlement
    street_id: str = ""
    house_id: str = ""
    house: str = ""
    flat: str = ""


@dataclass(frozen=True, slots=True)
class PassportRecord:  # passport-service/passportDataByPSN
    series: str
    number: str
    authority: str
    issued_date: dt.date
    expired_date: dt.date
    void_status: bool = False


@dataclass(frozen=True, slots=True)
class BirthActRecord:  # civil registry birth act
    act_number: str
    act_date: dt.date
    issuer: str
    certificate_series: str
    certificate_number: str
    child_pin: str
    mother_pin: str = ""
    father_pin: str = ""


@dataclass(frozen=True, slots=True)
class FamilyMember:  # sanaripaymak-service/family-members/{pin}
    pin: str
    relation: str  # "child" | "ward" (a child under this person's legal representation)
    surname: str = ""
    name: str = ""
    date_of_birth: dt.date | None = None


@dataclass(frozen=True, slots=True)
class ContactRecord:
    phone: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class FamilyRecord:
    members: list[FamilyMember] = field(default_factory=list)
