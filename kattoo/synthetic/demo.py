"""The "demo" section of both files: real PINs of the generated country that show each rule,
so whoever runs a rehearsal on it knows whom to log in as (same shape as kattoo/demo's).

People are looked for in file order, so in the first region (Bishkek at both scales) when it
has them; a case the data does not hold is simply left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from .families import Family, Population, full_name
from .schools import School, Schools

NOTE = (
    "Synthetic people and codes (kattoo.synthetic, scale {scale}, seed {seed}) for "
    "rehearsals, load tests and demonstrations; not real data."
)


def _entry(
    person: dict[str, Any], role: str, description: str, children: Iterable[str]
) -> dict[str, Any]:
    return {
        "pin": person["pin"],
        "name": full_name(person),
        "role": role,
        "description": description,
        "children": list(children),
    }


class _Picker:
    def __init__(self, population: Population, schools: Schools) -> None:
        self.population = population
        self.participating = {s.code for s in schools.schools if s.participates}
        # File order: the first region's families come first.
        self.families = population.families
        self.used: set[str] = set()

    def find(self, test: Callable[[Family], bool]) -> Family | None:
        for family in self.families:
            if family.applicant["pin"] not in self.used and test(family):
                self.used.add(family.applicant["pin"])
                return family
        return None

    def schools_of(self, family: Family) -> list[str]:
        return [
            c
            for c in self.population.schools_at(family.applicant["address"])
            if c in self.participating
        ]

    def plain(self, family: Family) -> bool:
        """A family with nothing special about it except what a case asks for."""
        mother = family.mother
        return (
            mother is not None
            and mother["passport"] is not None
            and all(c["birthAct"] for c in family.window)
            and "child-elsewhere" not in family.tags
            and "teacher" not in family.tags
        )


def demo_people(population: Population, schools: Schools) -> list[dict[str, Any]]:
    pick = _Picker(population, schools)
    out: list[dict[str, Any]] = []

    def window_pins(family: Family) -> list[str]:
        return [c["pin"] for c in family.window]

    family = pick.find(
        lambda f: (
            pick.plain(f) and len(pick.schools_of(f)) == 1 and len(f.window) == 1 and not f.tags
        )
    )
    if family:
        out.append(
            _entry(
                family.applicant,
                "parent",
                f"Child in the microdistrict of {pick.schools_of(family)[0]}: may register there "
                "from stage 1 (§27).",
                window_pins(family),
            )
        )
    family = pick.find(
        lambda f: pick.plain(f) and len(pick.schools_of(f)) >= 2 and len(f.window) == 1
    )
    if family:
        out.append(
            _entry(
                family.applicant,
                "parent",
                "Home address in overlapping microdistricts ("
                + ", ".join(pick.schools_of(family))
                + "): each of these schools opens in stage 1 (§19, §27).",
                window_pins(family),
            )
        )
    family = pick.find(lambda f: pick.plain(f) and "twins" in f.tags and bool(pick.schools_of(f)))
    if family:
        out.append(
            _entry(
                family.applicant,
                "parent",
                "Parent of twins: once one twin is admitted, the co-twin is admitted above "
                "quota (§25).",
                window_pins(family),
            )
        )
    family = pick.find(lambda f: "triplets" in f.tags and f.mother is not None)
    if family:
        out.append(
            _entry(
                family.applicant,
                "parent",
                "Mother of triplets born the same day (§25).",
                window_pins(family),
            )
        )
    overage_year = dt.date.fromordinal(population.window[0]).year - 1
    family = pick.find(lambda f: pick.plain(f) and "overage" in f.tags and bool(pick.schools_of(f)))
    if family:
        older = [
            c["pin"] for c in family.children if c["dateOfBirth"].startswith(str(overage_year))
        ]
        out.append(
            _entry(
                family.applicant,
                "parent",
                f"Has a child born in {overage_year}, before the birth window: only a decision of "
                "the Commission on Children's Affairs places that child (§9).",
                older,
            )
        )
    young_year = dt.date.fromordinal(population.window[1]).year + 1
    family = pick.find(lambda f: pick.plain(f) and "young" in f.tags)
    if family:
        young = [c["pin"] for c in family.children if c["dateOfBirth"].startswith(str(young_year))]
        out.append(
            _entry(
                family.applicant,
                "parent",
                f"Has a child born in {young_year}: too young for this campaign (§8).",
                young,
            )
        )
    teachers = population.teacher_school
    family = pick.find(
        lambda f: (
            "teacher" in f.tags
            and f.applicant["pin"] in teachers
            and teachers[f.applicant["pin"]] not in pick.schools_of(f)
            and bool(pick.schools_of(f))
        )
    )
    if family:
        school = teachers[family.applicant["pin"]]
        out.append(
            _entry(
                family.applicant,
                "teacher",
                f"Teacher at {school}, living in the microdistrict of "
                + ", ".join(pick.schools_of(family))
                + f": the child is admitted at {school} above quota (§24).",
                window_pins(family),
            )
        )
    family = pick.find(
        lambda f: pick.plain(f) and not pick.schools_of(f) and "father-elsewhere" not in f.tags
    )
    if family:
        out.append(
            _entry(
                family.applicant,
                "parent",
                "Home address in no school's microdistrict: no school in stage 1, any school "
                "with free seats in stage 2 (§27).",
                window_pins(family),
            )
        )
    family = pick.find(
        lambda f: (
            "child-elsewhere" in f.tags
            and not pick.schools_of(f)
            and bool(f.window and population.schools_at(f.window[0]["address"]))
        )
    ) or pick.find(lambda f: "child-elsewhere" in f.tags)
    if family:
        child = family.window[0]
        held = ", ".join(population.schools_at(child["address"])) or "no school"
        out.append(
            _entry(
                family.applicant,
                "parent",
                "The child is registered at another address than the parent, in the "
                f"microdistrict of {held} (§10: the child's own address counts too).",
                [child["pin"]],
            )
        )
    family = pick.find(lambda f: "no-passport" in f.tags and "single" in f.tags) or pick.find(
        lambda f: "no-passport" in f.tags
    )
    if family:
        out.append(
            _entry(
                family.applicant,
                "parent",
                "Mother without a passport in the registry: admission through the commission (§9).",
                window_pins(family),
            )
        )
    family = pick.find(lambda f: "no-act" in f.tags)
    if family:
        missing = [c["pin"] for c in family.window if c["birthAct"] is None]
        out.append(
            _entry(
                family.applicant,
                "parent",
                "The child's birth act is not in the registry: the child does not appear in the "
                "parent's account and goes through the commission (§9).",
                missing,
            )
        )
    for kind, size, description in (
        (
            "grandparent",
            1,
            "Grandparent and guardian of one child (the mother is deceased): must upload the "
            "guardianship act before registering (§20).",
        ),
        (
            "officer",
            3,
            "Child-protection officer representing three children of registration age: may "
            "register at most two of them (§20).",
        ),
        (
            "trustee",
            1,
            "Trustee of a child whose mother works abroad; the mother stays in the registry and "
            "may act too (§20).",
        ),
    ):
        group = next(
            (g for g in population.groups if g.kind == kind and len(g.children) == size), None
        )
        if group:
            out.append(
                _entry(
                    group.representative,
                    "representative",
                    description,
                    [c["pin"] for c in group.children],
                )
            )
    return out


def demo_schools(schools: Schools) -> list[dict[str, str]]:
    """Schools of note for the catalog's demo section."""
    out: list[dict[str, str]] = []

    def first(test: Callable[[School], bool], description: str) -> None:
        found = next((s for s in schools.schools if test(s)), None)
        if found is not None:
            out.append({"code": found.code, "description": description})

    first(
        lambda s: not s.public and not s.opted_in,
        "Private school that has not opted in: takes no part in registration (§31).",
    )
    first(lambda s: not s.public and s.opted_in, "Private school that opted in (§31).")
    first(
        lambda s: s.new,
        "New school without a 4th grade: the quota comes from this year's first grades (§11).",
    )
    first(
        lambda s: (
            any(size > 42 for _l, _lang, size in s.fourth)
            and any(size < 25 for _l, _lang, size in s.fourth)
        ),
        "4th grades above 42 and below 25 children: seats clamp to 42 and 25 (§11).",
    )
    for language, label in (
        ("ru", "a Russian"),
        ("uz", "an Uzbek"),
        ("tg", "a Tajik"),
        ("en", "an English"),
    ):

        def teaches(school: School, lang: str = language) -> bool:
            return school.public and any(x[1] == lang for x in school.first)

        first(teaches, f"Has {label}-language first-grade class-set.")
    return out


def demo_section(
    population: Population, schools: Schools, academic_year: str, scale: str, seed: int
) -> dict[str, Any]:
    return {
        "academic_year": academic_year,
        "note": NOTE.format(scale=scale, seed=seed),
        "people": demo_people(population, schools),
        "schools": demo_schools(schools),
    }
