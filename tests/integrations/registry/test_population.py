from __future__ import annotations

import datetime as dt
import json

import pytest

from kattoo.integrations.registry.population import (
    Population,
    address_record,
    birth_act_record,
    contact_record,
    person_record,
)

from ...factories import registry_person


def family() -> tuple[dict, dict, list[dict], dict]:
    mother = registry_person(sex="F", born=dt.date(1990, 1, 1))
    father = registry_person(sex="M", born=dt.date(1989, 1, 1))
    kids = [
        registry_person(
            sex="F", born=dt.date(2019, 1, d), mother=mother["pin"], father=father["pin"]
        )
        for d in (1, 2)
    ]
    ward = registry_person(sex="M", born=dt.date(2020, 3, 3))
    return mother, father, kids, ward


def test_index_by_pin_parent_and_representative() -> None:
    mother, father, kids, ward = family()
    population = Population(
        {
            "format": "kattoo-population/1",
            "people": [mother, father, *kids, ward],
            "wards": [{"representativePin": mother["pin"], "childPin": ward["pin"]}],
        }
    )
    assert len(population) == 5 and mother["pin"] in population
    assert population.person(father["pin"]) is father
    assert population.children(mother["pin"]) == kids == population.children(father["pin"])
    assert population.wards(mother["pin"]) == [ward]
    assert [(r, p["pin"]) for r, p in population.family(mother["pin"])] == [
        ("child", kids[0]["pin"]),
        ("child", kids[1]["pin"]),
        ("ward", ward["pin"]),
    ]
    assert population.family(ward["pin"]) == [] and population.person("0" * 14) is None


def test_replacing_a_person_moves_the_child_to_the_parents_of_the_new_birth_act() -> None:
    mother, father, kids, _ = family()
    population = Population({"people": [mother, father, *kids]})
    corrected = {**kids[0], "birthAct": {**kids[0]["birthAct"], "fatherPin": None}}
    assert population.add_person(corrected) is True
    assert population.children(father["pin"]) == [kids[1]]
    assert population.children(mother["pin"])[0] is corrected
    result = population.load(
        {"people": [kids[1], registry_person(sex="F", born=dt.date(2000, 1, 1))]}
    )
    assert (result.added, result.replaced) == (1, 1)


def test_wards_are_not_listed_twice_and_unknown_children_are_skipped() -> None:
    mother, _, _, ward = family()
    population = Population({"people": [mother, ward]})
    population.add_ward(mother["pin"], ward["pin"])
    population.add_ward(mother["pin"], ward["pin"])
    population.add_ward(mother["pin"], "20101201900001")  # not (yet) in the population
    assert population.wards(mother["pin"]) == [ward]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"format": "kattoo-population/2"}, "format"),
        ({"people": {}}, "lists"),
        ({"people": [{"name": "no pin"}]}, r"people\[0\]"),
        ({"wards": [{"childPin": "1"}]}, r"wards\[0\]"),
    ],
)
def test_bad_documents_are_refused_whole(document: dict, problem: str) -> None:
    population = Population()
    with pytest.raises(ValueError, match=problem):
        population.load(
            {"people": [registry_person(sex="F", born=dt.date(1990, 1, 1))], **document}
        )
    assert len(population) == 0


def test_from_file_reads_the_demo_population_quickly(tmp_path) -> None:
    mother, father, kids, ward = family()
    path = tmp_path / "population.json"
    path.write_text(
        json.dumps({"format": "kattoo-population/1", "people": [mother, father, *kids, ward]}),
        encoding="utf-8",
    )
    assert len(Population.from_file(path)) == 5


def test_records_read_missing_keys_and_nulls_alike() -> None:
    person = registry_person(sex="F", born=dt.date(1990, 1, 1))
    person.pop("citizenship")
    record = person_record({**person, "patronymic": None, "deathDate": None})
    assert record.patronymic == "" and record.citizenship == "KG" and record.death_date is None
    assert address_record(None) is None and address_record({}) is None
    assert address_record({"text": "x", "flat": None}).flat == ""  # type: ignore[union-attr]
    assert contact_record(None).phone == "" and contact_record({"phone": None}).phone == ""
    act = birth_act_record({"actDate": "2019-01-01", "motherPin": None}, "20101201900001")
    assert act.child_pin == "20101201900001" and act.mother_pin == ""
    with pytest.raises(ValueError):
        person_record({**person, "dateOfBirth": None})
