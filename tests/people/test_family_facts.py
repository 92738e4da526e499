"""The epochs that vouch for a draft's stored facts (enrollment ADR 0029): which people a
registry write marks stale. Every database (the epochs are plain columns)."""

from __future__ import annotations

import datetime as dt

from kattoo.core import clock
from kattoo.people.models import Person
from kattoo.people.services import family_facts_touch, person_refresh

from ..conftest import SYSTEM, World
from ..factories import PersonFactory


def epochs(*people: Person) -> list[int]:
    return [Person.objects.get(pk=p.pk).facts_epoch for p in people]


def test_a_refresh_marks_the_person_their_children_and_their_siblings(world: World) -> None:
    family = world.family(births=[dt.date(2019, 9, 1), dt.date(2019, 9, 1)])
    mother = family.parent.person
    assert mother is not None
    first, second = family.children
    father = Person.objects.get(pin=family.population[1]["pin"])
    stranger = PersonFactory()
    before = epochs(mother, father, first, second, stranger)

    # A sign-in's refresh of unchanged data marks nothing: drafts keep their stored facts.
    person_refresh(pin=mother.pin, actor=SYSTEM, applicant=True)
    person_refresh(pin=father.pin, actor=SYSTEM)
    assert epochs(mother, father, first, second, stranger) == before

    # The father moves: his address opens stage-1 schools for his children (§10).
    moved = {**family.population[1], "address": {**family.population[1]["address"], "house": "9"}}
    world.registry.add_person(moved)
    person_refresh(pin=father.pin, actor=SYSTEM)
    after = epochs(mother, father, first, second, stranger)
    assert [b - a for a, b in zip(before, after, strict=True)] == [0, 1, 1, 1, 0]

    # A co-twin's birth act changes (§25): both twins.
    twin = family.population[2]
    world.registry.add_person({**twin, "birthAct": {**twin["birthAct"], "certificateNumber": "9"}})
    person_refresh(pin=first.pin, actor=SYSTEM)
    again = epochs(mother, father, first, second, stranger)
    assert [b - a for a, b in zip(after, again, strict=True)] == [0, 0, 1, 1, 0]


def test_a_changed_parent_marks_the_old_and_the_new_siblings() -> None:
    born = dt.date(2019, 9, 1)
    old_mother, new_mother = PersonFactory(), PersonFactory(sex="F", birth_date=dt.date(1991, 1, 1))
    child = PersonFactory(birth_date=born, mother_pin=old_mother.pin, fetched_at=clock.now())
    old_sibling = PersonFactory(birth_date=born, mother_pin=old_mother.pin)
    new_sibling = PersonFactory(birth_date=born, mother_pin=new_mother.pin)
    other = PersonFactory(birth_date=born)
    before = epochs(child, old_sibling, new_sibling, other)
    family_facts_touch({child.pin: {"mother_pin": new_mother.pin, "father_pin": ""}})
    after = epochs(child, old_sibling, new_sibling, other)
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 1, 0]
