"""The population: households built around children of registration age (§8), and the cases
the regulation treats apart, in planned proportions.

- Families: a mother (most often the applicant), a father unless she is single or widowed,
  one child born in the birth window (sometimes two, a 2019 and a 2020 child), older siblings —
  some born the year before the window, over-age (§9) — and sometimes younger ones, too young.
  Names follow the district's peoples; the household shares a registered address, though some
  fathers are registered elsewhere and some children at another address (§10 counts either).
- Twins and triplets (§25): same mother, same birth date; their number is planned exactly.
- Legal representatives (§20), ≈1% of the window's children: grandparents who are guardians
  of an orphan, trustees (an aunt or uncle while the mother works abroad) and child-protection
  officers representing several children — the limit of two registrations has to bite.
- Teachers (§24): ≈4% of parents teach, most at a school near home; the catalog's rosters
  list them.
- People without documents (§9): an applicant without a passport, a child without a birth act.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from . import names
from .geography import Geography, House, Settlement, house_value
from .names import NAMES, NATIONALITY, feminine, patronymic
from .people import PersonFactory, Record, ordinal
from .scales import RATES, Scale
from .schools import Line, Schools, covering, lines_by_street

DAY_YEAR = 365


@dataclass(slots=True, eq=False)
class Family:
    settlement: Settlement
    home: House
    number: str | None  # a house number the register does not list yet, or None
    mother: Record | None
    father: Record | None
    children: list[Record] = field(default_factory=list)
    window: list[Record] = field(default_factory=list)  # the children born in the window
    tags: list[str] = field(default_factory=list)

    @property
    def applicant(self) -> Record:
        parent = self.mother or self.father
        assert parent is not None
        return parent


@dataclass(slots=True, eq=False)
class WardGroup:
    kind: str  # "grandparent", "trustee" or "officer"
    representative: Record
    children: list[Record]


@dataclass(slots=True)
class Population:
    people: list[Record]
    families: list[Family]
    groups: list[WardGroup]
    wards: list[dict[str, str]]
    teachers: list[dict[str, str]]  # catalog rows: school, pin, full_name
    teacher_school: dict[str, str]  # teacher PIN → school code
    window: tuple[int, int]  # day ordinals of the birth window (§8)
    lines: dict[str, list[Line]]  # street code → microdistrict lines

    def schools_at(self, address: dict[str, Any] | None) -> tuple[str, ...]:
        """Schools whose microdistrict holds a registered address."""
        if not address:
            return ()
        return covering(self.lines.get(address["streetId"], []), house_value(address["house"]))


def full_name(person: Record) -> str:
    return f"{person['surname']} {person['name']} {person['patronymic']}".strip()


class _Weighted:
    """A weighted draw prepared once (random.choices with cumulative weights is bisect)."""

    __slots__ = ("cum", "keys")

    def __init__(self, weights: dict[str, float]) -> None:
        self.keys = list(weights)
        total = 0.0
        self.cum = []
        for key in self.keys:
            total += weights[key]
            self.cum.append(total)

    def draw(self, rng: random.Random) -> str:
        return rng.choices(self.keys, cum_weights=self.cum)[0]


class _Builder:
    def __init__(
        self, geo: Geography, schools: Schools, scale: Scale, rng: random.Random, first_year: int
    ) -> None:
        self.geo = geo
        self.schools = schools
        self.scale = scale
        self.rng = rng
        self.f = PersonFactory(rng, first_year)
        y = first_year
        self.window = (ordinal(y - 7), ordinal(y - 6, 12, 31))
        self.overage = (ordinal(y - 8), ordinal(y - 8, 12, 31))
        self.eldest = ordinal(y - 15)  # older siblings are children, without passports yet
        self.now = ordinal(y, 2, 1)
        self.since_from = ordinal(y - 20)
        self.families: list[Family] = []
        self.no_act: set[int] = set()
        self.groups: list[WardGroup] = []
        self.peoples = {d.soate: _Weighted(d.peoples()) for d in geo.districts}
        self._homes: dict[str, tuple[list[House], list[float]]] = {}

    # -- homes -----------------------------------------------------------------------------
    def homes(self, settlement: Settlement) -> tuple[list[House], list[float]]:
        found = self._homes.get(settlement.soate)
        if found is None:
            houses = [h for street in settlement.streets for h in street.houses]
            cum: list[float] = []
            total = 0.0
            for house in houses:
                total += 3.0 if house.flats else 1.0
                cum.append(total)
            found = self._homes[settlement.soate] = (houses, cum)
        return found

    def home(self, settlement: Settlement) -> tuple[House, str]:
        houses, cum = self.homes(settlement)
        house = self.rng.choices(houses, cum_weights=cum)[0]
        flat = str(self.f.between(1, 140)) if house.flats else ""
        return house, flat

    # -- the whole population --------------------------------------------------------------
    def build(self) -> Population:
        rng, scale = self.rng, self.scale
        ward_plan = self._ward_plan(round(RATES.wards * scale.children))
        places = [s for s in self.geo.settlements if s.children > 0]
        weights = [s.children for s in places]
        placed = rng.choices(places, weights=weights, k=len(ward_plan))
        ward_children: dict[str, int] = {}
        for settlement, (_kind, size) in zip(placed, ward_plan, strict=True):
            ward_children[settlement.soate] = ward_children.get(settlement.soate, 0) + size

        target = scale.children - sum(size for _k, size in ward_plan)
        per_family = 1 + RATES.second_window_child + RATES.twin_children / 2
        families = int(target / per_family * 0.95)
        twins = round(RATES.twin_children * scale.children / 2)
        triplets = max(1, round(RATES.triplet_sets_per_child * scale.children))
        no_acts = max(1, round(RATES.no_birth_act * families))
        special = rng.sample(range(families), twins + triplets + no_acts)
        multiple = dict.fromkeys(special[:twins], 2) | dict.fromkeys(
            special[twins : twins + triplets], 3
        )
        self.no_act = set(special[twins + triplets :])

        index = 0
        for settlement in self.geo.settlements:
            wanted = settlement.children - ward_children.get(settlement.soate, 0)
            made = 0
            while made < wanted:
                family = self._family(settlement, multiple.get(index, 1), index in self.no_act)
                made += len(family.window)
                index += 1
        for settlement, (kind, size) in zip(placed, ward_plan, strict=True):
            self._ward_group(settlement, kind, size)
        teachers, teacher_school = self._teachers()
        wards = [
            {"representativePin": g.representative["pin"], "childPin": c["pin"]}
            for g in self.groups
            for c in g.children
        ]
        return Population(
            self.f.people,
            self.families,
            self.groups,
            wards,
            teachers,
            teacher_school,
            self.window,
            lines_by_street(self.schools),
        )

    # -- families --------------------------------------------------------------------------
    def _births(self, multiple: int, tags: list[str]) -> tuple[list[int], int]:
        """Birth days of the children (oldest first) and the index of the first one born in
        the window."""
        rng, f = self.rng, self.f
        low, high = self.window
        born = f.between(low, high)
        window = [born] * multiple
        if multiple == 1 and rng.random() < RATES.second_window_child:
            gap = f.between(300, 700)
            other = born + gap if born + gap <= high else born - gap
            if low <= other <= high:
                window.append(other)
        window.sort()
        older: list[int] = []
        if rng.random() < RATES.overage_first:
            day = f.between(*self.overage)
            if day < window[0] - 280:
                older.append(day)
        count = rng.choices((0, 1, 2, 3), cum_weights=(38, 73, 92, 100))[0]
        previous = older[-1] if older else window[0]
        for _ in range(count):
            previous -= f.between(450, 1500)
            if previous < self.eldest:
                break
            older.append(previous)
        if any(self.overage[0] <= day <= self.overage[1] for day in older):
            tags.append("overage")
        younger: list[int] = []
        if rng.random() < 0.3:
            day = window[-1] + f.between(500, 1700)
            if day <= self.now:
                younger.append(day)
                if high < day <= high + DAY_YEAR:
                    tags.append("young")
        return sorted(older) + window + younger, len(older)

    def _family(self, settlement: Settlement, multiple: int, no_act: bool) -> Family:
        rng, f = self.rng, self.f
        district = settlement.district
        people = self.peoples[district.soate].draw(rng)
        nm = NAMES[people]
        kyrgyz_style = rng.random() < nm.kyrgyz_patronymic
        nationality = NATIONALITY[people]
        tags: list[str] = []
        if multiple == 2:
            tags.append("twins")
        elif multiple == 3:
            tags.append("triplets")
        births, first_window = self._births(multiple, tags)
        eldest = births[0]
        mother_born = eldest - f.between(19 * DAY_YEAR, 37 * DAY_YEAR)
        father_born = mother_born - f.between(-DAY_YEAR, 8 * DAY_YEAR)

        house, flat = self.home(settlement)
        number = None
        if not house.flats and rng.random() < 0.01:
            # A new house at the end of the street, not in the register yet (no houseId).
            number = str((house.street.houses[-1].value or 0) + f.between(1, 3))
        since = f.between(self.since_from, min(births[first_window] + 700, self.now - 30))
        surname = f.pick(nm.surnames)
        single = rng.random() < RATES.single_mothers
        keeps_own = people == names.KYRGYZ and not single and rng.random() < 0.4
        mother_surname = feminine(f.pick(nm.surnames) if keeps_own else surname)
        no_passport = rng.random() < RATES.no_passport
        if no_passport:
            tags.append("no-passport")
        mother = f.adult(
            "F",
            mother_surname,
            f.pick(nm.women),
            patronymic(f.pick(nm.elder_men), "F", kyrgyz_style),
            mother_born,
            nationality,
            f.address(house, flat, since, number),
            district,
            passport=not no_passport,
        )
        father = None
        father_name = f.pick(nm.men)
        if single:
            tags.append("single")
        else:
            address = mother["address"]
            if rng.random() < RATES.father_elsewhere:
                other, other_flat = self.home(self._elsewhere(settlement))
                address = f.address(other, other_flat, f.between(self.since_from, self.now - 30))
                tags.append("father-elsewhere")
            father = f.adult(
                "M",
                surname,
                father_name,
                patronymic(f.pick(nm.elder_men), "M", kyrgyz_style),
                father_born,
                nationality,
                address,
                district,
            )
            if rng.random() < RATES.widows:
                father["deathDate"] = f.iso(f.between(self.now - 4 * DAY_YEAR, self.now - 60))
                father["passport"]["voidStatus"] = True
                tags.append("widow")
        patronym_from = father_name if father else f.pick(nm.men)

        child_house, child_flat, child_number = house, flat, number
        if rng.random() < RATES.child_elsewhere:
            child_house, child_flat = self.home(settlement)
            child_number = None
            tags.append("child-elsewhere")
        family = Family(settlement, house, number, mother, father, tags=tags)
        taken: set[str] = set()
        low, high = self.window
        for born in births:
            sex = "F" if rng.random() < 0.49 else "M"
            pool = nm.girls if sex == "F" else nm.boys
            name = f.pick(pool)
            while name in taken:
                name = f.pick(pool)
            taken.add(name)
            child = f.person(
                sex,
                feminine(surname) if sex == "F" else surname,
                name,
                patronymic(patronym_from, sex, kyrgyz_style),
                born,
                nationality,
                f.address(
                    child_house, child_flat, max(born + f.between(3, 30), since), child_number
                ),
            )
            child["birthAct"] = f.birth_act(
                born, district, mother["pin"], father["pin"] if father else None
            )
            family.children.append(child)
            if low <= born <= high:
                family.window.append(child)
        if no_act:
            # Not digitised: the parents do not see the child (§9: through the commission).
            f.pick(family.window)["birthAct"] = None
            tags.append("no-act")
        self.families.append(family)
        return family

    def _elsewhere(self, settlement: Settlement) -> Settlement:
        """Another settlement of the district (a father registered in his home village)."""
        others = [s for s in settlement.district.settlements if s.children > 0]
        return self.f.pick(others or [settlement])

    # -- legal representatives (§20) -------------------------------------------------------
    def _ward_plan(self, total: int) -> list[tuple[str, int]]:
        """Groups of wards: an officer with 3–5 (the first with exactly 3, the demo's case),
        grandparents with one orphan or two, trustees with one child."""
        rng = self.rng
        plan: list[tuple[str, int]] = []
        officers = round(total * 0.2)
        left = total
        size = 3
        while officers >= 3 and left >= 3:
            size = min(size, officers, left)
            plan.append(("officer", size))
            officers -= size
            left -= size
            size = rng.randint(3, 5)
        while left > 0:
            # The first two show a guardian and a trustee of one child each.
            first = len(plan) - len([k for k, _n in plan if k == "officer"])
            if first == 0 or (first > 1 and rng.random() < 0.7):
                size = 2 if first and left >= 2 and rng.random() < 0.1 else 1
                plan.append(("grandparent", size))
            else:
                size = 1
                plan.append(("trustee", size))
            left -= size
        return plan

    def _ward_group(self, settlement: Settlement, kind: str, size: int) -> None:
        rng, f = self.rng, self.f
        district = settlement.district
        people = self.peoples[district.soate].draw(rng) if kind != "officer" else names.KYRGYZ
        nm = NAMES[people]
        nationality = NATIONALITY[people]
        kyrgyz_style = rng.random() < nm.kyrgyz_patronymic
        surname = f.pick(nm.surnames)
        house, flat = self.home(settlement)
        since = f.between(self.since_from, self.now - 60)
        home = f.address(house, flat, since)
        low, high = self.window
        children_born = sorted(f.between(low, high) for _ in range(size))
        if kind == "officer":
            sex = "F" if rng.random() < 0.85 else "M"
            representative = f.adult(
                sex,
                feminine(surname) if sex == "F" else surname,
                f.pick(nm.women if sex == "F" else nm.men),
                patronymic(f.pick(nm.elder_men), sex, kyrgyz_style),
                f.between(ordinal(f.year - 58), ordinal(f.year - 27)),
                nationality,
                home,
                district,
                email_rate=1.0,
            )
        elif kind == "grandparent":
            sex = "F" if rng.random() < 0.8 else "M"
            representative = f.adult(
                sex,
                feminine(surname) if sex == "F" else surname,
                f.pick(nm.elder_women if sex == "F" else nm.elder_men),
                patronymic(f.pick(nm.elder_men), sex, kyrgyz_style),
                children_born[0] - f.between(44 * DAY_YEAR, 66 * DAY_YEAR),
                nationality,
                home,
                district,
                email_rate=0.1,
            )
        else:
            sex = "F" if rng.random() < 0.75 else "M"
            representative = f.adult(
                sex,
                feminine(surname) if sex == "F" else surname,
                f.pick(nm.women if sex == "F" else nm.men),
                patronymic(f.pick(nm.elder_men), sex, kyrgyz_style),
                children_born[0] - f.between(22 * DAY_YEAR, 40 * DAY_YEAR),
                nationality,
                home,
                district,
            )
        group = WardGroup(kind, representative, [])
        grandfather = f.pick(nm.elder_men)
        mother: Record | None = None
        for born in children_born:
            if kind == "officer" or mother is None:
                mother = self._absent_mother(kind, settlement, born, grandfather, kyrgyz_style)
                if kind == "grandparent":
                    mother["surname"] = feminine(surname)
            child_surname = surname if kind != "officer" else f.pick(nm.surnames)
            sex = "F" if rng.random() < 0.49 else "M"
            if kind == "trustee":
                address = mother["address"]  # registered with the mother, who works abroad
            elif kind == "officer":
                other, other_flat = self.home(settlement)
                address = f.address(other, other_flat, born + f.between(3, 30))
            else:
                address = f.address(house, flat, max(since, born + f.between(3, 30)))
            child = f.person(
                sex,
                feminine(child_surname) if sex == "F" else child_surname,
                f.pick(nm.girls if sex == "F" else nm.boys),
                patronymic(f.pick(nm.men), sex, kyrgyz_style),
                born,
                nationality,
                dict(address) if address else None,
            )
            child["birthAct"] = f.birth_act(born, district, mother["pin"], None)
            group.children.append(child)
        self.groups.append(group)

    def _absent_mother(
        self, kind: str, settlement: Settlement, born: int, grandfather: str, kyrgyz_style: bool
    ) -> Record:
        """The mother of a ward: deceased (a guardian's orphan), abroad (a trustee's nephew),
        or deceased or deprived of her rights, with no address (an officer's ward)."""
        rng, f = self.rng, self.f
        district = settlement.district
        nm = NAMES[names.KYRGYZ]
        mother_born = born - f.between(18 * DAY_YEAR, 34 * DAY_YEAR)
        surname = feminine(f.pick(nm.surnames))
        name = f.pick(nm.women)
        pat = patronymic(grandfather, "F", kyrgyz_style)
        if kind == "trustee":
            house, flat = self.home(settlement)
            address = f.address(house, flat, f.between(self.since_from, born))
            return f.adult(
                "F", surname, name, pat, mother_born, NATIONALITY[names.KYRGYZ], address, district
            )
        mother = f.person("F", surname, name, pat, mother_born, NATIONALITY[names.KYRGYZ], None)
        if kind == "grandparent" or rng.random() < 0.6:
            mother["deathDate"] = f.iso(f.between(born + 30, self.now - 90))
        return mother

    # -- teachers (§24) --------------------------------------------------------------------
    def _teachers(self) -> tuple[list[dict[str, str]], dict[str, str]]:
        rng, f = self.rng, self.f
        mothers = [
            fam
            for fam in self.families
            if fam.mother and fam.mother["passport"] and "no-passport" not in fam.tags
        ]
        fathers = [fam for fam in self.families if fam.father and not fam.father["deathDate"]]
        parents = sum(1 for fam in self.families for p in (fam.mother, fam.father) if p)
        count = round(parents * RATES.teachers)
        women = min(len(mothers), round(count * 0.82))
        chosen: list[tuple[Family, Record]] = [
            (fam, fam.mother) for fam in rng.sample(mothers, women) if fam.mother
        ]
        chosen += [
            (fam, fam.father)
            for fam in rng.sample(fathers, min(len(fathers), count - women))
            if fam.father
        ]
        chosen.sort(key=lambda pair: pair[1]["pin"])
        by_settlement: dict[str, list[str]] = {}
        by_district: dict[str, list[str]] = {}
        for school in self.schools.schools:
            if school.participates:
                by_settlement.setdefault(school.settlement.soate, []).append(school.code)
                by_district.setdefault(school.district.soate, []).append(school.code)
        rows: list[dict[str, str]] = []
        where: dict[str, str] = {}
        for family, person in chosen:
            near = [
                c
                for c in family.home.schools
                if c in by_district.get(family.settlement.district.soate, ())
            ]
            if near and rng.random() < 0.55:
                code = f.pick(near)
            else:
                code = f.pick(
                    by_settlement.get(family.settlement.soate)
                    or by_district[family.settlement.district.soate]
                )
            rows.append({"school": code, "pin": person["pin"], "full_name": full_name(person)})
            where[person["pin"]] = code
            family.tags.append("teacher")
        rows.sort(key=lambda r: (r["school"], r["pin"]))
        return rows, where


def population_build(
    geo: Geography, schools: Schools, scale: Scale, rng: random.Random, first_year: int
) -> Population:
    return _Builder(geo, schools, scale, rng, first_year).build()
