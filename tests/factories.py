"""factory_boy factories for the domain, and a small registry-backed family builder."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import factory

from kattoo.accounts.models import Role, User
from kattoo.catalog.models import (
    District,
    ExistingClassSet,
    GradeKind,
    MicrodistrictAddress,
    Ownership,
    Region,
    School,
    Settlement,
    Street,
)
from kattoo.core import clock
from kattoo.people.models import Person

_sequence = itertools.count(1)


def make_pin(sex: str, born: dt.date) -> str:
    """A valid PIN (TUNDUK.md): sex digit, DDMMYYYY, 5-digit sequence."""
    return f"{'1' if sex == 'F' else '2'}{born:%d%m%Y}{next(_sequence):05d}"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    soate = factory.Sequence(lambda n: f"4171{n:010d}")
    name_ky = factory.Sequence(lambda n: f"Облусу {n}")
    name_ru = factory.Sequence(lambda n: f"Область {n}")
    name_en = factory.Sequence(lambda n: f"Region {n}")


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    region = factory.SubFactory(RegionFactory)
    soate = factory.Sequence(lambda n: f"4172{n:010d}")
    name_ky = factory.Sequence(lambda n: f"Району {n}")
    name_ru = factory.Sequence(lambda n: f"Район {n}")
    name_en = factory.Sequence(lambda n: f"District {n}")


class SettlementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Settlement

    district = factory.SubFactory(DistrictFactory)
    soate = factory.Sequence(lambda n: f"4173{n:010d}")
    name_ky = factory.Sequence(lambda n: f"Айыл {n}")
    name_ru = factory.Sequence(lambda n: f"Село {n}")


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Street

    settlement = factory.SubFactory(SettlementFactory)
    code = factory.Sequence(lambda n: f"ST{n:06d}")
    name_ky = factory.Sequence(lambda n: f"Көчө {n}")
    name_ru = factory.Sequence(lambda n: f"Улица {n}")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    code = factory.Sequence(lambda n: f"SCH{n:05d}")
    name_ky = factory.Sequence(lambda n: f"№{n} мектеби")
    name_ru = factory.Sequence(lambda n: f"Школа №{n}")
    name_en = factory.Sequence(lambda n: f"School No. {n}")
    district = factory.SubFactory(DistrictFactory)
    address_ky = "Чүй проспектиси, 1"
    address_ru = "проспект Чуй, 1"
    ownership = Ownership.STATE


class MicrodistrictAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MicrodistrictAddress

    school = factory.SubFactory(SchoolFactory)
    street = factory.SubFactory(StreetFactory)


class ExistingClassSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExistingClassSet

    grade = GradeKind.FOURTH
    language = "ky"
    size = 30


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    sex = "F"
    birth_date = dt.date(1990, 5, 17)
    pin = factory.LazyAttribute(lambda o: make_pin(o.sex, o.birth_date))
    surname = "Асанова"
    name = "Айгүл"
    patronymic = "Бакытовна"
    passport_series = "ID"
    passport_number = factory.Sequence(lambda n: f"{n:07d}")
    birth_certificate_series = "I-AN"
    birth_certificate_number = factory.Sequence(lambda n: f"{n:07d}")
    fetched_at = factory.LazyFunction(clock.now)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.APPLICANT


def registry_person(
    *,
    sex: str,
    born: dt.date,
    surname: str = "Асанов",
    name: str = "Бакыт",
    street: Street | None = None,
    house: str = "1",
    mother: str = "",
    father: str = "",
    certificate: str | None = None,
) -> dict[str, Any]:
    """One person in the population format of the fake registry (docs/data-formats.md)."""
    pin = make_pin(sex, born)
    person: dict[str, Any] = {
        "pin": pin,
        "surname": surname,
        "name": name,
        "patronymic": "",
        "gender": sex,
        "dateOfBirth": born.isoformat(),
        "citizenship": "KG",
    }
    if street is not None:
        person["address"] = {
            "text": f"{street.name_ru}, {house}",
            "dateCreated": "2015-03-01",
            "villageId": street.settlement.soate,
            "streetId": street.code,
            "house": house,
            "flat": "",
        }
    if born.year >= 2015:
        person["birthAct"] = {
            "actNumber": f"A{pin[-5:]}",
            "actDate": born.isoformat(),
            "issuer": "ЗАГС Бишкек",
            "certificateSeries": "I-AN",
            "certificateNumber": certificate or f"{int(pin[-5:]):07d}",
            "motherPin": mother,
            "fatherPin": father,
        }
    else:
        person["passport"] = {
            "passportSeries": "ID",
            "passportNumber": f"{int(pin[-5:]):07d}",
            "passportAuthority": "МКК 211011",
            "issuedDate": "2020-01-10",
            "expiredDate": "2030-01-10",
        }
        person["contacts"] = {"phone": "+996700123456", "email": ""}
    return person


def registry_adult(pin: str, *, surname: str = "Асанова", name: str = "Айгүл") -> dict[str, Any]:
    """An adult the fake registry knows under a given PIN (a teacher on a school's roster)."""
    from kattoo.integrations.registry.pin import pin_parse

    sex, born = pin_parse(pin)
    return {**registry_person(sex=sex, born=born, surname=surname, name=name), "pin": pin}
