"""Schools, their class-sets and their microdistricts (§11, §19, §31).

- A settlement gets the state and municipal schools geography planned; a village without one
  belongs to the microdistrict of a neighbouring village's school. About a tenth of the schools
  are private or of mixed ownership, mostly in the cities; some of them opt in (§31).
- Last year's 4th grades and this year's 1st grades follow the children a school serves: city
  schools have several class-sets of 30–45, village schools one or two small ones. Languages
  follow the district (Kyrgyz first; Russian in Bishkek and Chui; Uzbek in the south; Tajik in
  Batken; English in a few Bishkek schools). A few new schools have first grades only.
- Microdistricts split each settlement's streets between its schools — whole streets, ranges,
  odd and even sides — with some lines given to two schools (overlap) and some streets to none,
  as real verified lists have them; every house then knows which schools hold it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from . import names
from .geography import District, Geography, Settlement, Street, largest_remainder
from .scales import RATES, Scale

LETTERS = "АБВГДЕЖЗИКЛМН"
# The class size a school aims at, by settlement kind; real classes vary around it.
TARGET_SIZE = {"capital": 37, "city": 32, "town": 28, "village": 22}
MIN_SIZE = {"capital": 25, "city": 22, "town": 18, "village": 15}
MAX_SIZE = 45
# Share of schools teaching in two languages, by settlement kind.
BILINGUAL = {"capital": 0.6, "city": 0.5, "town": 0.35, "village": 0.15}
PRIVATE_WEIGHT = {"capital": 8.0, "city": 3.0, "town": 1.0, "village": 0.08}


@dataclass(frozen=True, slots=True)
class Line:
    """One microdistrict line (docs/data-formats.md): a whole street or a range of it."""

    school: str
    street: Street
    house_from: int | None = None
    house_to: int | None = None
    parity: str = "all"
    note: str = ""

    def holds(self, value: int | None) -> bool:
        """Mirrors kattoo.catalog.selectors: a range matches by the leading number, parity
        only inside a range, and a number without digits only a whole-street line."""
        if self.house_from is None or self.house_to is None:
            return True
        if value is None or not self.house_from <= value <= self.house_to:
            return False
        return self.parity == "all" or (value % 2 == 0) == (self.parity == "even")


@dataclass(slots=True, eq=False)
class School:
    code: str
    name_ky: str
    name_ru: str
    name_en: str
    district: District
    settlement: Settlement
    ownership: str
    opted_in: bool
    main_language: str
    address_ru: str = ""
    address_ky: str = ""
    new: bool = False  # opened last year: no 4th grade yet (§11)
    # (letter, language, size) of last year's 4th grades and this year's 1st grades.
    fourth: list[tuple[str, str, int]] = field(default_factory=list)
    first: list[tuple[str, str, int]] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    # Window children the school's microdistrict is planned for.
    catchment: float = 0.0

    @property
    def public(self) -> bool:
        return self.ownership in ("state", "municipal")

    @property
    def participates(self) -> bool:
        """§31: private and mixed schools take part only when they opt in."""
        return self.public or self.opted_in


@dataclass(slots=True)
class Schools:
    schools: list[School]
    lines: list[Line]

    def by_code(self) -> dict[str, School]:
        return {s.code: s for s in self.schools}


def _draw(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


class _Builder:
    def __init__(self, geo: Geography, scale: Scale, rng: random.Random) -> None:
        self.geo = geo
        self.scale = scale
        self.rng = rng
        self.codes: dict[str, int] = defaultdict(int)  # district → last school number
        self.private_codes: dict[str, int] = defaultdict(int)
        self.numbers: dict[str, int] = defaultdict(int)  # town → last "№"
        self.private_names: dict[str, list[str]] = {}
        self.schools: list[School] = []
        self.mains: dict[str, list[str]] = {}
        self.by_settlement: dict[str, list[School]] = defaultdict(list)

    def build(self) -> Schools:
        for district in self.geo.districts:
            # Main languages in the district's proportions, dealt out at random.
            slots = sum(s.school_slots for s in district.settlements)
            languages = self._languages(district)
            counts = largest_remainder(list(languages.values()), slots)
            mains = [lang for lang, n in zip(languages, counts, strict=True) for _ in range(n)]
            self.rng.shuffle(mains)
            self.mains[district.key] = mains
        for settlement in self.geo.settlements:
            for index in range(settlement.school_slots):
                self._public(settlement, index)
        self._private()
        self._new_schools()
        lines: list[Line] = []
        for district in self.geo.districts:
            lines.extend(self._district_lines(district))
        for school in self.schools:
            self._class_sets(school)
            self._address(school)
        _index_houses(self.geo, lines)
        return Schools(self.schools, lines)

    # -- schools ---------------------------------------------------------------------------
    def _languages(self, district: District) -> dict[str, float]:
        return {k: v for k, v in district.languages().items() if k != "en"}

    def _public(self, settlement: Settlement, index: int) -> School:
        rng, district = self.rng, settlement.district
        self.codes[district.key] += 1
        code = f"{district.key}-{self.codes[district.key]:03d}"
        main = self.mains[district.key].pop()
        ky, ru, en = self._public_name(settlement, index, main)
        ownership = "state" if rng.random() < 0.06 else "municipal"
        school = School(code, ky, ru, en, district, settlement, ownership, False, main)
        self.schools.append(school)
        self.by_settlement[settlement.soate].append(school)
        return school

    def _public_name(self, settlement: Settlement, index: int, main: str) -> tuple[str, str, str]:
        rng = self.rng
        namesakes: tuple[tuple[str, str, str], ...] = names.NAMESAKES
        if main == "uz":
            namesakes = names.SOUTH_NAMESAKES[:2] + names.NAMESAKES[:3]
        elif main == "tg":
            namesakes = names.SOUTH_NAMESAKES[2:]
        if settlement.kind == "village":
            village, village_en = settlement.name, names.english(settlement.name)
            if index == 0 and settlement.school_slots == 1:
                if rng.random() < 0.25:
                    ky, ru, en = rng.choice(namesakes)
                    return (
                        f"{ky} атындагы {village} орто мектеби",
                        f"Средняя школа им. {ru} с. {village}",
                        f"{en} Secondary School, {village_en}",
                    )
                return (
                    f"{village} орто мектеби",
                    f"Средняя школа с. {village}",
                    f"{village_en} Secondary School",
                )
            return (
                f"{village} айылындагы № {index + 1} орто мектеп",
                f"Средняя школа № {index + 1} с. {village}",
                f"{village_en} Secondary School No. {index + 1}",
            )
        self.numbers[settlement.name] += rng.randint(1, 3)
        n = self.numbers[settlement.name]
        where_ky = "" if settlement.kind == "capital" else f"{settlement.name} шаарындагы "
        where_ru = "" if settlement.kind == "capital" else f" г. {settlement.name}"
        where_en = "" if settlement.kind == "capital" else f"{names.english(settlement.name)} "
        roll = rng.random()
        if roll < 0.12:
            return (
                f"{where_ky}№ {n} мектеп-гимназиясы",
                f"Школа-гимназия № {n}{where_ru}",
                f"{where_en}School-Gymnasium No. {n}",
            )
        if roll < 0.18:
            return (
                f"{where_ky}№ {n} мектеп-лицейи",
                f"Школа-лицей № {n}{where_ru}",
                f"{where_en}School-Lyceum No. {n}",
            )
        if roll < 0.32:
            ky, ru, en = rng.choice(namesakes)
            return (
                f"{ky} атындагы {where_ky}№ {n} орто мектеби",
                f"Средняя школа № {n} им. {ru}{where_ru}",
                f"{en} {where_en}Secondary School No. {n}",
            )
        return (
            f"{where_ky}№ {n} орто мектеби",
            f"Средняя общеобразовательная школа № {n}{where_ru}",
            f"{where_en}Secondary School No. {n}",
        )

    def _private(self) -> None:
        """Private and mixed schools, mostly in the cities (§31: they opt in or stay out)."""
        rng = self.rng
        count = round(self.scale.schools * RATES.private_schools)
        places = [s for s in self.geo.settlements if s.children > 0]
        weights = [s.children * PRIVATE_WEIGHT[s.kind] for s in places]
        if count <= 0 or not places:
            return
        for index, settlement in enumerate(rng.choices(places, weights=weights, k=count)):
            district = settlement.district
            self.private_codes[district.key] += 1
            code = f"{district.key}-P{self.private_codes[district.key]:02d}"
            pool = self.private_names.get(settlement.name)
            if not pool:
                pool = list(names.PRIVATE_SCHOOLS)
                rng.shuffle(pool)
                self.private_names[settlement.name] = pool
            brand = pool.pop().replace("_", " ")
            if settlement.kind == "village":
                brand = f"{brand} ({settlement.name})"
            brand_en = names.english(brand.split(" (")[0])
            mixed = rng.random() < 0.12
            if mixed:
                ky, ru, en = (
                    f"«{brand}» окуу комплекси",
                    f"Учебный комплекс «{brand}»",
                    f"{brand_en} Education Complex",
                )
            elif rng.random() < 0.4:
                ky, ru, en = (
                    f"«{brand}» жеке мектеп-лицейи",
                    f"Частная школа-лицей «{brand}»",
                    f"{brand_en} Private Lyceum",
                )
            else:
                ky, ru, en = (
                    f"«{brand}» жеке мектеби",
                    f"Частная школа «{brand}»",
                    f"{brand_en} Private School",
                )
            languages = self._languages(district)
            main = "ru" if "ru" in languages and rng.random() < 0.6 else _draw(rng, languages)
            school = School(
                code,
                ky,
                ru,
                en,
                district,
                settlement,
                "mixed" if mixed else "private",
                # The first two show both cases (§31) even in a small country.
                index == 1 or (index > 1 and rng.random() < RATES.private_opted_in),
                main,
            )
            self.schools.append(school)
            self.by_settlement[settlement.soate].append(school)

    def _new_schools(self) -> None:
        """§11: a school opened last year has no 4th grade; its 1st grades give the quota.
        New schools go up where the cities grow."""
        rng = self.rng
        candidates = [s for s in self.schools if s.public and s.settlement.urban]
        candidates = candidates or [s for s in self.schools if s.public]
        count = max(1, round(len(self.schools) * RATES.new_schools))
        for school in rng.sample(candidates, min(count, len(candidates))):
            school.new = True

    # -- class-sets ------------------------------------------------------------------------
    def _class_sets(self, school: School) -> None:
        rng, kind = self.rng, school.settlement.kind
        if school.public:
            cohort = school.catchment / 2 * rng.uniform(0.85, 1.15)
            target, low = TARGET_SIZE[kind], MIN_SIZE[kind]
        else:
            cohort, target, low = rng.uniform(14, 50), 20, 14
        count = max(1, min(len(LETTERS), round(cohort / target)))
        languages = self._school_languages(school)
        sizes = [
            max(low, min(MAX_SIZE, round(cohort / count * rng.uniform(0.85, 1.15))))
            for _ in range(count)
        ]
        if not school.new:
            school.fourth = [
                (LETTERS[i], languages[i % len(languages)], size) for i, size in enumerate(sizes)
            ]
        # This year's first grades: about as many, the languages the school teaches now.
        first_count = count + (rng.choice((-1, 1)) if count > 1 and rng.random() < 0.2 else 0)
        if school.new:
            first_count = max(first_count, 2)
        rng.shuffle(languages)
        school.first = [
            (
                LETTERS[i],
                languages[i % len(languages)],
                max(low, min(MAX_SIZE, round(cohort / count * rng.uniform(0.85, 1.15)))),
            )
            for i in range(first_count)
        ]
        school.first.sort(key=lambda s: (s[1] != school.main_language, s[0]))
        school.first = [(LETTERS[i], lang, size) for i, (_l, lang, size) in enumerate(school.first)]

    def _school_languages(self, school: School) -> list[str]:
        """The language of each class-set: the school's main language, in a bilingual school a
        second one; an English class in a few Bishkek schools."""
        rng, kind = self.rng, school.settlement.kind
        weights = self._languages(school.district)
        langs = [school.main_language]
        others = {k: v for k, v in weights.items() if k != school.main_language}
        # A second language where the district has people for it: common in Bishkek or Osh,
        # rare in Naryn.
        minority = min(1.0, 2 * sum(others.values()) / (sum(weights.values()) or 1))
        if others and rng.random() < BILINGUAL[kind] * minority:
            second = _draw(rng, others)
            langs = [school.main_language, second, school.main_language, second]
            if rng.random() < 0.5:
                langs = [school.main_language, second, second, school.main_language]
        english = school.district.languages().get("en", 0.0)
        if english and rng.random() < english * (8 if not school.public else 3):
            langs = [*langs, "en"] if len(langs) > 1 else [langs[0], langs[0], "en"]
        return langs

    def _address(self, school: School) -> None:
        street = school.lines[0].street if school.lines else school.settlement.streets[0]
        house = street.houses[min(len(street.houses) - 1, self.rng.randint(0, 20))]
        school.address_ru = f"{street.settlement.address}, {street.name_ru}, {house.number}"
        school.address_ky = f"{street.settlement.address_ky}, {street.name_ky}, {house.number}"

    # -- microdistricts --------------------------------------------------------------------
    def _district_lines(self, district: District) -> list[Line]:
        """Settlement by settlement; a village without a school goes to the nearest village
        (in the district's order) that has one."""
        rng = self.rng
        lines: list[Line] = []
        villages = [s for s in district.settlements if s.kind == "village"]
        with_school = [v for v in villages if self._public_of(v)]
        for settlement in district.settlements:
            public = self._public_of(settlement)
            if not public:
                if not with_school:
                    continue
                position = villages.index(settlement)
                host = min(with_school, key=lambda v: abs(villages.index(v) - position))
                public = self._public_of(host)[:1]
            lines.extend(self._settlement_lines(settlement, public))
        # An opted-in private school takes the first houses of a street near it, which a
        # public school holds too.
        for settlement in district.settlements:
            for school in self.by_settlement.get(settlement.soate, []):
                if school.public or not school.opted_in:
                    continue
                street = rng.choice(settlement.streets)
                top = _top(street)
                line = Line(school.code, street, 1, max(1, min(top, rng.randint(3, 8))))
                school.lines.append(line)
                lines.append(line)
        return lines

    def _public_of(self, settlement: Settlement) -> list[School]:
        return [s for s in self.by_settlement.get(settlement.soate, []) if s.public]

    def _settlement_lines(self, settlement: Settlement, schools: list[School]) -> list[Line]:
        """Split the settlement's streets between its schools, leave the newest houses at the
        ends of some streets outside every microdistrict, and give some houses to two
        schools; both shares are budgets of the settlement's homes, so they hold in a small
        country as in the whole one."""
        rng = self.rng
        streets = list(settlement.streets)
        weight = {st.code: 3 if st.flats else 1 for st in streets}
        total = sum(len(st.houses) * weight[st.code] for st in streets)
        # The highest house number each street's lines reach; houses past it are in none.
        limit = {st.code: _top(st) for st in streets}
        budget = RATES.uncovered_houses * total
        for street in rng.sample(streets, len(streets)):
            if budget <= 0:
                break
            top = limit[street.code]
            if top < 4:
                continue
            tail = min(top // 3, max(1, round(budget / weight[street.code])), rng.randint(2, 12))
            limit[street.code] = top - tail
            budget -= weight[street.code] * sum(
                1 for h in street.houses if (h.value or 0) > top - tail
            )

        out: list[Line] = []
        if len(schools) == 1:
            school = schools[0]
            for street in streets:
                top = limit[street.code]
                line = (
                    Line(school.code, street)
                    if top == _top(street)
                    else Line(school.code, street, 1, top)
                )
                out.append(line)
            school.lines.extend(out)
            school.catchment += settlement.children
            return out

        weights = [rng.uniform(0.6, 1.4) for _ in schools]
        shares = [total * w / sum(weights) for w in weights]
        owner, taken = 0, 0.0
        for street in streets:
            school = schools[owner]
            top = limit[street.code]
            size = len(street.houses) * weight[street.code]
            whole = top == _top(street)
            if owner < len(schools) - 1 and taken + size / 2 > shares[owner]:
                nxt = schools[owner + 1]
                if top >= 8 and rng.random() < 0.6:
                    # The boundary runs along this street: a range each, or a side each.
                    if rng.random() < 0.3:
                        out += [
                            Line(school.code, street, 1, top, "odd"),
                            Line(nxt.code, street, 1, top, "even"),
                        ]
                    else:
                        cut = rng.randint(2, top - 2)
                        out += [
                            Line(school.code, street, 1, cut),
                            Line(nxt.code, street, cut + 1, top),
                        ]
                    owner, taken = owner + 1, size / 2
                    continue
                owner, taken, school = owner + 1, 0.0, nxt
            out.append(Line(school.code, street) if whole else Line(school.code, street, 1, top))
            taken += size

        # §19: microdistricts may overlap — the first houses of some lines are verified for
        # the neighbouring school too.
        order = [s.code for s in schools]
        budget = RATES.overlap_houses * total
        for line in rng.sample(out, len(out)):
            if budget <= 0:
                break
            at = order.index(line.school)
            other = order[at + 1] if at + 1 < len(order) else order[at - 1]
            low = line.house_from or 1
            high = line.house_to or _top(line.street)
            step = 2 if line.parity != "all" else 1
            span = min(high - low, rng.randint(2, 10) * step)
            if span < 0:
                continue
            copy = Line(other, line.street, low, low + span, line.parity)
            if copy in out:  # the importer refuses a repeated line
                continue
            out.append(copy)
            budget -= weight[line.street.code] * (span // step + 1)
        out.sort(key=lambda line: order.index(line.school))
        by_code = {s.code: s for s in schools}
        held: dict[str, float] = defaultdict(float)
        for line in out:
            by_code[line.school].lines.append(line)
            span = (line.house_to or _top(line.street)) - (line.house_from or 1) + 1
            share = span / max(1, _top(line.street)) / (2 if line.parity != "all" else 1)
            held[line.school] += len(line.street.houses) * weight[line.street.code] * share
        for school in schools:
            school.catchment += settlement.children * held[school.code] / max(1, total)
        return out


def _top(street: Street) -> int:
    """The highest house number the register lists on a street."""
    return max(h.value or 0 for h in street.houses)


def _index_houses(geo: Geography, lines: list[Line]) -> None:
    """Every house learns which schools' microdistricts hold it (what stage 1 opens, §27)."""
    by_street: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        by_street[line.street.code].append(line)
    for street in geo.streets:
        mine = by_street.get(street.code)
        if not mine:
            continue
        for house in street.houses:
            house.schools = covering(mine, house.value)


def covering(lines: list[Line], value: int | None) -> tuple[str, ...]:
    found: list[str] = []
    for line in lines:
        if line.school not in found and line.holds(value):
            found.append(line.school)
    return tuple(found)


def schools_build(geo: Geography, scale: Scale, rng: random.Random) -> Schools:
    return _Builder(geo, scale, rng).build()


def lines_by_street(schools: Schools) -> dict[str, list[Line]]:
    out: dict[str, list[Line]] = defaultdict(list)
    for line in schools.lines:
        out[line.street.code].append(line)
    return out
