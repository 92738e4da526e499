"""One person's registry record ("kattoo-population/1", docs/data-formats.md): PIN, names,
registered address, passport, contacts and birth act, with the field names of the Tunduk
services (TUNDUK.md).

Built for a million records in well under a minute: dates are day ordinals, their texts are
cached, a house's address text is made once, and each record is one plain dict.

- PIN: sex digit, DDMMYYYY, a 5-digit sequence counted per birth date with small random gaps,
  so PINs look issued rather than numbered and never run out (a busy date has a few thousand).
- Passports: ID cards since 2017 (10 years), old AN passports — the last ones still valid,
  older ones expired (§9: an applicant without a valid document goes through the commission).
- Dates are relative to the campaign's first year, so a later campaign gets a shifted country.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any, TypeVar

from . import names
from .geography import District, House, Street
from .scales import RATES

Record = dict[str, Any]
T = TypeVar("T")

PHONE_PREFIXES = names.words(
    """220 221 222 225 227 228 500 501 502 505 507 509 550 551 552 554 555 556 557 559 700 701
    702 703 704 705 706 707 708 709 755 770 771 772 773 774 775 776 777 778 779 990 995 996
    997 998 999"""
)
MAIL_DOMAINS = ("gmail.com", "gmail.com", "mail.ru", "mail.ru", "inbox.kg", "yandex.ru", "list.ru")


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def ordinal(year: int, month: int = 1, day: int = 1) -> int:
    return dt.date(year, month, day).toordinal()


# Birth certificates of the current series are issued since 2017.
_NEW_CERTIFICATES = ordinal(2017)


class PersonFactory:
    """Makes records and keeps them, in the order they are made (the file's order)."""

    def __init__(self, rng: random.Random, first_year: int) -> None:
        self.rng = rng
        self.random = rng.random
        self.year = first_year  # the campaign's first year: "now" is its spring
        self.people: list[Record] = []
        self._sequence: dict[int, int] = {}
        self._dmy: dict[int, str] = {}
        self._iso: dict[int, str] = {}
        self._passports: set[int] = set()
        self._acts: dict[tuple[str, int], int] = {}
        self._address_base: dict[int, tuple[str, ...]] = {}
        # Passport issue windows (day ordinals): ID cards, the last valid AN passports, and
        # expired ones.
        y = first_year
        self._id_window = (ordinal(y - 9, 6, 1), ordinal(y - 1, 10, 31))
        self._an_valid = (ordinal(y - 10, 5, 1), ordinal(y - 9, 5, 31))
        self._an_expired = (ordinal(y - 19, 1, 1), ordinal(y - 10, 12, 31))

    # -- small pieces ----------------------------------------------------------------------
    def iso(self, day: int) -> str:
        text = self._iso.get(day)
        if text is None:
            text = self._iso[day] = dt.date.fromordinal(day).isoformat()
        return text

    def between(self, start: int, end: int) -> int:
        """A whole number from start to end inclusive; randint's speed matters a million
        times over."""
        return start + int(self.random() * (end - start + 1))

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def pin(self, sex: str, born: int) -> str:
        """Unique by construction: the sequence grows per birth date."""
        seq = self._sequence.get(born)
        seq = self.between(1, 300) if seq is None else seq + self.between(1, 7)
        if seq > 99_999:
            raise OverflowError(f"more than 99,999 PINs for one birth date ({self.iso(born)})")
        self._sequence[born] = seq
        dmy = self._dmy.get(born)
        if dmy is None:
            day = dt.date.fromordinal(born)
            dmy = self._dmy[born] = f"{day.day:02d}{day.month:02d}{day.year:04d}"
        return f"{'1' if sex == 'F' else '2'}{dmy}{seq:05d}"

    def phone(self) -> str:
        return f"+996{self.pick(PHONE_PREFIXES)}{self.between(0, 999_999):06d}"

    def email(self, name: str, surname: str) -> str:
        user = f"{names.latin(name)}.{names.latin(surname)}"
        if self.random() < 0.6:
            user += str(self.between(1, 99))
        return f"{user}@{self.pick(MAIL_DOMAINS)}"

    # -- parts of a record -----------------------------------------------------------------
    def address(self, house: House, flat: str, since: int, number: str | None = None) -> Record:
        """The registered address on a house of the register, or on a number of its street
        the register does not list yet (``number``; then no houseId)."""
        if number is None:
            base = self._address_base.get(id(house))
            if base is None:
                base = self._address_base[id(house)] = self._base(
                    house.street, house.number, house.code
                )
        else:
            base = self._base(house.street, number, "")
        text = base[0] if not flat else f"{base[0]}, кв. {flat}"
        return {
            "text": text,
            "dateCreated": self.iso(since),
            "regionId": base[1],
            "districtId": base[2],
            "aymakId": base[3],
            "villageId": base[4],
            "streetId": base[5],
            "houseId": base[6],
            "house": base[7],
            "flat": flat,
        }

    @staticmethod
    def _base(street: Street, number: str, code: str) -> tuple[str, ...]:
        settlement = street.settlement
        district = settlement.district
        return (
            f"{settlement.address}, {street.name_ru}, д. {number}",
            district.region.soate,
            district.soate,
            settlement.aymak,
            settlement.soate,
            street.code,
            code,
            number,
        )

    def passport(self, born: int, district: District) -> Record:
        rng = self.rng
        sixteen = add_years(dt.date.fromordinal(born), 16).toordinal()
        roll = rng.random()
        series, window = "ID", self._id_window
        if roll > 0.92 and sixteen < self._an_expired[1]:
            series, window = "AN", self._an_expired
        elif roll > 0.78 and sixteen < self._an_valid[1]:
            series, window = "AN", self._an_valid
        issued = self.between(max(window[0], sixteen), window[1])
        number = self.between(1_000_000, 9_999_999)
        while number in self._passports:
            number = self.between(1_000_000, 9_999_999)
        self._passports.add(number)
        issued_day = dt.date.fromordinal(issued)
        return {
            "passportSeries": series,
            "passportNumber": str(number),
            "passportAuthority": f"MKK {district.passport_office}{self.between(10, 49)}",
            "issuedDate": issued_day.isoformat(),
            "expiredDate": add_years(issued_day, 10).isoformat(),
            "voidStatus": False,
        }

    def birth_act(
        self, born: int, district: District, mother: str | None, father: str | None
    ) -> Record:
        registered = born + self.between(3, 30)
        office = district.registry_office
        key = (office, registered // 365)
        number = self._acts.get(key, self.between(1, 60)) + self.between(1, 4)
        self._acts[key] = number
        return {
            "actNumber": str(number),
            "actDate": self.iso(registered),
            "issuer": office,
            "certificateSeries": "I-AN" if born >= _NEW_CERTIFICATES else "II-AN",
            "certificateNumber": str(self.between(100_000, 9_999_999)),
            "motherPin": mother,
            "fatherPin": father,
        }

    # -- records ---------------------------------------------------------------------------
    def person(
        self,
        sex: str,
        surname: str,
        name: str,
        patronymic: str,
        born: int,
        nationality: str,
        address: Record | None,
    ) -> Record:
        record: Record = {
            "pin": self.pin(sex, born),
            "surname": surname,
            "name": name,
            "patronymic": patronymic,
            "gender": sex,
            "dateOfBirth": self.iso(born),
            "deathDate": None,
            "pinBlocked": False,
            "citizenship": "KG",
            "nationality": nationality,
            "address": address,
            "passport": None,
            "contacts": None,
            "birthAct": None,
        }
        self.people.append(record)
        return record

    def adult(
        self,
        sex: str,
        surname: str,
        name: str,
        patronymic: str,
        born: int,
        nationality: str,
        address: Record | None,
        district: District,
        *,
        passport: bool = True,
        email_rate: float = RATES.email,
    ) -> Record:
        record = self.person(sex, surname, name, patronymic, born, nationality, address)
        if passport:
            record["passport"] = self.passport(born, district)
        email = self.email(name, surname) if self.rng.random() < email_rate else ""
        record["contacts"] = {"phone": self.phone(), "email": email}
        return record
