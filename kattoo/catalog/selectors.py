"""Reads of the catalog: which schools take part, whose microdistrict holds an address."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from .models import MicrodistrictAddress, Ownership, Parity, School

_LEADING_NUMBER = re.compile(r"\s*(\d+)")


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
    return set(
        MicrodistrictAddress.objects.filter(condition).values_list("school_id", flat=True)
    )
