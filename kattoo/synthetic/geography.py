"""Regions, districts, settlements, streets and houses: the address register the catalog and
every registered address come from.

Children are spread over districts by population and birth rate, then over the district's
towns and villages. How many schools a settlement gets is decided here too, because the number
of villages follows from it: a rural school serves one village (a few small villages have none
and belong to a neighbour's microdistrict), a city school serves many streets. Streets and
houses follow the number of families, so microdistricts are neither empty nor crowded: blocks
of flats in the cities, private houses in the villages.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import names
from .geodata import DISTRICTS, REGION_BY_CODE, DistrictData, RegionData
from .scales import RATES, Scale

# Window children a school serves, by kind of settlement: city schools are several times
# bigger than village ones.
CHILDREN_PER_SCHOOL = {"capital": 260.0, "city": 200.0, "town": 130.0, "village": 72.0}
# Window children per family (a second child in the window, twins).
CHILDREN_PER_FAMILY = 1.1
# Share of families living in blocks of flats, and families per such house.
FLATS_SHARE = {"capital": 0.5, "city": 0.3, "town": 0.1, "village": 0.0}
FAMILIES_PER_BLOCK = 3.0
# Private houses per family with a child of registration age: most houses have none.
HOUSES_PER_FAMILY = 1.4


@dataclass(slots=True, eq=False)
class House:
    street: Street
    number: str
    code: str
    value: int | None  # the leading number a microdistrict range matches ("12А" → 12)
    flats: bool
    # Codes of the schools whose microdistrict holds this house (schools.py fills it).
    schools: tuple[str, ...] = ()


@dataclass(slots=True, eq=False)
class Street:
    code: str
    settlement: Settlement
    name_ky: str
    name_ru: str
    flats: bool
    houses: list[House] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Settlement:
    soate: str
    district: District
    kind: str  # "capital" (Bishkek, Osh), "city", "town" or "village"
    name: str  # the short Russian name, for school names and addresses
    name_ky: str
    name_ru: str
    aymak: str  # SOATE of the aiyl aimak, "" in towns and cities
    address: str  # how an address here starts ("Ошская обл., Кара-Суйский р-н, с. Нариман")
    children: int  # window children planned here
    school_slots: int  # state and municipal schools planned here
    streets: list[Street] = field(default_factory=list)
    address_ky: str = ""  # the same start in Kyrgyz ("Ош облусу, Кара-Суу району, Нариман айылы")

    @property
    def urban(self) -> bool:
        return self.kind != "village"


@dataclass(slots=True, eq=False)
class District:
    soate: str
    data: DistrictData
    region: Region
    registry_office: str  # the civil registry office that issues birth acts here
    passport_office: str  # digits of the passport office (MKK ...)
    settlements: list[Settlement] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.data.key

    def peoples(self) -> dict[str, float]:
        return self.data.peoples or self.region.data.peoples

    def languages(self) -> dict[str, float]:
        return self.data.languages or self.region.data.languages


@dataclass(slots=True, eq=False)
class Region:
    soate: str
    data: RegionData
    districts: list[District] = field(default_factory=list)


@dataclass(slots=True)
class Geography:
    regions: list[Region]
    districts: list[District]
    settlements: list[Settlement]
    streets: list[Street]
    houses: list[House]


def _district_genitive(name_ru: str) -> str:
    """ "Аламудинский район" → "Аламудинского района", for the registry office's name."""
    adjective, _, noun = name_ru.partition(" ")
    return adjective[:-2] + "ого " + noun + "а"


def _short_district(name_ru: str) -> str:
    return name_ru.replace(" район", " р-н")


def largest_remainder(weights: list[float], total: int) -> list[int]:
    """Integers proportional to ``weights`` that add up to ``total`` exactly."""
    whole = sum(weights) or 1.0
    exact = [w * total / whole for w in weights]
    out = [int(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: out[i] - exact[i])
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


class _Builder:
    def __init__(self, scale: Scale, rng: random.Random) -> None:
        self.scale = scale
        self.rng = rng
        self.blocks_used: dict[str, int] = {}  # city → blocks of flats named so far

    # -- administrative units ------------------------------------------------------------
    def build(self) -> Geography:
        chosen = [d for d in DISTRICTS if not self.scale.districts or d.key in self.scale.districts]
        regions: dict[str, Region] = {}
        districts: list[District] = []
        for data in chosen:
            region_data = REGION_BY_CODE[data.region]
            region = regions.get(data.region)
            if region is None:
                region = Region(f"417{data.region}000000000", region_data)
                regions[data.region] = region
            soate = f"417{data.region}{data.code}000000"
            if data.city:
                office = f"Отдел ЗАГС {_district_genitive(data.name_ru)} г. {data.city}"
                if data.key == "OSH":
                    office = "Отдел ЗАГС г. Ош"
            else:
                office = f"Отдел ЗАГС {_district_genitive(data.name_ru)}"
            district = District(soate, data, region, office, f"{data.region}{data.code[1:]}")
            region.districts.append(district)
            districts.append(district)

        weights = [d.data.population * d.region.data.fertility for d in districts]
        children = largest_remainder(weights, self.scale.children)
        plans = [self._plan(d, c) for d, c in zip(districts, children, strict=True)]
        public = round(self.scale.schools * (1 - RATES.private_schools))
        units = [u for plan in plans for _kind, _name, _c, u in plan]
        slots = iter(largest_remainder(units, public))
        for district, plan in zip(districts, plans, strict=True):
            self._settlements(district, plan, slots)

        settlements = [s for d in districts for s in d.settlements]
        for settlement in settlements:
            self._streets(settlement)
        streets = [st for s in settlements for st in s.streets]
        houses = [h for st in streets for h in st.houses]
        return Geography(list(regions.values()), districts, settlements, streets, houses)

    def _plan(self, district: District, children: int) -> list[tuple[str, str, int, float]]:
        """(kind, name, children, school units) of the district's towns and of its villages as
        one group; villages are split once the number of schools is known."""
        data = district.data
        if data.city:
            return [("capital", data.city, children, children / CHILDREN_PER_SCHOOL["capital"])]
        plan: list[tuple[str, str, int, float]] = []
        rest = children
        for town in data.towns:
            kind = "city" if town.city else "town"
            share = round(children * town.population / data.population)
            rest -= share
            plan.append((kind, town.name_ru, share, share / CHILDREN_PER_SCHOOL[kind]))
        plan.append(("village", "", rest, rest / CHILDREN_PER_SCHOOL["village"]))
        return plan

    def _settlements(
        self, district: District, plan: list[tuple[str, str, int, float]], slots: Iterator[int]
    ) -> None:
        data, region = district.data, district.region
        prefix = district.soate[:8]
        town_index = 0
        for kind, _name, children, _units in plan:
            count = next(slots)
            if kind == "capital":
                short = "Бишкек" if data.city == "Бишкек" else "Ош"
                ky = f"{short} ш." if data.key == "OSH" else f"{short} ш. ({data.name_ky})"
                ru = f"г. {short}" if data.key == "OSH" else f"г. {short} ({data.name_ru})"
                district.settlements.append(
                    Settlement(
                        f"{prefix}000010",
                        district,
                        kind,
                        short,
                        ky,
                        ru,
                        "",
                        region.data.address,
                        children,
                        max(1, count),
                        address_ky=f"{short} ш.",
                    )
                )
                continue
            if kind in ("city", "town"):
                town = data.towns[town_index]
                town_index += 1
                district.settlements.append(
                    Settlement(
                        f"{prefix}000{10 * town_index:03d}",
                        district,
                        kind,
                        town.name_ru,
                        f"{town.name_ky} ш.",
                        f"г. {town.name_ru}",
                        "",
                        f"{region.data.address}, г. {town.name_ru}",
                        children,
                        max(1, count),
                        address_ky=f"{region.data.name_ky}, {town.name_ky} ш.",
                    )
                )
                continue
            self._villages(district, children, max(1, count))

    def _villages(self, district: District, children: int, schools: int) -> None:
        """About one village per rural school; the smallest villages have none."""
        rng, data, region = self.rng, district.data, district.region
        count = max(1, round(schools * 1.12))
        pool = list(names.SOUTH_VILLAGES if data.south else names.VILLAGES)
        rng.shuffle(pool)
        picked: list[tuple[str, str]] = []
        if data.centre:
            picked.append(data.centre)
        taken = {ru for _ky, ru in picked}
        variants = [
            (p_ky + ky, p_ru + ru) for p_ky, p_ru in names.VILLAGE_VARIANTS for ky, ru in pool
        ]
        for ky, ru in pool + variants:
            if len(picked) >= count:
                break
            if ru not in taken:
                picked.append((ky, ru))
                taken.add(ru)
        while len(picked) < count:  # a district bigger than every name list
            ky, ru = pool[len(picked) % len(pool)]
            picked.append((f"{ky}-{len(picked)}", f"{ru}-{len(picked)}"))
        # Village sizes vary a lot; the centre is the biggest.
        weights = [rng.lognormvariate(0, 0.5) for _ in picked]
        if data.centre:
            weights[0] = max(weights) * 1.5
        sizes = largest_remainder(weights, children)
        ranked = sorted(range(len(picked)), key=lambda i: -sizes[i])
        slot = dict.fromkeys(ranked, 0)
        for n in range(schools):
            slot[ranked[n % len(ranked)]] += 1
        district_text = f"{region.data.address}, {_short_district(data.name_ru)}"
        aymak_no = 800
        for index, (ky, ru) in enumerate(picked):
            if index % 2 == 0:  # an aiyl aimak of one or two villages
                aymak_no += 1
            village_no = 10 * (index % 2 + 1)
            aymak = f"{district.soate[:8]}{aymak_no:03d}000"
            district.settlements.append(
                Settlement(
                    f"{aymak[:11]}{village_no:03d}",
                    district,
                    "village",
                    ru,
                    f"{ky} айылы",
                    f"с. {ru}",
                    aymak,
                    f"{district_text}, с. {ru}",
                    sizes[index],
                    slot[index],
                    address_ky=f"{region.data.name_ky}, {data.name_ky}, {ky} айылы",
                )
            )

    # -- streets and houses ----------------------------------------------------------------
    def _streets(self, settlement: Settlement) -> None:
        rng, kind = self.rng, settlement.kind
        families = settlement.children / CHILDREN_PER_FAMILY
        flat_families = families * FLATS_SHARE[kind]
        block_houses = round(flat_families / FAMILIES_PER_BLOCK)
        private_houses = max(12, round((families - flat_families) * HOUSES_PER_FAMILY))
        plan: list[tuple[bool, int]] = []  # (flats, houses) per street
        while block_houses > 0:
            n = min(block_houses, rng.randint(8, 40))
            plan.append((True, max(n, 4)))
            block_houses -= n
        low, high = (12, 45) if kind == "village" else (20, 70)
        while private_houses > 0:
            n = min(private_houses, rng.randint(low, high))
            plan.append((False, max(n, 6)))
            private_houses -= n
        while len(plan) < 3:
            plan.append((False, rng.randint(low, high)))
        rng.shuffle(plan)

        street_names = self._street_names(settlement, [f for f, _n in plan])
        base = settlement.soate[3:]
        for index, ((flats, houses), (ky, ru)) in enumerate(
            zip(plan, street_names, strict=True), start=1
        ):
            assert index < 1000
            street = Street(f"{base}{index:03d}", settlement, ky, ru, flats)
            street.houses = self._houses(street, houses)
            settlement.streets.append(street)

    def _street_names(self, settlement: Settlement, flats: list[bool]) -> list[tuple[str, str]]:
        """Streets named after people and things; blocks of flats in the capitals are
        microdistricts ("мкр. Джал"), and lanes ("пер. Манаса") when the names run out."""
        rng = self.rng
        streets = list(names.STREETS)
        rng.shuffle(streets)
        plain = [(f"{ky} көчөсү", f"ул. {ru}") for ky, ru in streets]
        plain += [(f"{ky} тыкыры", f"пер. {ru}") for ky, ru in streets]
        plain += [(f"{ky} {n}-тыкыры", f"{n}-й пер. {ru}") for n in (2, 3, 4) for ky, ru in streets]
        blocks: list[tuple[str, str]] = []
        if settlement.kind == "capital":
            pool = names.BISHKEK_BLOCKS if settlement.name == "Бишкек" else names.OSH_BLOCKS
            used = self.blocks_used.get(settlement.name, 0)
            for ky, ru in pool[used:]:
                blocks.append((f"{ky} кичи району", f"мкр. {ru}"))
            self.blocks_used[settlement.name] = used + sum(flats)
        out: list[tuple[str, str]] = []
        plain_iter, block_iter = iter(plain), iter(blocks)
        for is_block in flats:
            pair = next(block_iter, None) if is_block else None
            out.append(pair or next(plain_iter))
        return out

    def _houses(self, street: Street, count: int) -> list[House]:
        """Houses 1..count, and the odd "12А" or "7/2" real registers have."""
        rng = self.rng
        numbers: list[str] = []
        for n in range(1, count + 1):
            numbers.append(str(n))
            roll = rng.random()
            if roll < 0.012:
                numbers.append(f"{n}А")
            elif roll < 0.018 and street.flats:
                numbers.append(f"{n}/2")
        houses = []
        for index, number in enumerate(numbers, start=1):
            digits = number.split("/")[0].rstrip("АБ")
            houses.append(
                House(street, number, f"{street.code}{index:04d}", int(digits), street.flats)
            )
        return houses


def geography_build(scale: Scale, rng: random.Random) -> Geography:
    return _Builder(scale, rng).build()


def house_value(number: str) -> int | None:
    """The leading number, as kattoo.catalog.selectors reads it ("12А" → 12, "б/н" → None)."""
    digits = ""
    for char in number:
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else None
