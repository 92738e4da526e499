"""The real administrative map the synthetic country is drawn on: 7 oblasts and the cities of
Bishkek and Osh, their 40 raions and Bishkek's 4 city districts, with names in Kyrgyz, Russian
and English, their centres, rough populations and who lives there.

Region codes are the SOATE codes TUNDUK.md gives (417 + oblast). District and settlement codes
are shaped like SOATE codes but are not the official ones. Populations are rounded (thousands)
and only weigh how children and schools spread; the mix of peoples and of class-set languages
follows the country: Russian strong in Bishkek and Chui, Uzbek in the south (Osh, Jalal-Abad,
Batken), some Tajik in Batken, English in a few Bishkek schools.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Peoples (the names a family has) and languages of instruction (catalog Language values).
Weights = dict[str, float]


@dataclass(frozen=True, slots=True)
class RegionData:
    code: str  # the two oblast digits of the SOATE code
    name_ky: str
    name_ru: str
    name_en: str
    address: str  # how an address in the region starts ("Чуйская обл.")
    peoples: Weights
    languages: Weights
    fertility: float  # children per person, relative to the country


@dataclass(frozen=True, slots=True)
class TownData:
    name_ky: str
    name_ru: str
    population: int  # thousands
    city: bool = True  # a city ("г.") or an urban-type settlement


@dataclass(frozen=True, slots=True)
class DistrictData:
    key: str  # 3 letters: the prefix of its school codes
    region: str
    code: str  # 3 digits after the region in the SOATE code
    name_ky: str
    name_ru: str
    name_en: str
    population: int  # thousands, towns included
    # The district centre when it is a village (aiyl); towns and cities of the district follow.
    centre: tuple[str, str] | None = None
    towns: tuple[TownData, ...] = ()
    # Bishkek and Osh: the whole district is the city.
    city: str = ""
    peoples: Weights = field(default_factory=dict)  # overrides the region's
    languages: Weights = field(default_factory=dict)
    south: bool = False  # village names of the Fergana valley


_NORTH_KY = {"ky": 0.93, "ru": 0.05, "uz": 0.02}

REGIONS: tuple[RegionData, ...] = (
    RegionData(
        "11",
        "Бишкек шаары",
        "город Бишкек",
        "Bishkek city",
        "г. Бишкек",
        {"ky": 0.7, "ru": 0.26, "uz": 0.04},
        {"ky": 0.5, "ru": 0.48, "en": 0.02},
        0.85,
    ),
    RegionData(
        "21",
        "Ош шаары",
        "город Ош",
        "Osh city",
        "г. Ош",
        {"ky": 0.52, "uz": 0.43, "ru": 0.05},
        {"ky": 0.5, "uz": 0.32, "ru": 0.18},
        1.0,
    ),
    RegionData(
        "08",
        "Чүй облусу",
        "Чуйская область",
        "Chui Region",
        "Чуйская обл.",
        {"ky": 0.64, "ru": 0.33, "uz": 0.03},
        {"ky": 0.56, "ru": 0.44},
        0.9,
    ),
    RegionData(
        "02",
        "Ысык-Көл облусу",
        "Иссык-Кульская область",
        "Issyk-Kul Region",
        "Иссык-Кульская обл.",
        {"ky": 0.88, "ru": 0.12},
        {"ky": 0.82, "ru": 0.18},
        1.0,
    ),
    RegionData(
        "04",
        "Нарын облусу",
        "Нарынская область",
        "Naryn Region",
        "Нарынская обл.",
        {"ky": 0.99, "ru": 0.01},
        {"ky": 0.96, "ru": 0.04},
        1.05,
    ),
    RegionData(
        "07",
        "Талас облусу",
        "Таласская область",
        "Talas Region",
        "Таласская обл.",
        {"ky": 0.96, "ru": 0.04},
        {"ky": 0.95, "ru": 0.05},
        1.05,
    ),
    RegionData(
        "03",
        "Жалал-Абад облусу",
        "Джалал-Абадская область",
        "Jalal-Abad Region",
        "Джалал-Абадская обл.",
        {"ky": 0.74, "uz": 0.24, "ru": 0.02},
        {"ky": 0.73, "uz": 0.22, "ru": 0.05},
        1.1,
    ),
    RegionData(
        "06",
        "Ош облусу",
        "Ошская область",
        "Osh Region",
        "Ошская обл.",
        {"ky": 0.69, "uz": 0.31},
        {"ky": 0.7, "uz": 0.28, "ru": 0.02},
        1.15,
    ),
    RegionData(
        "05",
        "Баткен облусу",
        "Баткенская область",
        "Batken Region",
        "Баткенская обл.",
        {"ky": 0.8, "uz": 0.13, "tg": 0.07},
        {"ky": 0.8, "uz": 0.1, "tg": 0.08, "ru": 0.02},
        1.15,
    ),
)

_UZ_HEAVY = {"ky": 0.5, "uz": 0.5}
_UZ_HEAVY_LANG = {"ky": 0.52, "uz": 0.45, "ru": 0.03}

DISTRICTS: tuple[DistrictData, ...] = (
    # Bishkek: four city districts.
    DistrictData(
        "LEN", "11", "211", "Ленин району", "Ленинский район", "Lenin District", 330, city="Бишкек"
    ),
    DistrictData(
        "OKT",
        "11",
        "213",
        "Октябрь району",
        "Октябрьский район",
        "Oktyabr District",
        300,
        city="Бишкек",
    ),
    DistrictData(
        "SVE",
        "11",
        "215",
        "Свердлов району",
        "Свердловский район",
        "Sverdlov District",
        300,
        city="Бишкек",
    ),
    DistrictData(
        "PER",
        "11",
        "217",
        "Биринчи Май району",
        "Первомайский район",
        "Pervomay District",
        240,
        city="Бишкек",
    ),
    # Osh city answers to one city education department.
    DistrictData("OSH", "21", "201", "Ош шаары", "город Ош", "Osh city", 330, city="Ош"),
    # Chui.
    DistrictData(
        "ALM",
        "08",
        "203",
        "Аламүдүн району",
        "Аламудунский район",
        "Alamudun District",
        180,
        centre=("Лебединовка", "Лебединовка"),
    ),
    DistrictData(
        "JAY",
        "08",
        "206",
        "Жайыл району",
        "Жайыльский район",
        "Jayil District",
        140,
        towns=(TownData("Кара-Балта", "Кара-Балта", 45),),
    ),
    DistrictData(
        "KEM",
        "08",
        "209",
        "Кемин району",
        "Кеминский район",
        "Kemin District",
        45,
        towns=(TownData("Кемин", "Кемин", 10, city=False),),
    ),
    DistrictData(
        "MOS",
        "08",
        "212",
        "Москва району",
        "Московский район",
        "Moskva District",
        90,
        centre=("Беловодское", "Беловодское"),
    ),
    DistrictData(
        "PAN",
        "08",
        "215",
        "Панфилов району",
        "Панфиловский район",
        "Panfilov District",
        45,
        towns=(TownData("Кайыңды", "Каинды", 10, city=False),),
    ),
    DistrictData(
        "SOK",
        "08",
        "218",
        "Сокулук району",
        "Сокулукский район",
        "Sokuluk District",
        180,
        centre=("Сокулук", "Сокулук"),
    ),
    DistrictData(
        "CHU",
        "08",
        "221",
        "Чүй району",
        "Чуйский район",
        "Chui District",
        120,
        towns=(TownData("Токмок", "Токмок", 70),),
    ),
    DistrictData(
        "YSY",
        "08",
        "224",
        "Ысык-Ата району",
        "Ысык-Атинский район",
        "Ysyk-Ata District",
        140,
        towns=(TownData("Кант", "Кант", 25),),
    ),
    # Issyk-Kul.
    DistrictData(
        "AKS",
        "02",
        "203",
        "Ак-Суу району",
        "Ак-Суйский район",
        "Ak-Suu District",
        150,
        centre=("Теплоключенка", "Теплоключенка"),
        towns=(TownData("Каракол", "Каракол", 85),),
    ),
    DistrictData(
        "JET",
        "02",
        "206",
        "Жети-Өгүз району",
        "Джети-Огузский район",
        "Jeti-Oguz District",
        90,
        centre=("Кызыл-Суу", "Кызыл-Суу"),
    ),
    DistrictData(
        "ISK",
        "02",
        "209",
        "Ысык-Көл району",
        "Иссык-Кульский район",
        "Issyk-Kul District",
        145,
        towns=(TownData("Чолпон-Ата", "Чолпон-Ата", 15), TownData("Балыкчы", "Балыкчы", 50)),
    ),
    DistrictData(
        "TON",
        "02",
        "212",
        "Тоң району",
        "Тонский район",
        "Ton District",
        55,
        centre=("Бөкөнбаев", "Боконбаево"),
    ),
    DistrictData(
        "TUP", "02", "215", "Түп району", "Тюпский район", "Tup District", 65, centre=("Түп", "Тюп")
    ),
    # Naryn.
    DistrictData(
        "AKT",
        "04",
        "203",
        "Ак-Талаа району",
        "Ак-Талинский район",
        "Ak-Talaa District",
        35,
        centre=("Баетов", "Баетов"),
    ),
    DistrictData(
        "ATB",
        "04",
        "206",
        "Ат-Башы району",
        "Ат-Башинский район",
        "At-Bashy District",
        60,
        centre=("Ат-Башы", "Ат-Баши"),
    ),
    DistrictData(
        "JUM",
        "04",
        "209",
        "Жумгал району",
        "Джумгальский район",
        "Jumgal District",
        45,
        centre=("Чаек", "Чаек"),
    ),
    DistrictData(
        "KOC",
        "04",
        "212",
        "Кочкор району",
        "Кочкорский район",
        "Kochkor District",
        65,
        centre=("Кочкор", "Кочкорка"),
    ),
    DistrictData(
        "NAR",
        "04",
        "215",
        "Нарын району",
        "Нарынский район",
        "Naryn District",
        90,
        towns=(TownData("Нарын", "Нарын", 40),),
    ),
    # Talas.
    DistrictData(
        "BAK",
        "07",
        "203",
        "Бакай-Ата району",
        "Бакай-Атинский район",
        "Bakai-Ata District",
        50,
        centre=("Бакай-Ата", "Бакай-Ата"),
    ),
    DistrictData(
        "KBU",
        "07",
        "206",
        "Кара-Буура району",
        "Кара-Бууринский район",
        "Kara-Buura District",
        65,
        centre=("Кызыл-Адыр", "Кызыл-Адыр"),
    ),
    DistrictData(
        "MAN",
        "07",
        "209",
        "Манас району",
        "Манасский район",
        "Manas District",
        35,
        centre=("Покровка", "Покровка"),
    ),
    DistrictData(
        "TAL",
        "07",
        "212",
        "Талас району",
        "Таласский район",
        "Talas District",
        140,
        towns=(TownData("Талас", "Талас", 40),),
    ),
    # Jalal-Abad.
    DistrictData(
        "AKY",
        "03",
        "203",
        "Аксы району",
        "Аксыйский район",
        "Aksy District",
        175,
        towns=(
            TownData("Кербен", "Кербен", 15, city=False),
            TownData("Таш-Көмүр", "Таш-Кумыр", 40),
        ),
    ),
    DistrictData(
        "ALB",
        "03",
        "206",
        "Ала-Бука району",
        "Ала-Букинский район",
        "Ala-Buka District",
        100,
        centre=("Ала-Бука", "Ала-Бука"),
        south=True,
    ),
    DistrictData(
        "BAZ",
        "03",
        "209",
        "Базар-Коргон району",
        "Базар-Коргонский район",
        "Bazar-Korgon District",
        170,
        centre=("Базар-Коргон", "Базар-Коргон"),
        peoples=_UZ_HEAVY,
        languages=_UZ_HEAVY_LANG,
        south=True,
    ),
    DistrictData(
        "NOO",
        "03",
        "212",
        "Ноокен району",
        "Ноокенский район",
        "Nooken District",
        180,
        centre=("Масы", "Массы"),
        towns=(
            TownData("Кочкор-Ата", "Кочкор-Ата", 15, city=False),
            TownData("Майлуу-Суу", "Майлуу-Суу", 25),
        ),
        peoples={"ky": 0.6, "uz": 0.38, "ru": 0.02},
        languages={"ky": 0.62, "uz": 0.33, "ru": 0.05},
        south=True,
    ),
    DistrictData(
        "SUZ",
        "03",
        "215",
        "Сузак району",
        "Сузакский район",
        "Suzak District",
        415,
        centre=("Сузак", "Сузак"),
        towns=(TownData("Жалал-Абад", "Джалал-Абад", 125),),
        peoples={"ky": 0.62, "uz": 0.35, "ru": 0.03},
        languages={"ky": 0.6, "uz": 0.3, "ru": 0.1},
        south=True,
    ),
    DistrictData(
        "TOG",
        "03",
        "218",
        "Тогуз-Торо району",
        "Тогуз-Тороуский район",
        "Toguz-Toro District",
        25,
        centre=("Казарман", "Казарман"),
        peoples={"ky": 1.0},
        languages={"ky": 1.0},
    ),
    DistrictData(
        "TOK",
        "03",
        "221",
        "Токтогул району",
        "Токтогульский район",
        "Toktogul District",
        115,
        towns=(
            TownData("Токтогул", "Токтогул", 20, city=False),
            TownData("Кара-Көл", "Кара-Куль", 25),
        ),
        peoples=_NORTH_KY,
        languages={"ky": 0.94, "ru": 0.06},
    ),
    DistrictData(
        "CHA",
        "03",
        "224",
        "Чаткал району",
        "Чаткальский район",
        "Chatkal District",
        25,
        centre=("Каныш-Кыя", "Каныш-Кия"),
        peoples={"ky": 1.0},
        languages={"ky": 1.0},
    ),
    # Osh oblast.
    DistrictData(
        "ALY",
        "06",
        "203",
        "Алай району",
        "Алайский район",
        "Alay District",
        80,
        centre=("Гүлчө", "Гульча"),
        peoples={"ky": 1.0},
        languages={"ky": 0.98, "ru": 0.02},
    ),
    DistrictData(
        "ARA",
        "06",
        "206",
        "Араван району",
        "Араванский район",
        "Aravan District",
        130,
        centre=("Араван", "Араван"),
        peoples={"ky": 0.4, "uz": 0.6},
        languages={"ky": 0.45, "uz": 0.53, "ru": 0.02},
        south=True,
    ),
    DistrictData(
        "KKU",
        "06",
        "209",
        "Кара-Кулжа району",
        "Кара-Кульджинский район",
        "Kara-Kulja District",
        95,
        centre=("Кара-Кулжа", "Кара-Кульджа"),
        peoples={"ky": 1.0},
        languages={"ky": 1.0},
    ),
    DistrictData(
        "KSU",
        "06",
        "212",
        "Кара-Суу району",
        "Кара-Суйский район",
        "Kara-Suu District",
        400,
        towns=(TownData("Кара-Суу", "Кара-Суу", 25),),
        peoples=_UZ_HEAVY,
        languages=_UZ_HEAVY_LANG,
        south=True,
    ),
    DistrictData(
        "NKT",
        "06",
        "215",
        "Ноокат району",
        "Ноокатский район",
        "Nookat District",
        270,
        towns=(TownData("Ноокат", "Ноокат", 20, city=False),),
        peoples={"ky": 0.6, "uz": 0.4},
        languages={"ky": 0.64, "uz": 0.36},
        south=True,
    ),
    DistrictData(
        "UZG",
        "06",
        "218",
        "Өзгөн району",
        "Узгенский район",
        "Uzgen District",
        260,
        towns=(TownData("Өзгөн", "Узген", 55),),
        peoples={"ky": 0.55, "uz": 0.45},
        languages={"ky": 0.58, "uz": 0.4, "ru": 0.02},
        south=True,
    ),
    DistrictData(
        "CAL",
        "06",
        "221",
        "Чоң-Алай району",
        "Чон-Алайский район",
        "Chon-Alay District",
        30,
        centre=("Дароот-Коргон", "Дароот-Коргон"),
        peoples={"ky": 1.0},
        languages={"ky": 1.0},
    ),
    # Batken.
    DistrictData(
        "BAT",
        "05",
        "203",
        "Баткен району",
        "Баткенский район",
        "Batken District",
        110,
        towns=(TownData("Баткен", "Баткен", 30),),
        peoples={"ky": 0.76, "uz": 0.1, "tg": 0.14},
        languages={"ky": 0.76, "uz": 0.08, "tg": 0.14, "ru": 0.02},
        south=True,
    ),
    DistrictData(
        "KAD",
        "05",
        "206",
        "Кадамжай району",
        "Кадамжайский район",
        "Kadamjay District",
        250,
        centre=("Пулгон", "Пульгон"),
        towns=(TownData("Кызыл-Кыя", "Кызыл-Кия", 50),),
        peoples={"ky": 0.78, "uz": 0.2, "tg": 0.02},
        languages={"ky": 0.78, "uz": 0.18, "ru": 0.04},
        south=True,
    ),
    DistrictData(
        "LEI",
        "05",
        "209",
        "Лейлек району",
        "Лейлекский район",
        "Leilek District",
        175,
        towns=(TownData("Исфана", "Исфана", 20, city=False), TownData("Сүлүктү", "Сулюкта", 25)),
        peoples={"ky": 0.84, "tg": 0.12, "uz": 0.04},
        languages={"ky": 0.84, "tg": 0.12, "uz": 0.02, "ru": 0.02},
        south=True,
    ),
)

REGION_BY_CODE = {r.code: r for r in REGIONS}
DISTRICT_BY_KEY = {d.key: d for d in DISTRICTS}
