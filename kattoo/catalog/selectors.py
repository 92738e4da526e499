"""Reads of the catalog: which schools take part, whose microdistrict holds an address."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import get_language

from kattoo.core.roles import Role
from kattoo.people.models import Person

from .models import MicrodistrictAddress, Ownership, Parity, School, Settlement, Street

if TYPE_CHECKING:
    from kattoo.accounts.models import User

# The one house-number rule, for Python and for PostgreSQL's regular expressions alike (the
# fast path's SQL reads this constant): leading spaces, then ASCII digits — "12а" → 12.
# ``\d`` would also take other scripts' digits, which ``[0-9]`` in SQL does not.
HOUSE_NUMBER_PATTERN = r"^[ \t]*([0-9]+)"
_LEADING_NUMBER = re.compile(HOUSE_NUMBER_PATTERN)


def house_number_value(number: str) -> int | None:
    """The numeric part that ranges are written in: "12А" → 12, "7/2" → 7, "б/н" → None."""
    match = _LEADING_NUMBER.match(number or "")
    return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class AddressKey:
    street_code: str
    house: str

    @property
    def house_value(self) -> int | None:
        return house_number_value(self.house)


def person_address_key(person: Person) -> AddressKey | None:
    if not person.address_street_code:
        return None
    return AddressKey(street_code=person.address_street_code, house=person.address_house)


def child_family_addresses(child: Person, applicant: Person | None = None) -> list[AddressKey]:
    """§10 stage 1: the registered addresses of the child, of either parent on the birth act,
    and of the applicant when a legal representative acts (RULES.md §5: either reading)."""
    pins = {p for p in (child.mother_pin, child.father_pin) if p}
    people = [child, *Person.objects.filter(pin__in=pins)]
    if applicant is not None and applicant.pk not in {p.pk for p in people}:
        people.append(applicant)
    keys = [person_address_key(p) for p in people]
    return [k for k in keys if k is not None]


def schools_participating() -> QuerySet[School]:
    """§31: state and municipal schools always; private and mixed only after opting in."""
    return School.objects.filter(
        Q(ownership__in=[Ownership.STATE, Ownership.MUNICIPAL]) | Q(opted_in=True)
    )


def _address_match(address: AddressKey) -> Q:
    value = address.house_value
    whole_street = Q(house_from__isnull=True)
    if value is None:
        return Q(street__code=address.street_code) & whole_street
    parity = Parity.EVEN if value % 2 == 0 else Parity.ODD
    in_range = (
        Q(house_from__lte=value) & Q(house_to__gte=value) & Q(parity__in=[Parity.ALL, parity])
    )
    return Q(street__code=address.street_code) & (whole_street | in_range)


def microdistrict_school_ids(addresses: Iterable[AddressKey]) -> set[int]:
    """Ids of schools whose microdistrict contains any of the addresses (§10, §19)."""
    condition = Q()
    any_address = False
    for address in addresses:
        if address.street_code:
            condition |= _address_match(address)
            any_address = True
    if not any_address:
        return set()
    return set(MicrodistrictAddress.objects.filter(condition).values_list("school_id", flat=True))


@dataclass(frozen=True, slots=True)
class AddressMatch:
    street: Street
    house: str
    schools: list[School]


_HOUSE_AT_END = re.compile(
    r"^(?P<street>.*?)[\s,]+(?:үй|дом|д\.|house)?\s*(?P<house>\d+\S*)\s*$", re.I
)


def address_lookup(query: str, *, limit: int = 20) -> list[AddressMatch]:
    """Which participating schools' microdistricts hold an address typed as "street house"
    (§19, §21: open before and during the campaign, so parents can check in advance)."""
    text = " ".join(query.split())
    match = _HOUSE_AT_END.match(text)
    street_text, house = (match.group("street"), match.group("house")) if match else (text, "")
    street_text = street_text.strip(" ,")
    if len(street_text) < 2:
        return []
    streets = (
        Street.objects.filter(Q(name_ky__icontains=street_text) | Q(name_ru__icontains=street_text))
        .select_related("settlement")
        .order_by("name_ru", "code")[:limit]
    )
    participating = set(schools_participating().values_list("pk", flat=True))
    results = []
    for street in streets:
        ids = (
            microdistrict_school_ids([AddressKey(street.code, house)])
            if house
            else set(
                MicrodistrictAddress.objects.filter(street=street).values_list(
                    "school_id", flat=True
                )
            )
        )
        schools = list(School.objects.filter(pk__in=ids & participating).order_by("code"))
        results.append(AddressMatch(street=street, house=house, schools=schools))
    return results


def schools_visible_to(user: User) -> QuerySet[School]:
    """Staff scope (RULES.md §1): own school, own district, or the whole country."""
    schools = School.objects.all()
    if user.role == Role.SCHOOL and user.school_id is not None:
        return schools.filter(pk=user.school_id)
    if user.role == Role.DISTRICT and user.district_id is not None:
        return schools.filter(district_id=user.district_id)
    if user.role in (Role.MINISTRY_ADMIN, Role.MINISTRY_ANALYST, Role.OPERATOR):
        return schools
    return schools.none()


def localized_name(obj: object, field: str = "name", *, language: str | None = None) -> str:
    """A catalog name (or a school's ``address``) in the active language (ky, ru, uz, en), or
    in ``language`` when given, falling back to Kyrgyz, then Russian, where that language's
    is empty or missing."""
    language = (language or get_language() or "ky")[:2]
    value = getattr(obj, f"{field}_{language}", "") if language in ("ky", "ru", "uz", "en") else ""
    return str(value or getattr(obj, f"{field}_ky", "") or getattr(obj, f"{field}_ru", ""))


def nearby_district_ids(*people: object) -> set[int]:
    """Districts of the settlements where these people are registered."""
    codes = {getattr(p, "address_settlement_code", "") for p in people if p is not None}
    codes.discard("")
    street_codes = {getattr(p, "address_street_code", "") for p in people if p is not None}
    street_codes.discard("")
    return set(
        Settlement.objects.filter(
            Q(soate__in=codes) | Q(streets__code__in=street_codes)
        ).values_list("district_id", flat=True)
    )
