"""The small synthetic country loads where the real data goes: the catalog through
catalog_import (twice, the second time changing nothing) and the population into the registry
fake, and the command writes both files."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from kattoo.campaigns.models import Campaign
from kattoo.catalog.importing import catalog_import
from kattoo.catalog.models import School, Teacher
from kattoo.catalog.selectors import AddressKey, microdistrict_school_ids
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.integrations.registry.client import registry_override
from kattoo.integrations.registry.errors import RegistryNotFound
from kattoo.integrations.registry.fake import FakeRegistry
from kattoo.integrations.registry.types import RequestContext
from kattoo.synthetic import generate
from kattoo.synthetic.management.commands.generate_country import Command

from ..conftest import BEFORE

CLI = Actor(user=None, channel="cli")
CTX = RequestContext()


@cache
def small() -> tuple[dict[str, Any], dict[str, Any]]:
    country = generate("small", 5)
    return country.catalog(), country.registry()


def demo(population: dict[str, Any], words: str) -> dict[str, Any]:
    return next(e for e in population["demo"]["people"] if words in e["description"])


@pytest.fixture(autouse=True)
def registry() -> Iterator[FakeRegistry]:
    """The country's own population: every teacher of its rosters is an adult it knows (§24)."""
    fake = FakeRegistry(small()[1])
    with registry_override(fake):
        yield fake


def test_the_catalog_imports_and_a_second_import_changes_nothing(campaign: Campaign) -> None:
    catalog, _population = small()
    with clock.frozen(BEFORE):  # §24: before the quota lock the rosters are not frozen
        report = catalog_import(data=catalog, actor=CLI)
    assert report.errors == [] and report.campaign == campaign.code
    for kind in ("schools", "microdistricts", "class_sets", "teachers", "houses"):
        assert report.counts[kind].created == len(catalog[kind]), kind
    assert School.objects.count() == len(catalog["schools"])
    assert Teacher.objects.count() == len(catalog["teachers"])
    again = catalog_import(data=catalog, actor=CLI)
    assert all(c.created == c.updated == c.deleted == 0 for c in again.counts.values())


@pytest.mark.usefixtures("campaign")
def test_microdistricts_hold_the_demo_addresses() -> None:
    catalog, population = small()
    catalog_import(data=catalog, actor=CLI)
    people = {p["pin"]: p for p in population["people"]}

    def schools_of(pin: str) -> set[str]:
        address = people[pin]["address"]
        ids = microdistrict_school_ids([AddressKey(address["streetId"], address["house"])])
        return set(School.objects.filter(id__in=ids).values_list("code", flat=True))

    inside = demo(population, "Child in the microdistrict of")
    assert len(schools_of(inside["pin"])) == 1
    overlap = demo(population, "overlapping microdistricts")
    assert len(schools_of(overlap["pin"])) >= 2
    outside = demo(population, "no school's microdistrict")
    assert schools_of(outside["pin"]) == set()


def test_the_registry_fake_loads_the_population() -> None:
    _catalog, population = small()
    registry = FakeRegistry(json.loads(json.dumps(population)))
    parent = demo(population, "Parent of twins")
    members = registry.family_members(parent["pin"], CTX).value
    assert set(parent["children"]) <= {m.pin for m in members}
    officer = demo(population, "officer")
    wards = [m for m in registry.family_members(officer["pin"], CTX).value if m.relation == "ward"]
    assert len(wards) == 3
    no_passport = demo(population, "without a passport")
    assert registry.passport(no_passport["pin"], CTX).value is None
    no_act = demo(population, "birth act is not in the registry")
    with pytest.raises(RegistryNotFound):
        registry.birth_act(no_act["children"][0], CTX)
    assert no_act["children"][0] not in {
        m.pin for m in registry.family_members(no_act["pin"], CTX).value
    }
    address = registry.address(parent["pin"], CTX).value
    assert address is not None and address.street_id


def test_the_command_writes_both_files(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command(Command(), scale="small", seed=5, out=tmp_path, stdout=out)
    catalog = json.loads((tmp_path / "catalog.json").read_text(encoding="utf-8"))
    population = json.loads((tmp_path / "population.json").read_text(encoding="utf-8"))
    assert catalog["format"] == "kattoo-catalog/1" and catalog["academic_year"] == "2026-2027"
    assert population["format"] == "kattoo-population/1"
    assert (catalog, population) == tuple(json.loads(json.dumps(d)) for d in small())
    assert "every PIN valid and unique" in out.getvalue()
