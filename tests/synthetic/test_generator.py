"""The synthetic country (kattoo.synthetic): deterministic, realistic in its shares, and
internally consistent — at the small scale only, so the suite stays fast."""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any

import pytest

from kattoo.integrations.registry.pin import pin_is_valid, pin_parse
from kattoo.synthetic import Country, generate
from kattoo.synthetic.geodata import DISTRICTS, REGIONS
from kattoo.synthetic.names import feminine, patronymic
from kattoo.synthetic.stats import measure
from kattoo.synthetic.writer import dumps

SEEDS = (1, 2, 3)


@cache
def country(seed: int) -> Country:
    return generate("small", seed)


@cache
def documents(seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    c = country(seed)
    return c.catalog(), c.registry()


@cache
def stats(seed: int) -> dict[str, Any]:
    return measure(*documents(seed))


# -- determinism ---------------------------------------------------------------------------
def test_the_same_seed_gives_the_same_bytes() -> None:
    first, again = generate("small", 42), generate("small", 42)
    assert dumps(first.catalog()) == dumps(again.catalog())
    assert dumps(first.registry()) == dumps(again.registry())


def test_another_seed_gives_another_country() -> None:
    one, other = generate("small", 42), generate("small", 43)
    assert dumps(one.catalog()) != dumps(other.catalog())
    assert {p["pin"] for p in one.registry()["people"]} != {
        p["pin"] for p in other.registry()["people"]
    }


# -- the map -------------------------------------------------------------------------------
def test_the_map_has_the_real_regions_and_districts() -> None:
    codes = {r.code for r in REGIONS}
    assert codes == {"02", "03", "04", "05", "06", "07", "08", "11", "21"}
    assert len(DISTRICTS) == 45  # 40 raions, Bishkek's 4 city districts, Osh city
    assert len({d.key for d in DISTRICTS}) == len(DISTRICTS)
    assert len({(d.region, d.code) for d in DISTRICTS}) == len(DISTRICTS)
    bishkek = {d.name_en for d in DISTRICTS if d.region == "11"}
    assert bishkek == {
        "Lenin District",
        "Oktyabr District",
        "Pervomay District",
        "Sverdlov District",
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_codes_are_shaped_like_the_registers(seed: int) -> None:
    catalog, _population = documents(seed)
    for kind in ("regions", "districts", "settlements"):
        for row in catalog[kind]:
            assert len(row["soate"]) == 14 and row["soate"].startswith("417"), row
    regions = {r["soate"] for r in catalog["regions"]}
    assert regions == {"41711000000000", "41706000000000"}  # Bishkek and Osh oblast
    districts = {d["soate"]: d["region"] for d in catalog["districts"]}
    assert all(s["district"] in districts for s in catalog["settlements"])
    assert all(d["soate"][:5] == r[:5] for d, r in ((d, d["region"]) for d in catalog["districts"]))
    assert len({s["code"] for s in catalog["streets"]}) == len(catalog["streets"])
    assert len({(h["street"], h["number"]) for h in catalog["houses"]}) == len(catalog["houses"])
    assert all(len(s["code"]) <= 32 for s in catalog["schools"])


# -- shares --------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_the_small_country_has_the_planned_size(seed: int) -> None:
    s = stats(seed)
    assert (s["regions"], s["districts"]) == (2, 4)
    assert 25 <= s["schools"] <= 35
    assert 1_450 <= s["window_children"] <= 1_560
    assert s["overage_children"] > 0 and s["young_children"] > 0
    assert s["new_schools"] >= 1


@pytest.mark.parametrize("seed", SEEDS)
def test_the_small_country_has_the_planned_shares(seed: int) -> None:
    s = stats(seed)
    assert 0.012 <= s["twin_share"] <= 0.018
    assert s["triplet_sets"] >= 1
    assert 0.008 <= s["ward_share"] <= 0.012
    assert 0.035 <= s["teacher_share"] <= 0.045
    assert 0.01 <= s["overlap_share"] <= 0.09
    assert 0.01 <= s["none_share"] <= 0.08
    assert 0.06 <= s["private_share"] <= 0.14
    assert s["window_without_birth_act"] >= 1
    assert s["no_passport_adults"] >= 1


@pytest.mark.parametrize("seed", SEEDS)
def test_languages_follow_the_districts(seed: int) -> None:
    """Kyrgyz first; Russian from Bishkek, Uzbek from the Osh-oblast districts."""
    languages = stats(seed)["languages"]
    assert max(languages, key=languages.__getitem__) == "ky"
    assert languages["ky"] >= 0.35
    assert languages["ru"] > 0.05 and languages["uz"] > 0.05
    assert set(languages) <= {"ky", "ru", "uz", "tg", "en"}


@pytest.mark.parametrize("seed", SEEDS)
def test_private_schools_opt_in_or_stay_out(seed: int) -> None:
    catalog, _population = documents(seed)
    private = [s for s in catalog["schools"] if s["ownership"] in ("private", "mixed")]
    assert {s["opted_in"] for s in private} == {True, False}
    public = [s for s in catalog["schools"] if s["ownership"] in ("state", "municipal")]
    assert not any(s["opted_in"] for s in public)


@pytest.mark.parametrize("seed", SEEDS)
def test_class_sets_are_realistic(seed: int) -> None:
    catalog, _population = documents(seed)
    sets = catalog["class_sets"]
    assert all(12 <= c["size"] <= 45 for c in sets)
    letters = Counter((c["school"], c["grade"], c["letter"]) for c in sets)
    assert max(letters.values()) == 1
    with_fourth = {c["school"] for c in sets if c["grade"] == "fourth"}
    with_first = {c["school"] for c in sets if c["grade"] == "first"}
    assert with_first == {s["code"] for s in catalog["schools"]}
    assert with_fourth < with_first  # new schools have first grades only
    bishkek = [c["size"] for c in sets if c["school"].startswith(("LEN", "SVE"))]
    villages = [c["size"] for c in sets if c["school"].startswith(("ARA", "KSU"))]
    assert sum(bishkek) / len(bishkek) > sum(villages) / len(villages)  # urban classes are bigger


# -- integrity -----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_every_pin_is_valid_unique_and_agrees_with_the_person(seed: int) -> None:
    _catalog, population = documents(seed)
    pins = [p["pin"] for p in population["people"]]
    assert all(pin_is_valid(pin) for pin in pins)
    assert len(set(pins)) == len(pins)
    for person in population["people"]:
        sex, born = pin_parse(person["pin"])
        assert (person["gender"], person["dateOfBirth"]) == (sex, born.isoformat())
    assert stats(seed)["problem_counts"] == {}


@pytest.mark.parametrize("seed", SEEDS)
def test_every_address_is_on_a_catalog_street(seed: int) -> None:
    catalog, population = documents(seed)
    streets = {s["code"]: s["settlement"] for s in catalog["streets"]}
    settlements = {s["soate"]: s["district"] for s in catalog["settlements"]}
    houses = {(h["street"], h["number"]): h["code"] for h in catalog["houses"]}
    addressed = [p for p in population["people"] if p["address"]]
    assert len(addressed) > 0.9 * len(population["people"])
    for person in addressed:
        address = person["address"]
        assert address["streetId"] in streets
        assert address["villageId"] == streets[address["streetId"]]
        assert address["districtId"] == settlements[address["villageId"]]
        # A house the register lists carries its id; a new one does not.
        assert address["houseId"] == houses.get((address["streetId"], address["house"]), "")


@pytest.mark.parametrize("seed", SEEDS)
def test_every_family_link_resolves(seed: int) -> None:
    catalog, population = documents(seed)
    people = {p["pin"]: p for p in population["people"]}
    for person in population["people"]:
        act = person["birthAct"]
        if not act:
            continue
        mother, father = people[act["motherPin"]], people.get(act["fatherPin"] or "")
        assert mother["gender"] == "F" and mother["dateOfBirth"] < person["dateOfBirth"]
        assert father is None or father["gender"] == "M"
        assert act["actDate"] >= person["dateOfBirth"]
    for ward in population["wards"]:
        assert ward["representativePin"] in people and ward["childPin"] in people
    for teacher in catalog["teachers"]:
        assert teacher["pin"] in people
        assert teacher["school"] in {s["code"] for s in catalog["schools"]}
    # Twins and triplets: the same mother, the same birth date.
    births = Counter(
        (p["birthAct"]["motherPin"], p["dateOfBirth"])
        for p in population["people"]
        if p["birthAct"]
    )
    assert 3 in births.values() and 2 in births.values()


@pytest.mark.parametrize("seed", SEEDS)
def test_the_demo_section_points_at_real_people(seed: int) -> None:
    catalog, population = documents(seed)
    people = {p["pin"]: p for p in population["people"]}
    demo = population["demo"]
    assert catalog["demo"]["people"] == demo["people"]
    assert demo["academic_year"] == catalog["academic_year"] == "2026-2027"
    assert 10 <= len(demo["people"]) <= 16
    assert {e["role"] for e in demo["people"]} == {"parent", "teacher", "representative"}
    for entry in demo["people"]:
        assert set(entry) == {"pin", "name", "role", "description", "children"}
        assert entry["pin"] in people and entry["children"]
        assert all(child in people for child in entry["children"])
    officer = next(e for e in demo["people"] if "officer" in e["description"])
    assert len([w for w in population["wards"] if w["representativePin"] == officer["pin"]]) == 3
    teacher = next(e for e in demo["people"] if e["role"] == "teacher")
    assert teacher["pin"] in {t["pin"] for t in catalog["teachers"]}
    schools = {s["code"] for s in catalog["schools"]}
    assert catalog["demo"]["schools"] and all(
        s["code"] in schools for s in catalog["demo"]["schools"]
    )


def test_names_follow_the_registry_s_conventions() -> None:
    assert feminine("Асанов") == "Асанова" and feminine("Ким") == "Ким"
    assert patronymic("Бакыт", "F", kyrgyz_style=True) == "Бакыт кызы"
    assert patronymic("Сергей", "M", kyrgyz_style=False) == "Сергеевич"
    assert patronymic("Михаил", "F", kyrgyz_style=False) == "Михайловна"
