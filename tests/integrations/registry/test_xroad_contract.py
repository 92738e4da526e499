"""One set of behaviour checks, run against the in-process fake and against the X-Road
client talking to the simulator over HTTP: the two stay interchangeable, so what the rest of
the test suite proves on the fake holds against Tunduk."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from kattoo.core import clock
from kattoo.integrations.registry.client import RegistryClient
from kattoo.integrations.registry.errors import RegistryNotFound, RegistryRejected
from kattoo.integrations.registry.fake import FakeRegistry
from kattoo.integrations.registry.types import (
    AddressRecord,
    BirthActRecord,
    ContactRecord,
    FamilyMember,
    PassportRecord,
    PersonRecord,
    RequestContext,
)
from kattoo.integrations.registry.xroad import XRoadRegistry

from ...tunduk_sim.support import Cast

CTX = RequestContext(user_pin="KG22310199070001", issue="contract")
UNKNOWN_PIN = "22310199099999"
METHODS = ["person", "address", "passport", "birth_act", "family_members", "contacts"]


@pytest.fixture(params=["fake", "xroad"])
def impl(request: pytest.FixtureRequest, cast: Cast) -> RegistryClient:
    if request.param == "fake":
        return FakeRegistry(cast.document)
    client: XRoadRegistry = request.getfixturevalue("xroad")
    return client


def test_person_is_read_into_a_typed_record(impl: RegistryClient, cast: Cast) -> None:
    moment = clock.bishkek(2026, 4, 1, 10, 0)
    with clock.frozen(moment):
        answer = impl.person(cast.mother["pin"], CTX)
    assert answer.value == PersonRecord(
        pin=cast.mother["pin"],
        surname="Асанова",
        name="Айгүл",
        patronymic="Бакыт кызы",
        gender="F",
        date_of_birth=dt.date(1990, 2, 3),
        death_date=None,
        pin_blocked=False,
        citizenship="KG",
        nationality="кыргыз",
    )
    assert uuid.UUID(answer.xroad_id).version == 4
    assert answer.fetched_at == moment


def test_death_and_blocked_pin(impl: RegistryClient, cast: Cast) -> None:
    record = impl.person(cast.deceased["pin"], CTX).value
    assert record.death_date == dt.date(2021, 2, 2) and record.pin_blocked is True
    assert record.patronymic == ""


def test_address_passport_and_contacts(impl: RegistryClient, cast: Cast) -> None:
    pin = cast.mother["pin"]
    assert impl.address(pin, CTX).value == AddressRecord(
        text=cast.mother["address"]["text"],
        date_created=dt.date(2015, 3, 1),
        region_id="41711000000000",
        district_id="41711211000000",
        aymak_id="",
        village_id="41711211000010",
        street_id="ST-SIM-01",
        house_id="",
        house="1",
        flat="5",
    )
    passport = cast.mother["passport"]
    assert impl.passport(pin, CTX).value == PassportRecord(
        series="ID",
        number=passport["passportNumber"],
        authority="МКК 211011",
        issued_date=dt.date(2020, 1, 10),
        expired_date=dt.date(2030, 1, 10),
        void_status=False,
    )
    assert impl.contacts(pin, CTX).value == ContactRecord(phone="+996700123456", email="")


def test_a_person_without_documents_has_none_and_empty_contacts(impl, cast: Cast) -> None:
    pin = cast.undocumented["pin"]
    assert impl.address(pin, CTX).value is None
    assert impl.passport(pin, CTX).value is None
    assert impl.contacts(pin, CTX).value == ContactRecord()
    with pytest.raises(RegistryNotFound):
        impl.birth_act(pin, CTX)


def test_birth_act_names_the_parents(impl: RegistryClient, cast: Cast) -> None:
    twin = cast.twins[1]
    assert impl.birth_act(twin["pin"], CTX).value == BirthActRecord(
        act_number=twin["birthAct"]["actNumber"],
        act_date=dt.date(2019, 9, 1),
        issuer="ЗАГС Бишкек",
        certificate_series="I-AN",
        certificate_number=twin["birthAct"]["certificateNumber"],
        child_pin=twin["pin"],
        mother_pin=cast.mother["pin"],
        father_pin=cast.father["pin"],
    )


def test_family_members_children_and_wards(impl: RegistryClient, cast: Cast) -> None:
    children = [
        FamilyMember(
            pin=t["pin"],
            relation="child",
            surname=t["surname"],
            name=t["name"],
            date_of_birth=dt.date(2019, 9, 1),
        )
        for t in cast.twins
    ]
    assert impl.family_members(cast.mother["pin"], CTX).value == children
    assert impl.family_members(cast.father["pin"], CTX).value == children
    wards = impl.family_members(cast.guardian["pin"], CTX).value
    assert [(m.pin, m.relation) for m in wards] == [(cast.ward["pin"], "ward")]
    assert impl.family_members(cast.undocumented["pin"], CTX).value == []


@pytest.mark.parametrize("method", METHODS)
def test_unknown_pin_is_not_found(impl: RegistryClient, method: str) -> None:
    with pytest.raises(RegistryNotFound):
        getattr(impl, method)(UNKNOWN_PIN, CTX)


@pytest.mark.parametrize("method", METHODS)
def test_malformed_pin_is_rejected(impl: RegistryClient, method: str) -> None:
    with pytest.raises(RegistryRejected):
        getattr(impl, method)("2231019907000", CTX)


def outcome(call: Any) -> Any:
    try:
        return call().value
    except Exception as exc:
        return type(exc)


def test_fake_and_xroad_answer_alike_for_everyone(cast: Cast, xroad: XRoadRegistry) -> None:
    """Every service for every person of the population, side by side."""
    fake = FakeRegistry(cast.document)
    for person in [*cast.everyone, {"pin": UNKNOWN_PIN}]:
        for method in METHODS:
            expected = outcome(lambda m=method, p=person: getattr(fake, m)(p["pin"], CTX))
            got = outcome(lambda m=method, p=person: getattr(xroad, m)(p["pin"], CTX))
            assert got == expected, (method, person["pin"])
