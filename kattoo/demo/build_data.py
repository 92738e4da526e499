"""Builds the demo catalog and registry population, the same bytes on every run.

    python -m kattoo.demo.build_data           # (re)write kattoo/demo/data/*.json
    python -m kattoo.demo.build_data --check   # exit 1 if the files differ from what it builds

A made-up corner of Bishkek (Lenin and Sverdlov districts) and of the Alamudun district of
Chui oblast: 8 schools with last year's 4th grades and this year's 1st grades (§11), their
microdistricts (§19, some overlapping, some streets in none), and about 60 families with the
cases the regulation singles out: children inside and outside the birth window (§8, §9),
twins and triplets (§25), teachers' children (§24), legal representatives (§20), addresses
outside every microdistrict (§27), an applicant without a passport (§9).

Formats: docs/data-formats.md. Standard library only, fixed seed: the files are committed and
the script proves they are reproducible. Codes are shaped like SOATE codes and address-register
ids but are not the official ones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEED = 20260401
ACADEMIC_YEAR = "2026-2027"
DATA_DIR = Path(__file__).resolve().parent / "data"
CATALOG_FILE = DATA_DIR / "catalog.json"
POPULATION_FILE = DATA_DIR / "population.json"

# The 2026 campaign's birth window (§8); the data migration holds the real value.
WINDOW = (dt.date(2019, 1, 1), dt.date(2020, 12, 31))

# -- the catalog ------------------------------------------------------------------------------
BISHKEK = "41711000000000"
CHUI = "41708000000000"
LENIN = "41711211000000"
SVERDLOV = "41711215000000"
ALAMUDUN = "41708203000000"

REGIONS = [
    (BISHKEK, "Бишкек шаары", "город Бишкек", "Bishkek city"),
    (CHUI, "Чүй облусу", "Чуйская область", "Chui Region"),
]
DISTRICTS = [
    (LENIN, BISHKEK, "Ленин району", "Ленинский район", "Lenin District"),
    (SVERDLOV, BISHKEK, "Свердлов району", "Свердловский район", "Sverdlov District"),
    (ALAMUDUN, CHUI, "Аламүдүн району", "Аламудунский район", "Alamudun District"),
]


@dataclass(frozen=True)
class SettlementInfo:
    soate: str
    district: str
    name_ky: str
    name_ru: str
    address_prefix: str  # how the address register's text starts
    region: str
    aymak: str = ""  # the aiyl aimak (rural municipality) of a village
    registry_office: str = ""


SETTLEMENTS = [
    SettlementInfo(
        "41711211000010",
        LENIN,
        "Бишкек ш. (Ленин району)",
        "г. Бишкек (Ленинский район)",
        "г. Бишкек",
        BISHKEK,
        registry_office="Отдел ЗАГС Ленинского района г. Бишкек",
    ),
    SettlementInfo(
        "41711215000010",
        SVERDLOV,
        "Бишкек ш. (Свердлов району)",
        "г. Бишкек (Свердловский район)",
        "г. Бишкек",
        BISHKEK,
        registry_office="Отдел ЗАГС Свердловского района г. Бишкек",
    ),
    SettlementInfo(
        "41708203834010",
        ALAMUDUN,
        "Лебединовка айылы",
        "с. Лебединовка",
        "Чуйская обл., Аламудунский р-н, с. Лебединовка",
        CHUI,
        aymak="41708203834000",
        registry_office="Отдел ЗАГС Аламудунского района",
    ),
    SettlementInfo(
        "41708203822010",
        ALAMUDUN,
        "Кой-Таш айылы",
        "с. Кой-Таш",
        "Чуйская обл., Аламудунский р-н, с. Кой-Таш",
        CHUI,
        aymak="41708203822000",
        registry_office="Отдел ЗАГС Аламудунского района",
    ),
]
SETTLEMENT = {s.soate: s for s in SETTLEMENTS}
L_SET, S_SET, LEB_SET, KT_SET = (s.soate for s in SETTLEMENTS)


@dataclass(frozen=True)
class StreetInfo:
    code: str
    settlement: str
    name_ky: str
    name_ru: str
    houses: int  # houses 1..houses are known to the address register
    flats: bool  # apartment blocks: addresses carry a flat number


STREETS = [
    StreetInfo("1100101", L_SET, "Чүй проспектиси", "просп. Чуй", 80, True),
    StreetInfo("1100102", L_SET, "Ахунбаев көчөсү", "ул. Ахунбаева", 60, True),
    StreetInfo("1100103", L_SET, "Токтогул көчөсү", "ул. Токтогула", 70, True),
    StreetInfo("1100104", L_SET, "Киев көчөсү", "ул. Киевская", 50, True),
    StreetInfo("1100105", L_SET, "Фучик көчөсү", "ул. Фучика", 40, False),
    StreetInfo("1100106", L_SET, "Лев Толстой көчөсү", "ул. Льва Толстого", 40, True),
    StreetInfo("1500101", S_SET, "Исанов көчөсү", "ул. Исанова", 50, True),
    StreetInfo("1500102", S_SET, "Тыныстанов көчөсү", "ул. Тыныстанова", 60, True),
    StreetInfo("1500103", S_SET, "Боконбаев көчөсү", "ул. Боконбаева", 90, True),
    StreetInfo("1500104", S_SET, "Горький көчөсү", "ул. Горького", 50, True),
    StreetInfo("1500105", S_SET, "Байтик Баатыр көчөсү", "ул. Байтик Баатыра", 60, False),
    StreetInfo("1500106", S_SET, "Ибраимов көчөсү", "ул. Ибраимова", 40, True),
    StreetInfo("3400101", LEB_SET, "Ленин көчөсү", "ул. Ленина", 50, False),
    StreetInfo("3400102", LEB_SET, "Бакча көчөсү", "ул. Садовая", 35, False),
    StreetInfo("3400103", LEB_SET, "Мектеп көчөсү", "ул. Школьная", 25, False),
    StreetInfo("3400104", LEB_SET, "Жаңы-Жол көчөсү", "ул. Жаны-Жол", 30, False),
    StreetInfo("2200101", KT_SET, "Манас көчөсү", "ул. Манаса", 40, False),
    StreetInfo("2200102", KT_SET, "Ала-Тоо көчөсү", "ул. Ала-Тоо", 30, False),
    StreetInfo("2200103", KT_SET, "Жибек Жолу көчөсү", "ул. Жибек Жолу", 50, False),
    StreetInfo("2200104", KT_SET, "Жаштык көчөсү", "ул. Жаштык", 25, False),
]
STREET = {s.code: s for s in STREETS}
# House numbers with a letter or a building part, as real registers have them.
EXTRA_HOUSES = {"1100102": ["12А", "12Б"], "1500103": ["7/2"], "3400101": ["5А"]}


@dataclass(frozen=True)
class SchoolInfo:
    code: str
    name_ky: str
    name_ru: str
    name_en: str
    settlement: str
    address_ru: str
    address_ky: str
    ownership: str
    opted_in: bool
    # (letter, language, size): last year's 4th grades and this year's 1st grades (§11)
    fourth: tuple[tuple[str, str, int], ...]
    first: tuple[tuple[str, str, int], ...]


SCHOOLS = [
    SchoolInfo(
        "BIS-005",
        "№ 5 орто мектеби",
        "Средняя общеобразовательная школа № 5",
        "Secondary School No. 5",
        L_SET,
        "г. Бишкек, ул. Ахунбаева, 25",
        "Бишкек ш., Ахунбаев көчөсү, 25",
        "municipal",
        False,
        (("А", "ky", 38), ("Б", "ky", 44), ("В", "ru", 30)),
        (("А", "ky", 40), ("Б", "ky", 36), ("В", "ru", 28)),
    ),
    SchoolInfo(
        "BIS-061",
        "№ 61 мектеп-гимназиясы",
        "Школа-гимназия № 61",
        "School-Gymnasium No. 61",
        L_SET,
        "г. Бишкек, ул. Киевская, 40",
        "Бишкек ш., Киев көчөсү, 40",
        "municipal",
        False,
        (("А", "ru", 41), ("Б", "ru", 39), ("В", "ky", 22)),
        (("А", "ru", 35), ("Б", "ky", 33), ("В", "ky", 30)),
    ),
    SchoolInfo(
        "BIS-P02",
        "«Акыл» жеке мектеп-лицейи",
        "Частная школа-лицей «Акыл»",
        "Akyl Private Lyceum",
        L_SET,
        "г. Бишкек, ул. Льва Толстого, 3",
        "Бишкек ш., Лев Толстой көчөсү, 3",
        "private",
        True,
        (("А", "ru", 22), ("Б", "ky", 21)),
        (("А", "ky", 20), ("Б", "ru", 18)),
    ),
    SchoolInfo(
        "BIS-028",
        "№ 28 мектеп-гимназиясы",
        "Школа-гимназия № 28",
        "School-Gymnasium No. 28",
        S_SET,
        "г. Бишкек, ул. Исанова, 18",
        "Бишкек ш., Исанов көчөсү, 18",
        "municipal",
        False,
        (("А", "ky", 42), ("Б", "ky", 45), ("В", "ky", 37), ("Г", "ky", 19)),
        (("А", "ky", 40), ("Б", "ky", 41), ("В", "ky", 38), ("Г", "ru", 28)),
    ),
    SchoolInfo(
        "BIS-070",
        "№ 70 орто мектеби",
        "Средняя общеобразовательная школа № 70",
        "Secondary School No. 70",
        S_SET,
        "г. Бишкек, ул. Горького, 21",
        "Бишкек ш., Горький көчөсү, 21",
        "municipal",
        False,
        (("А", "ky", 36), ("Б", "ru", 33), ("В", "uz", 24)),
        (("А", "ky", 35), ("Б", "uz", 27), ("В", "ru", 30)),
    ),
    SchoolInfo(
        "BIS-P01",
        "«Билим Плюс» жеке мектеби",
        "Частная школа «Билим Плюс»",
        "Bilim Plus Private School",
        S_SET,
        "г. Бишкек, ул. Ибраимова, 30",
        "Бишкек ш., Ибраимов көчөсү, 30",
        "private",
        False,
        (("А", "ru", 18),),
        (("А", "ru", 16),),
    ),
    SchoolInfo(
        "ALA-011",
        "Ч. Айтматов атындагы Лебединовка орто мектеби",
        "Лебединовская средняя школа им. Ч. Айтматова",
        "Ch. Aitmatov Secondary School, Lebedinovka",
        LEB_SET,
        "Чуйская обл., Аламудунский р-н, с. Лебединовка, ул. Ленина, 40",
        "Чүй облусу, Аламүдүн району, Лебединовка айылы, Ленин көчөсү, 40",
        "state",
        False,
        (("А", "ky", 31), ("Б", "ky", 29), ("В", "ru", 26)),
        (("А", "ky", 32), ("Б", "ky", 30), ("В", "ru", 24)),
    ),
    SchoolInfo(
        "ALA-NEW",
        "Кой-Таш айылындагы № 2 орто мектеп",
        "Средняя школа № 2 с. Кой-Таш",
        "Koi-Tash Secondary School No. 2",
        KT_SET,
        "Чуйская обл., Аламудунский р-н, с. Кой-Таш, ул. Манаса, 1",
        "Чүй облусу, Аламүдүн району, Кой-Таш айылы, Манас көчөсү, 1",
        "municipal",
        False,
        (),  # opened last year: no 4th grade yet (§11: this year's 1st grades count)
        (("А", "ky", 30), ("Б", "ky", 28)),
    ),
]


@dataclass(frozen=True)
class Line:
    school: str
    street: str
    house_from: int | None = None
    house_to: int | None = None
    parity: str = "all"
    note: str = ""


MICRODISTRICTS = [
    Line("BIS-005", "1100101", 1, 60),
    Line("BIS-005", "1100102"),
    Line("BIS-005", "1100103", 1, 39, "odd"),
    # Toktogula 1–39 odd is in both BIS-005 and BIS-061: microdistricts may overlap (§19).
    Line("BIS-061", "1100103"),
    Line("BIS-061", "1100104"),
    Line("BIS-061", "1100105", 2, 30, "even"),
    Line(
        "BIS-P02",
        "1100106",
        1,
        20,
        note="Added by the school on a parent's request, district approval 2025-11-14",
    ),
    Line("BIS-028", "1500101"),
    Line("BIS-028", "1500102", 1, 50),
    Line("BIS-028", "1500103", 1, 30),
    Line("BIS-070", "1500103", 20, 80),
    Line("BIS-070", "1500104"),
    Line("BIS-070", "1500105", 2, 60, "even"),
    Line("ALA-011", "3400101"),
    Line("ALA-011", "3400102"),
    Line("ALA-011", "3400103"),
    Line("ALA-NEW", "2200101"),
    Line("ALA-NEW", "2200102"),
    Line("ALA-NEW", "2200103", 1, 40),
]


def house_value(number: str) -> int | None:
    """The leading number, as kattoo.catalog.selectors reads it ("12А" → 12)."""
    digits = ""
    for char in number:
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else None


def covering_schools(street: str, house: str) -> list[str]:
    """Codes of schools whose microdistrict holds the address (mirrors catalog.selectors)."""
    value = house_value(house)
    found: list[str] = []
    for line in MICRODISTRICTS:
        if line.street != street or line.school in found:
            continue
        if (
            line.house_from is None
            or line.house_to is None
            or (
                value is not None
                and line.house_from <= value <= line.house_to
                and (line.parity == "all" or (value % 2 == 0) == (line.parity == "even"))
            )
        ):
            found.append(line.school)
    return found


def house_numbers(street: StreetInfo) -> list[str]:
    return [str(n) for n in range(1, street.houses + 1)] + EXTRA_HOUSES.get(street.code, [])


def house_code(street: str, number: str) -> str:
    """The register's house id; houses past the register's list have none (a new building)."""
    if number not in house_numbers(STREET[street]):
        return ""
    return f"{street}{house_numbers(STREET[street]).index(number) + 1:04d}"


# -- names --------------------------------------------------------------------------------------
KY_SURNAMES = [
    "Асанов",
    "Осмонов",
    "Токтогулов",
    "Жумабаев",
    "Абдыкадыров",
    "Мамытов",
    "Сыдыков",
    "Исаков",
    "Кадыров",
    "Бекмуратов",
    "Турдубаев",
    "Эсенов",
    "Бакиров",
    "Садыков",
    "Омуралиев",
    "Калыков",
    "Нурматов",
    "Джумалиев",
    "Керимбаев",
    "Сатыбалдиев",
    "Шаршенов",
    "Маматов",
    "Токтосунов",
    "Асылбеков",
    "Орозбеков",
    "Абдраимов",
    "Кубанычбеков",
    "Усенов",
    "Дүйшөнбеков",
    "Султанов",
    "Мырзаев",
    "Алымкулов",
    "Байтиков",
    "Чоров",
    "Жээнбеков",
    "Темиров",
]
KY_MEN = [
    "Азамат",
    "Бакыт",
    "Нурлан",
    "Талант",
    "Эрлан",
    "Марат",
    "Улан",
    "Чынгыз",
    "Айбек",
    "Бекзат",
    "Данияр",
    "Канат",
    "Медер",
    "Нурбек",
    "Руслан",
    "Самат",
    "Тилек",
    "Эмил",
    "Алмаз",
    "Илим",
    "Кубат",
    "Максат",
    "Жаныбек",
    "Мирлан",
    "Замир",
    "Бекболот",
]
KY_WOMEN = [
    "Айгүл",
    "Айжан",
    "Асель",
    "Бермет",
    "Гүлнара",
    "Динара",
    "Жылдыз",
    "Элмира",
    "Назгүл",
    "Мээрим",
    "Чолпон",
    "Нургүл",
    "Айпери",
    "Айсулуу",
    "Жазгүл",
    "Бурул",
    "Канышай",
    "Салтанат",
    "Гүлзат",
    "Айнура",
    "Толгонай",
    "Нуриза",
    "Эльвира",
    "Зарина",
]
KY_BOYS = [
    "Алихан",
    "Нурислам",
    "Байэл",
    "Эмир",
    "Айдар",
    "Бекжан",
    "Арсен",
    "Тимур",
    "Адилет",
    "Максат",
    "Нурсултан",
    "Исмаил",
    "Айбар",
    "Мухаммед",
    "Актан",
    "Жолдошбек",
    "Элдияр",
]
KY_GIRLS = [
    "Айназик",
    "Айдана",
    "Амина",
    "Томирис",
    "Аруузат",
    "Сезим",
    "Малика",
    "Айсезим",
    "Нурай",
    "Каныкей",
    "Медина",
    "Адинай",
    "Асема",
    "Айару",
    "Жибек",
    "Айкөкүл",
    "Бегимай",
]
RU_FAMILIES = [
    ("Иванов", "Сергей", "Анна", ["Артём", "Кирилл"], ["Полина", "Варвара"]),
    ("Кузнецов", "Дмитрий", "Ольга", ["Михаил", "Егор"], ["Софья", "Алиса"]),
]
UZ_FAMILIES = [
    ("Юсупов", "Шерзод", "Дилноза", ["Азиз", "Жасур"], ["Мадина", "Севара"]),
    ("Каримов", "Рустам", "Гулчехра", ["Бобур", "Шохрух"], ["Нигора", "Лола"]),
]
OTHER_ELDERS = {
    "ru": ["Александр", "Виктор", "Николай", "Андрей"],
    "uz": ["Рахим", "Карим", "Анвар", "Ильхом"],
}
NATIONALITY = {"ky": "кыргыз", "ru": "орус", "uz": "өзбек"}

_LATIN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяңөү",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "yo",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "sh",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
            "ng",
            "o",
            "u",
        ],
        strict=True,
    )
)


def latin(text: str) -> str:
    return "".join(_LATIN.get(char, char) for char in text.lower())


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def feminine(surname: str) -> str:
    """Асанов → Асанова, Жумабаев → Жумабаева."""
    return surname + "а" if surname.endswith(("ов", "ев", "ёв")) else surname


def patronymic(father_name: str, sex: str, style: str) -> str:
    """Kyrgyz style "Бакыт уулу" / "Бакыт кызы", or Russian style "Бакытович" / "Бакытовна"."""
    if style == "ky":
        return f"{father_name} {'кызы' if sex == 'F' else 'уулу'}"
    return father_name + ("овна" if sex == "F" else "ович")


# -- the population -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Home:
    street: str
    house: str
    flat: str = ""
    since: dt.date = dt.date(2015, 1, 1)  # registered at this address since

    @property
    def schools(self) -> list[str]:
        return covering_schools(self.street, self.house)


@dataclass
class Family:
    tag: str
    mother: dict[str, Any] | None
    father: dict[str, Any] | None
    home: Home
    children: list[dict[str, Any]] = field(default_factory=list)

    @property
    def applicant(self) -> dict[str, Any]:
        parent = self.mother or self.father
        assert parent is not None
        return parent


AddressPredicate = Callable[[str, str], bool]


class Builder:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)  # noqa: S311 — synthetic data, not secrets
        self.sequence = 100
        self.people: list[dict[str, Any]] = []
        self.wards: list[dict[str, str]] = []
        self.families: list[Family] = []
        self.teachers: list[dict[str, str]] = []
        self.demo: list[dict[str, Any]] = []
        self.act_number = 1200
        self.foreign_families: dict[str, int] = {}

    # small pieces
    def date_between(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    def pin(self, sex: str, born: dt.date) -> str:
        # The last five digits are a sequence (TUNDUK.md); gaps make it look issued, not counted.
        self.sequence += self.rng.randint(1, 13)
        return f"{'1' if sex == 'F' else '2'}{born:%d%m%Y}{self.sequence:05d}"

    def phone(self) -> str:
        prefix = self.rng.choice(["555", "557", "700", "702", "707", "770", "772", "550", "999"])
        return f"+996{prefix}{self.rng.randint(0, 999_999):06d}"

    def pick_address(self, predicate: AddressPredicate) -> Home:
        candidates = [
            (street.code, number)
            for street in STREETS
            for number in house_numbers(street)
            if predicate(street.code, number)
        ]
        street, house = self.rng.choice(candidates)
        # One flat for the household: a family shares its registered address.
        flat = ""
        if STREET[street].flats and self.rng.random() < 0.75:
            flat = str(self.rng.randint(1, 140))
        since = self.date_between(dt.date(2008, 1, 1), dt.date(2023, 12, 31))
        return Home(street, house, flat, since)

    def address(self, home: Home, since: dt.date) -> dict[str, Any]:
        street = STREET[home.street]
        settlement = SETTLEMENT[street.settlement]
        house, flat = home.house, home.flat
        text = f"{settlement.address_prefix}, {street.name_ru}, д. {house}"
        if flat:
            text += f", кв. {flat}"
        return {
            "text": text,
            "dateCreated": since.isoformat(),
            "regionId": settlement.region,
            "districtId": settlement.district,
            "aymakId": settlement.aymak,
            "villageId": settlement.soate,
            "streetId": street.code,
            "houseId": house_code(street.code, house),
            "house": house,
            "flat": flat,
        }

    def passport(self, born: dt.date, region: str) -> dict[str, Any]:
        # ID cards since 2017; the old AN passports still valid are the last ones issued.
        adult = add_years(born, 16)
        if self.rng.random() < 0.8:
            series = "ID"
            issued = self.date_between(max(adult, dt.date(2017, 6, 1)), dt.date(2025, 10, 31))
        else:
            series = "AN"
            issued = self.date_between(max(adult, dt.date(2016, 9, 1)), dt.date(2017, 5, 31))
        office = "2110" if region == BISHKEK else "2080"
        return {
            "passportSeries": series,
            "passportNumber": f"{self.rng.randint(1_000_000, 9_999_999)}",
            "passportAuthority": f"MKK {office}{self.rng.randint(11, 45)}",
            "issuedDate": issued.isoformat(),
            "expiredDate": add_years(issued, 10).isoformat(),
            "voidStatus": False,
        }

    def person(
        self,
        *,
        sex: str,
        surname: str,
        name: str,
        patronymic: str,
        born: dt.date,
        nationality: str,
        address: dict[str, Any] | None,
    ) -> dict[str, Any]:
        person: dict[str, Any] = {
            "pin": self.pin(sex, born),
            "surname": surname,
            "name": name,
            "patronymic": patronymic,
            "gender": sex,
            "dateOfBirth": born.isoformat(),
            "deathDate": None,
            "pinBlocked": False,
            "citizenship": "KG",
            "nationality": nationality,
            "address": address,
            "passport": None,
            "contacts": None,
            "birthAct": None,
        }
        self.people.append(person)
        return person

    def adult(
        self,
        *,
        sex: str,
        surname: str,
        name: str,
        patronymic: str,
        born: dt.date,
        nationality: str,
        home: Home,
        documents: bool = True,
    ) -> dict[str, Any]:
        person = self.person(
            sex=sex,
            surname=surname,
            name=name,
            patronymic=patronymic,
            born=born,
            nationality=nationality,
            address=self.address(home, home.since),
        )
        region = SETTLEMENT[STREET[home.street].settlement].region
        if documents:
            person["passport"] = self.passport(born, region)
        email = ""
        if self.rng.random() < 0.6:
            domain = self.rng.choice(["gmail.com", "mail.ru", "inbox.kg"])
            email = f"{latin(name)}.{latin(surname)}{self.rng.randint(1, 99)}@{domain}"
        person["contacts"] = {"phone": self.phone(), "email": email}
        return person

    def child(
        self,
        *,
        sex: str,
        surname: str,
        name: str,
        patronymic: str,
        born: dt.date,
        nationality: str,
        home: Home,
        mother: str | None,
        father: str | None,
    ) -> dict[str, Any]:
        registered = born + dt.timedelta(days=self.rng.randint(3, 25))
        person = self.person(
            sex=sex,
            surname=surname,
            name=name,
            patronymic=patronymic,
            born=born,
            nationality=nationality,
            # Registered with the household: at birth, or when the household moved in.
            address=self.address(home, max(registered, home.since)),
        )
        self.act_number += self.rng.randint(1, 40)
        settlement = SETTLEMENT[STREET[home.street].settlement]
        person["birthAct"] = {
            "actNumber": str(self.act_number),
            "actDate": registered.isoformat(),
            "issuer": settlement.registry_office,
            "certificateSeries": "I-AN" if born.year >= 2017 else "II-AN",
            "certificateNumber": str(self.rng.randint(100_000, 9_999_999)),
            "motherPin": mother,
            "fatherPin": father,
        }
        return person

    # families
    def family(
        self,
        tag: str,
        *,
        births: list[dt.date],
        home: AddressPredicate,
        people: str = "ky",
        single: bool = False,
        child_home: AddressPredicate | None = None,
        father_home: AddressPredicate | None = None,
        mother_documents: bool = True,
        siblings: bool = True,
        sexes: list[str] | None = None,
    ) -> Family:
        rng = self.rng
        if people == "ky":
            style = rng.choice(["ky", "ru"])
            surname = rng.choice(KY_SURNAMES)
            father_name, mother_name = rng.choice(KY_MEN), rng.choice(KY_WOMEN)
            boys, girls, elders = KY_BOYS, KY_GIRLS, KY_MEN
            # Many Kyrgyz women keep their own surname; the children take the father's.
            mother_surname = feminine(
                surname if single or rng.random() < 0.6 else rng.choice(KY_SURNAMES)
            )
        else:
            style = "ru"
            table = RU_FAMILIES if people == "ru" else UZ_FAMILIES
            surname, father_name, mother_name, boys, girls = table[
                self.foreign_families.get(people, 0) % len(table)
            ]
            self.foreign_families[people] = self.foreign_families.get(people, 0) + 1
            elders = OTHER_ELDERS[people]
            mother_surname = feminine(surname)
        births = sorted(births)
        if siblings and rng.random() < 0.3:
            births.insert(0, self.date_between(dt.date(2012, 9, 1), dt.date(2017, 6, 30)))
        if siblings and rng.random() < 0.2:
            births.append(self.date_between(dt.date(2022, 3, 1), dt.date(2024, 10, 31)))
        mother_born = self.date_between(add_years(births[0], -37), add_years(births[0], -21))
        father_born = self.date_between(add_years(mother_born, -6), mother_born)
        nationality = NATIONALITY[people]
        address = self.pick_address(home)
        mother = self.adult(
            sex="F",
            surname=mother_surname,
            name=mother_name,
            patronymic=patronymic(rng.choice(elders), "F", style),
            born=mother_born,
            nationality=nationality,
            home=address,
            documents=mother_documents,
        )
        father = None
        if not single:
            father = self.adult(
                sex="M",
                surname=surname,
                name=father_name,
                patronymic=patronymic(rng.choice(elders), "M", style),
                born=father_born,
                nationality=nationality,
                home=self.pick_address(father_home) if father_home else address,
            )
        # A single mother still gives the child a patronymic, from a name she chooses.
        patronym_from = father_name if father is not None else rng.choice(elders)
        family = Family(tag=tag, mother=mother, father=father, home=address)
        children_home = self.pick_address(child_home) if child_home else address
        taken: list[str] = []
        for index, born in enumerate(births):
            sex = sexes[index] if sexes and index < len(sexes) else rng.choice("FM")
            pool = girls if sex == "F" else boys
            name = rng.choice([n for n in pool if n not in taken] or pool)
            taken.append(name)
            family.children.append(
                self.child(
                    sex=sex,
                    surname=feminine(surname) if sex == "F" else surname,
                    name=name,
                    patronymic=patronymic(patronym_from, sex, style),
                    born=born,
                    nationality=nationality,
                    home=children_home,
                    mother=mother["pin"],
                    father=father["pin"] if father else None,
                )
            )
        self.families.append(family)
        return family

    def note(self, person: dict[str, Any], role: str, description: str, **extra: Any) -> None:
        entry = {
            "pin": person["pin"],
            "name": f"{person['surname']} {person['name']} {person['patronymic']}".strip(),
            "role": role,
            "description": description,
        }
        entry.update(extra)
        self.demo.append(entry)


def in_window(child: dict[str, Any]) -> bool:
    born = dt.date.fromisoformat(child["dateOfBirth"])
    return WINDOW[0] <= born <= WINDOW[1]


def in_bishkek(street: str, house: str) -> bool:
    return SETTLEMENT[STREET[street].settlement].region == BISHKEK


def covered(street: str, house: str) -> bool:
    return bool(covering_schools(street, house))


def uncovered(street: str, house: str) -> bool:
    return not covering_schools(street, house)


def only(code: str) -> AddressPredicate:
    return lambda street, house: covering_schools(street, house) == [code]


def overlap(street: str, house: str) -> bool:
    return len(covering_schools(street, house)) > 1


def not_school(code: str) -> AddressPredicate:
    return lambda street, house: (
        covered(street, house) and code not in covering_schools(street, house)
    )


def build_population(b: Builder) -> None:
    def window_date() -> dt.date:
        return b.date_between(*WINDOW)

    school_codes = [s.code for s in SCHOOLS if s.code not in ("BIS-P01",)]
    # Ordinary families: one child of registration age, at home in some microdistrict.
    ordinary: list[Family] = []
    for index in range(26):
        target = school_codes[index % len(school_codes)]
        ordinary.append(
            b.family(
                "ordinary", births=[window_date()], home=only(target) if index % 5 else covered
            )
        )
    b.note(
        ordinary[0].applicant,
        "parent",
        "Child in the microdistrict of "
        + ", ".join(ordinary[0].home.schools)
        + ": may register there from stage 1 (§27).",
        children=[c["pin"] for c in ordinary[0].children if in_window(c)],
    )
    overlap_family = b.family("overlap", births=[window_date()], home=overlap, siblings=False)
    b.note(
        overlap_family.applicant,
        "parent",
        "Home address in two overlapping microdistricts ("
        + ", ".join(overlap_family.home.schools)
        + "): both schools open in stage 1.",
        children=[c["pin"] for c in overlap_family.children],
    )

    # §25: co-twins and co-triplets are admitted above quota.
    twins: list[Family] = []
    for _ in range(2):
        born = window_date()
        twins.append(b.family("twins", births=[born, born], home=covered, sexes=["F", "M"]))
    b.note(
        twins[0].applicant,
        "parent",
        "Parent of twins: the co-twin is admitted above quota (§25).",
        children=[c["pin"] for c in twins[0].children if in_window(c)],
    )
    triplet_birth = b.date_between(dt.date(2019, 1, 1), dt.date(2019, 12, 31))
    triplets = b.family(
        "triplets",
        births=[triplet_birth] * 3,
        home=only("BIS-028"),
        siblings=False,
        sexes=["M", "M", "F"],
    )
    b.note(
        triplets.applicant,
        "parent",
        "Mother of triplets born the same day (§25).",
        children=[c["pin"] for c in triplets.children],
    )

    # §9: over 8 years old, or too young for this campaign.
    overage = [
        b.family(
            "overage",
            births=[b.date_between(dt.date(2018, 1, 1), dt.date(2018, 12, 31))],
            home=covered,
            siblings=False,
        )
        for _ in range(3)
    ]
    overage.append(
        b.family(
            "overage", births=[dt.date(2018, 3, 14), window_date()], home=covered, siblings=False
        )
    )
    b.note(
        overage[0].applicant,
        "parent",
        "Child born in 2018, outside the birth window: only a decision of the Commission on "
        "Children's Affairs places the child (§9).",
        children=[c["pin"] for c in overage[0].children],
    )
    young = [
        b.family(
            "young",
            births=[b.date_between(dt.date(2021, 1, 1), dt.date(2021, 12, 31))],
            home=covered,
            siblings=False,
        )
        for _ in range(3)
    ]
    young.append(
        b.family("young", births=[window_date(), dt.date(2021, 2, 9)], home=covered, siblings=False)
    )
    b.note(
        young[0].applicant,
        "parent",
        "Child born in 2021: too young for the 2026 campaign (§8).",
        children=[c["pin"] for c in young[0].children],
    )

    # §24: a teacher's own child is admitted at the teacher's school above quota, wherever
    # the family lives.
    teacher_plan = [
        ("BIS-061", lambda s, h: in_bishkek(s, h) and not_school("BIS-061")(s, h)),
        ("BIS-028", lambda s, h: in_bishkek(s, h) and uncovered(s, h)),
        ("ALA-011", only("ALA-011")),
    ]
    for index, (school, where) in enumerate(teacher_plan):
        family = b.family("teacher", births=[window_date()], home=where, siblings=False)
        teacher = family.mother if index != 1 or family.father is None else family.father
        assert teacher is not None
        b.teachers.append(
            {
                "school": school,
                "pin": teacher["pin"],
                "full_name": f"{teacher['surname']} {teacher['name']} {teacher['patronymic']}",
            }
        )
        if index == 0:
            b.note(
                teacher,
                "teacher",
                f"Teacher at {school}, living in the microdistrict of "
                + ", ".join(family.home.schools)
                + f": the child is admitted at {school} above quota (§24).",
                children=[c["pin"] for c in family.children],
            )

    # §27: no microdistrict holds these addresses: stage 2 only.
    outside = [
        b.family("outside", births=[window_date()], home=uncovered, siblings=index == 0)
        for index in range(4)
    ]
    b.note(
        outside[0].applicant,
        "parent",
        "Home address in no school's microdistrict: no school in stage 1, any school with "
        "free seats in stage 2 (§27).",
        children=[c["pin"] for c in outside[0].children if in_window(c)],
    )
    # The child is registered at the grandparents' address, the parents elsewhere: the child's
    # own address opens a school in stage 1 (§10, Kyrgyz text).
    differs = [
        b.family(
            "child-elsewhere",
            births=[window_date()],
            home=uncovered,
            child_home=covered,
            siblings=False,
        )
        for _ in range(2)
    ]
    differs.append(
        b.family(
            "father-elsewhere",
            births=[window_date()],
            home=covered,
            father_home=lambda s, h: s.startswith("15") and covered(s, h),
            siblings=False,
        )
    )
    child = differs[0].children[0]
    b.note(
        differs[0].applicant,
        "parent",
        "Parents live outside every microdistrict, but the child is registered at another "
        "address, in the microdistrict of "
        + ", ".join(covering_schools(child["address"]["streetId"], child["address"]["house"]))
        + " (§10).",
        children=[child["pin"]],
    )

    for _ in range(5):
        b.family("single", births=[window_date()], home=covered, single=True)
    # §9: an applicant without an identity document goes through the commission.
    undocumented = b.family(
        "no-passport",
        births=[window_date()],
        home=covered,
        single=True,
        mother_documents=False,
        siblings=False,
    )
    b.note(
        undocumented.applicant,
        "parent",
        "Single mother without a passport in the registry: admission through the commission (§9).",
        children=[c["pin"] for c in undocumented.children],
    )
    widow = b.family("widow", births=[window_date()], home=covered, siblings=False)
    assert widow.father is not None
    widow.father["deathDate"] = b.date_between(
        dt.date(2022, 1, 1), dt.date(2025, 6, 30)
    ).isoformat()
    widow.father["passport"]["voidStatus"] = True

    for _ in range(2):
        b.family(
            "ru",
            births=[window_date()],
            home=lambda s, h: s.startswith("110") and covered(s, h),
            people="ru",
        )
    for _ in range(2):
        b.family("uz", births=[window_date()], home=only("BIS-070"), people="uz", siblings=False)
    uz = next(f for f in b.families if f.tag == "uz")
    b.note(
        uz.applicant,
        "parent",
        "Uzbek-speaking family in the microdistrict of BIS-070, the school with an Uzbek class.",
        children=[c["pin"] for c in uz.children],
    )

    build_representatives(b, window_date)


def build_representatives(b: Builder, window_date: Callable[[], dt.date]) -> None:
    """§20: guardians, trustees and child-protection officers act for wards and may register
    at most two of them; their status needs an act the school checks (§18)."""
    rng = b.rng

    # A grandmother is the guardian of her late daughter's son.
    home = b.pick_address(only("BIS-005"))
    grandmother = b.adult(
        sex="F",
        surname="Жумабаева",
        name="Бурулкан",
        patronymic="Токтосун кызы",
        born=dt.date(1961, 5, 17),
        nationality="кыргыз",
        home=home,
    )
    mother = b.person(
        sex="F",
        surname="Жумабаева",
        name="Айзада",
        patronymic="Мамыт кызы",
        born=dt.date(1992, 8, 2),
        nationality="кыргыз",
        address=None,
    )
    mother["deathDate"] = "2023-01-19"
    orphan = b.child(
        sex="M",
        surname="Жумабаев",
        name="Эрмек",
        patronymic="Нурлан уулу",
        born=dt.date(2019, 10, 6),
        nationality="кыргыз",
        home=home,
        mother=mother["pin"],
        father=None,
    )
    b.wards.append({"representativePin": grandmother["pin"], "childPin": orphan["pin"]})
    b.note(
        grandmother,
        "representative",
        "Grandmother and guardian of one child (mother deceased, no father on the birth act): "
        "must upload the guardianship act before registering (§20).",
        children=[orphan["pin"]],
    )

    # A child-protection officer represents three children: the third registration is refused.
    officer = b.adult(
        sex="F",
        surname="Осмонова",
        name="Гүлзат",
        patronymic="Бакытовна",
        born=dt.date(1984, 11, 23),
        nationality="кыргыз",
        home=b.pick_address(only("BIS-028")),
    )
    wards = []
    for sex, name, surname in (
        ("F", "Айдай", "Мамытова"),
        ("M", "Нурэл", "Сыдыков"),
        ("F", "Жаннат", "Усенова"),
    ):
        lone_mother = b.person(
            sex="F",
            surname=feminine(surname.removesuffix("а")),
            name=rng.choice(KY_WOMEN),
            patronymic=patronymic(rng.choice(KY_MEN), "F", "ky"),
            born=b.date_between(dt.date(1988, 1, 1), dt.date(1999, 12, 31)),
            nationality="кыргыз",
            address=None,
        )
        lone_mother["deathDate"] = b.date_between(
            dt.date(2021, 1, 1), dt.date(2025, 3, 1)
        ).isoformat()
        ward = b.child(
            sex=sex,
            surname=surname,
            name=name,
            patronymic=patronymic(rng.choice(KY_MEN), sex, "ky"),
            born=window_date(),
            nationality="кыргыз",
            home=b.pick_address(only("BIS-028")),
            mother=lone_mother["pin"],
            father=None,
        )
        wards.append(ward)
        b.wards.append({"representativePin": officer["pin"], "childPin": ward["pin"]})
    b.note(
        officer,
        "representative",
        "Child-protection officer representing three children of registration age: may "
        "register at most two of them (§20).",
        children=[w["pin"] for w in wards],
    )

    # An aunt is the trustee of her nephew while his mother works abroad; the mother stays in
    # the registry and may act too.
    family = b.family(
        "migrant", births=[window_date()], home=only("ALA-NEW"), single=True, siblings=False
    )
    aunt = b.adult(
        sex="F",
        surname=family.applicant["surname"],
        name="Назира",
        patronymic=family.applicant["patronymic"],
        born=dt.date(1987, 4, 30),
        nationality="кыргыз",
        home=b.pick_address(only("ALA-011")),
    )
    nephew = family.children[0]
    b.wards.append({"representativePin": aunt["pin"], "childPin": nephew["pin"]})
    b.note(
        aunt,
        "representative",
        "Aunt and trustee of a nephew whose mother works abroad; the aunt lives in the "
        "microdistrict of ALA-011, the child in that of ALA-NEW (§10: a representative's "
        "address counts too).",
        children=[nephew["pin"]],
    )


# -- output -------------------------------------------------------------------------------------
def build() -> tuple[dict[str, Any], dict[str, Any]]:
    b = Builder()
    build_population(b)
    demo = {
        "academic_year": ACADEMIC_YEAR,
        "note": "Synthetic people and codes for demonstrations and tests; not real data.",
        "people": b.demo,
    }
    catalog: dict[str, Any] = {
        "format": "kattoo-catalog/1",
        "academic_year": ACADEMIC_YEAR,
        "regions": [
            {"soate": s, "name_ky": ky, "name_ru": ru, "name_en": en} for s, ky, ru, en in REGIONS
        ],
        "districts": [
            {"soate": s, "region": r, "name_ky": ky, "name_ru": ru, "name_en": en}
            for s, r, ky, ru, en in DISTRICTS
        ],
        "settlements": [
            {"soate": s.soate, "district": s.district, "name_ky": s.name_ky, "name_ru": s.name_ru}
            for s in SETTLEMENTS
        ],
        "streets": [
            {"code": s.code, "settlement": s.settlement, "name_ky": s.name_ky, "name_ru": s.name_ru}
            for s in STREETS
        ],
        "houses": [
            {"street": s.code, "number": n, "code": house_code(s.code, n)}
            for s in STREETS
            for n in house_numbers(s)
        ],
        "schools": [
            {
                "code": s.code,
                "name_ky": s.name_ky,
                "name_ru": s.name_ru,
                "name_en": s.name_en,
                "district": SETTLEMENT[s.settlement].district,
                "settlement": s.settlement,
                "address_ky": s.address_ky,
                "address_ru": s.address_ru,
                "ownership": s.ownership,
                "opted_in": s.opted_in,
            }
            for s in SCHOOLS
        ],
        "microdistricts": [
            {
                key: value
                for key, value in (
                    ("school", m.school),
                    ("street", m.street),
                    ("house_from", m.house_from),
                    ("house_to", m.house_to),
                    ("parity", m.parity),
                    ("note", m.note),
                )
                if value not in (None, "")
            }
            for m in MICRODISTRICTS
        ],
        "class_sets": [
            {"school": s.code, "grade": grade, "letter": letter, "language": lang, "size": size}
            for s in SCHOOLS
            for grade, sets in (("fourth", s.fourth), ("first", s.first))
            for letter, lang, size in sets
        ],
        "teachers": b.teachers,
        "demo": {
            **demo,
            "schools": [
                {
                    "code": "BIS-P01",
                    "description": "Private school that has not opted in: "
                    "takes no part in registration (§31).",
                },
                {"code": "BIS-P02", "description": "Private school that opted in (§31)."},
                {
                    "code": "ALA-NEW",
                    "description": "New school without a 4th grade: the quota "
                    "comes from this year's first grades (§11).",
                },
                {"code": "BIS-070", "description": "Has an Uzbek-language class-set."},
                {
                    "code": "BIS-028",
                    "description": "4th grades of 45 and 19 children: seats "
                    "clamp to 42 and 25 (§11).",
                },
            ],
        },
    }
    population = {
        "format": "kattoo-population/1",
        "people": b.people,
        "wards": b.wards,
        "demo": demo,
    }
    return catalog, population


def dumps(document: dict[str, Any]) -> str:
    """JSON with one row per line: readable, and a change shows as a one-line diff."""
    parts = []
    for key, value in document.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            rows = ",\n".join("    " + json.dumps(v, ensure_ascii=False) for v in value)
            parts.append(f"  {json.dumps(key)}: [\n{rows}\n  ]")
        else:
            parts.append(
                f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False, indent=2)}".replace(
                    "\n", "\n  "
                )
            )
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    catalog, population = build()
    outputs = {CATALOG_FILE: dumps(catalog), POPULATION_FILE: dumps(population)}
    if args.check:
        stale = [p for p, text in outputs.items() if not p.exists() or p.read_text("utf-8") != text]
        for path in stale:
            print(f"{path} is not what build_data makes; run python -m kattoo.demo.build_data")
        return 1 if stale else 0
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    print(
        f"{len(population['people'])} people, {len(population['wards'])} wards, "
        f"{len(catalog['schools'])} schools, {len(catalog['houses'])} houses"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
