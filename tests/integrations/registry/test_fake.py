from __future__ import annotations

import datetime as dt
import json

import pytest

from kattoo.integrations.registry.errors import RegistryNotFound, RegistryUnavailable
from kattoo.integrations.registry.fake import FakeRegistry
from kattoo.integrations.registry.types import RequestContext

from ...factories import registry_person

CTX = RequestContext(user_pin="KG22310199070001")


def population():
    mother = registry_person(sex="F", born=dt.date(1991, 4, 4))
    child = registry_person(sex="M", born=dt.date(2019, 6, 6), mother=mother["pin"])
    ward = registry_person(sex="F", born=dt.date(2020, 1, 2))
    return (
        mother,
        child,
        ward,
        {
            "format": "kattoo-population/1",
            "people": [mother, child, ward],
            "wards": [{"representativePin": mother["pin"], "childPin": ward["pin"]}],
        },
    )


def test_fake_serves_typed_records_from_a_file(tmp_path) -> None:
    mother, child, ward, data = population()
    path = tmp_path / "population.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    fake = FakeRegistry.from_file(path)
    person = fake.person(mother["pin"], CTX)
    assert person.value.surname == mother["surname"] and person.xroad_id
    assert fake.passport(mother["pin"], CTX).value.series == "ID"
    act = fake.birth_act(child["pin"], CTX).value
    assert act.mother_pin == mother["pin"] and act.certificate_series == "I-AN"
    members = {(m.pin, m.relation) for m in fake.family_members(mother["pin"], CTX).value}
    assert members == {(child["pin"], "child"), (ward["pin"], "ward")}


def test_unknown_pin_and_outage_are_the_adapters_own_errors() -> None:
    *_, data = population()
    fake = FakeRegistry(data)
    with pytest.raises(RegistryNotFound):
        fake.person("22310199099999", CTX)
    fake.available = False
    with pytest.raises(RegistryUnavailable):
        fake.person(data["people"][0]["pin"], CTX)


def test_wrong_format_is_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        FakeRegistry({"format": "something-else", "people": []})
