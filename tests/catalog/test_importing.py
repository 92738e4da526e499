"""The catalog import (kattoo.catalog.importing), its command, and the demo data files."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from kattoo.audit.models import AuditEvent
from kattoo.campaigns.models import Campaign
from kattoo.catalog.importing import (
    CSV_KINDS,
    CatalogImportError,
    ImportReport,
    catalog_import,
    catalog_parse_csv,
)
from kattoo.catalog.models import (
    District,
    ExistingClassSet,
    House,
    MicrodistrictAddress,
    Region,
    School,
    Settlement,
    Street,
    Teacher,
)
from kattoo.catalog.selectors import AddressKey, microdistrict_school_ids
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError
from kattoo.demo import build_data
from kattoo.integrations.registry.client import registry_override
from kattoo.integrations.registry.fake import FakeRegistry
from kattoo.integrations.registry.pin import pin_parse

from ..conftest import BEFORE
from ..factories import registry_adult

CLI = Actor(user=None, channel="cli")
DEMO = Path(build_data.__file__).resolve().parent / "data"
CATALOG_MODELS = (
    Region,
    District,
    Settlement,
    Street,
    House,
    School,
    MicrodistrictAddress,
    ExistingClassSet,
    Teacher,
)


@pytest.fixture(autouse=True)
def registry() -> Iterator[FakeRegistry]:
    """§24: the registry every teacher row is checked with knows the teachers of these files
    (the small catalog's and the demo's)."""
    fake = FakeRegistry(load("population.json"))
    fake.add_person(registry_adult("10302199000123"))
    with registry_override(fake):
        yield fake


@pytest.fixture
def before_the_lock() -> Iterator[None]:
    """Before the 2026 quota lock: the teacher roster is not frozen yet (§24)."""
    with clock.frozen(BEFORE):
        yield


def small_catalog() -> dict[str, Any]:
    return {
        "format": "kattoo-catalog/1",
        "academic_year": "2026-2027",
        "regions": [
            {"soate": "41711000000000", "name_ky": "Бишкек шаары", "name_ru": "город Бишкек"},
        ],
        "districts": [
            {
                "soate": "41711211000000",
                "region": "41711000000000",
                "name_ky": "Ленин району",
                "name_ru": "Ленинский район",
                "name_en": "Lenin District",
            },
        ],
        "settlements": [
            {
                "soate": "41711211000010",
                "district": "41711211000000",
                "name_ky": "Бишкек",
                "name_ru": "Бишкек",
            },
        ],
        "streets": [
            {
                "code": "1100101",
                "settlement": "41711211000010",
                "name_ky": "Чүй проспектиси",
                "name_ru": "просп. Чуй",
            },
            {
                "code": "1100102",
                "settlement": "41711211000010",
                "name_ky": "Ахунбаев көчөсү",
                "name_ru": "ул. Ахунбаева",
            },
        ],
        "houses": [
            {"street": "1100101", "number": "1", "code": "H1"},
            {"street": "1100101", "number": "12А"},
        ],
        "schools": [
            {
                "code": "S-1",
                "name_ky": "№ 1 мектеп",
                "name_ru": "Школа № 1",
                "name_en": "School 1",
                "district": "41711211000000",
                "settlement": "41711211000010",
                "address": "ул. Ахунбаева, 1",
                "ownership": "municipal",
            },
            {
                "code": "S-2",
                "name_ky": "«Акыл»",
                "name_ru": "«Акыл»",
                "district": "41711211000000",
                "address": "просп. Чуй, 5",
                "ownership": "private",
                "opted_in": True,
            },
        ],
        "microdistricts": [
            {"school": "S-1", "street": "1100101", "house_from": 1, "house_to": 40},
            {"school": "S-1", "street": "1100102"},
            {
                "school": "S-2",
                "street": "1100101",
                "house_from": 2,
                "house_to": 20,
                "parity": "even",
                "note": "added on request",
            },
        ],
        "class_sets": [
            {"school": "S-1", "grade": "fourth", "letter": "А", "language": "ky", "size": 44},
            {"school": "S-1", "grade": "fourth", "letter": "Б", "language": "ru", "size": 20},
            {"school": "S-1", "grade": "first", "letter": "А", "language": "ky", "size": 30},
            {"school": "S-2", "grade": "first", "letter": "А", "language": "en", "size": 15},
        ],
        "teachers": [
            {"school": "S-1", "pin": "10302199000123", "full_name": "Асанова Айгүл Бакыт кызы"},
        ],
    }


def catalog_rows() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in CATALOG_MODELS}


def counts(report: ImportReport, kind: str) -> tuple[int, int, int, int]:
    c = report.counts[kind]
    return (c.created, c.updated, c.unchanged, c.deleted)


# -- JSON -----------------------------------------------------------------------------------------
def test_import_creates_the_catalog_and_one_audit_record(campaign: Campaign) -> None:
    at = clock.bishkek(2026, 2, 10, 9, 0)
    with clock.frozen(at):
        report = catalog_import(data=small_catalog(), actor=CLI)

    assert counts(report, "regions") == (1, 0, 0, 0)
    assert counts(report, "houses") == (2, 0, 0, 0)
    assert counts(report, "microdistricts") == (3, 0, 0, 0)
    assert counts(report, "class_sets") == (4, 0, 0, 0)
    assert report.campaign == campaign.code
    school = School.objects.get(code="S-1")
    assert school.district.soate == "41711211000000"
    assert school.settlement is not None and school.settlement.soate == "41711211000010"
    assert school.participates
    private = School.objects.get(code="S-2")
    assert private.settlement is None and private.opted_in and private.ownership == "private"
    line = MicrodistrictAddress.objects.get(school=private)
    assert (line.house_from, line.house_to, line.parity, line.note) == (
        2,
        20,
        "even",
        "added on request",
    )
    assert (
        MicrodistrictAddress.objects.get(school=school, street__code="1100102").house_from is None
    )
    assert sorted(
        ExistingClassSet.objects.filter(school=school, campaign=campaign).values_list(
            "grade", "letter", "language", "size"
        )
    ) == [("first", "А", "ky", 30), ("fourth", "А", "ky", 44), ("fourth", "Б", "ru", 20)]
    teacher = Teacher.objects.get()
    assert (teacher.school, teacher.pin, teacher.added_at) == (school, "10302199000123", at)
    assert House.objects.get(number="1").code == "H1"

    event = AuditEvent.objects.get(action="catalog.import")
    assert event.channel == "cli" and event.actor_id is None
    assert event.data["counts"]["schools"]["created"] == 2
    # The new school is found by the microdistrict selector the registration uses (§27).
    assert microdistrict_school_ids([AddressKey("1100101", "12А")]) == {school.pk, private.pk}
    assert microdistrict_school_ids([AddressKey("1100101", "13")]) == {school.pk}


def test_reimport_changes_nothing(campaign: Campaign) -> None:
    catalog_import(data=small_catalog(), actor=CLI)
    before = catalog_rows()
    ids = sorted(MicrodistrictAddress.objects.values_list("pk", flat=True))

    report = catalog_import(data=small_catalog(), actor=CLI)

    assert catalog_rows() == before
    assert sorted(MicrodistrictAddress.objects.values_list("pk", flat=True)) == ids
    for kind, c in report.counts.items():
        assert (c.created, c.updated, c.deleted) == (0, 0, 0), kind
    assert counts(report, "houses") == (0, 0, 2, 0)
    assert AuditEvent.objects.filter(action="catalog.import").count() == 2


@pytest.mark.usefixtures("before_the_lock")
def test_reimport_applies_updates_and_replaces_listed_schools_lines(campaign: Campaign) -> None:
    catalog_import(data=small_catalog(), actor=CLI)
    data = small_catalog()
    data["schools"][0]["name_ru"] = "Гимназия № 1"
    data["schools"][1]["opted_in"] = False
    data["streets"][1]["name_ru"] = "ул. Ахунбаева (бывш. Ленина)"
    # S-1's microdistrict: the Chui range grows, the whole Akhunbaev street goes.
    data["microdistricts"] = [
        {"school": "S-1", "street": "1100101", "house_from": 1, "house_to": 60},
    ]
    # S-1's class-sets: the Б class changes size; S-2 is not listed and keeps its own.
    data["class_sets"] = [row for row in data["class_sets"] if row["school"] == "S-1"]
    data["class_sets"][1]["size"] = 26
    data["teachers"] = []

    report = catalog_import(data=data, actor=CLI)

    assert counts(report, "schools") == (0, 2, 0, 0)
    assert counts(report, "streets") == (0, 1, 1, 0)
    assert counts(report, "microdistricts") == (1, 0, 0, 2)
    assert counts(report, "class_sets") == (1, 0, 2, 1)
    assert School.objects.get(code="S-1").name_ru == "Гимназия № 1"
    assert not School.objects.get(code="S-2").opted_in
    assert list(
        MicrodistrictAddress.objects.filter(school__code="S-1").values_list(
            "street__code", "house_from", "house_to"
        )
    ) == [("1100101", 1, 60)]
    # Schools the file does not list keep their microdistrict, class-sets and teachers.
    assert MicrodistrictAddress.objects.filter(school__code="S-2").count() == 1
    assert ExistingClassSet.objects.filter(school__code="S-2").count() == 1
    assert Teacher.objects.count() == 1
    assert sorted(
        ExistingClassSet.objects.filter(school__code="S-1", grade="fourth").values_list(
            "letter", "size"
        )
    ) == [("А", 44), ("Б", 26)]


def test_a_note_changes_in_place(campaign: Campaign) -> None:
    catalog_import(data=small_catalog(), actor=CLI)
    line = MicrodistrictAddress.objects.get(school__code="S-2")
    data = small_catalog()
    data["microdistricts"][2]["note"] = "act 14 of 2026-01-12"

    report = catalog_import(data=data, actor=CLI)

    assert counts(report, "microdistricts") == (0, 1, 2, 0)
    line.refresh_from_db()
    assert line.note == "act 14 of 2026-01-12"


def test_an_optional_field_left_out_is_kept_and_given_empty_is_cleared(campaign: Campaign) -> None:
    catalog_import(data=small_catalog(), actor=CLI)
    schools = small_catalog()["schools"]
    for row in schools:
        row.pop("name_en", None)
        row.pop("opted_in", None)
        row.pop("settlement", None)

    report = catalog_import(data={"schools": schools}, actor=CLI)

    assert counts(report, "schools") == (0, 0, 2, 0)
    s1, s2 = School.objects.get(code="S-1"), School.objects.get(code="S-2")
    assert (s1.name_en, s1.settlement_id is not None, s2.opted_in) == ("School 1", True, True)

    schools[0].update(name_en="", settlement=None)
    schools[1].update(opted_in="")
    catalog_import(data={"schools": schools}, actor=CLI)
    s1.refresh_from_db()
    s2.refresh_from_db()
    assert (s1.name_en, s1.settlement_id, s2.opted_in) == ("", None, False)


def test_rows_may_refer_to_what_the_catalog_already_holds(campaign: Campaign) -> None:
    catalog_import(data=small_catalog(), actor=CLI)
    report = catalog_import(
        data={
            "schools": [
                {
                    "code": "S-3",
                    "name_ky": "№ 3",
                    "name_ru": "№ 3",
                    "district": "41711211000000",
                    "settlement": "41711211000010",
                    "address": "ул. Ахунбаева, 3",
                    "ownership": "state",
                }
            ],
            "microdistricts": [{"school": "S-3", "street": "1100102"}],
        },
        actor=CLI,
    )
    assert counts(report, "schools") == (1, 0, 0, 0)
    assert report.campaign == ""


def test_a_campaign_argument_overrides_the_files_academic_year(campaign: Campaign) -> None:
    other = make_campaign(code="2026-2027-rehearsal")
    report = catalog_import(data=small_catalog(), actor=CLI, campaign=other)
    assert report.campaign == "2026-2027-rehearsal"
    assert ExistingClassSet.objects.filter(campaign=other).count() == 4
    assert not ExistingClassSet.objects.filter(campaign=campaign).exists()


def test_dry_run_reports_without_writing(campaign: Campaign) -> None:
    report = catalog_import(data=small_catalog(), actor=CLI, dry_run=True)
    assert counts(report, "schools") == (2, 0, 0, 0)
    assert sum(catalog_rows().values()) == 0
    assert not AuditEvent.objects.exists()

    bad = small_catalog()
    bad["schools"][0]["ownership"] = "church"
    report = catalog_import(data=bad, actor=CLI, dry_run=True)
    assert [e.field for e in report.errors] == ["schools[0].ownership"]


# -- bad input ------------------------------------------------------------------------------------
def _break(path: str, value: Any) -> dict[str, Any]:
    data = small_catalog()
    kind, index, name = re.fullmatch(r"(\w+)\[(\d+)\]\.(\w+)", path).groups()  # type: ignore[union-attr]
    data[kind][int(index)][name] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        ("schools[1].district", "41799999000000", "unknown_district"),
        ("schools[0].ownership", "church", "invalid_choice"),
        ("class_sets[2].language", "de", "invalid_choice"),
        ("microdistricts[0].house_from", 50, "range_reversed"),
        ("districts[0].region", "41700000000000", "unknown_region"),
        ("streets[0].settlement", "4171", "invalid_soate"),
        ("houses[1].street", "9999999", "unknown_street"),
        ("microdistricts[1].school", "S-404", "unknown_school"),
        ("class_sets[0].grade", "second", "invalid_choice"),
        ("class_sets[0].size", "forty", "not_a_positive_integer"),
        ("class_sets[0].size", 420, "out_of_range"),
        ("schools[0].opted_in", "maybe", "not_a_boolean"),
        ("schools[0].name_ru", "", "required"),
        ("schools[0].name_en", "x" * 301, "too_long"),
        ("teachers[0].pin", "30302199000123", "invalid_pin"),
        ("teachers[0].pin", "1" + "０３０２１９９０００１２３", "invalid_pin"),  # issue 13
        ("teachers[0].pin", "1" + "٠٣٠٢١٩٩٠٠٠١٢٣", "invalid_pin"),
        ("class_sets[0].size", "２５", "not_a_positive_integer"),
        ("streets[0].settlement", "４１７１１０００００００００", "invalid_soate"),
        ("microdistricts[1].parity", "odd", "parity_needs_range"),
        ("microdistricts[0].house_to", None, "range_incomplete"),
        ("regions[0].capital", "Бишкек", "unknown_field"),
    ],
)
def test_a_bad_row_refuses_the_whole_file(
    campaign: Campaign, path: str, value: Any, code: str
) -> None:
    with pytest.raises(FieldError) as caught:
        catalog_import(data=_break(path, value), actor=CLI)

    assert (caught.value.field, caught.value.code) == (path, code)
    assert caught.value.message
    assert sum(catalog_rows().values()) == 0
    assert not AuditEvent.objects.exists()


def test_a_bad_reimport_leaves_the_catalog_as_it_was(campaign: Campaign) -> None:
    catalog_import(data=small_catalog(), actor=CLI)
    before = catalog_rows()
    data = small_catalog()
    data["schools"][0]["name_ru"] = "renamed"
    data["class_sets"][0]["language"] = "xx"

    with pytest.raises(CatalogImportError):
        catalog_import(data=data, actor=CLI)

    assert catalog_rows() == before
    assert School.objects.get(code="S-1").name_ru == "Школа № 1"


def test_every_problem_is_reported_at_once(campaign: Campaign) -> None:
    data = small_catalog()
    data["schools"][0]["ownership"] = "church"
    data["class_sets"][3]["language"] = "de"
    data["microdistricts"][0]["house_from"] = 99

    with pytest.raises(CatalogImportError) as caught:
        catalog_import(data=data, actor=CLI)

    assert [p.field for p in caught.value.problems] == [
        "schools[0].ownership",
        "microdistricts[0].house_from",
        "class_sets[3].language",
    ]


def test_a_bad_row_is_still_checked_against_the_rest_of_the_file(campaign: Campaign) -> None:
    data = small_catalog()
    data["schools"][0].update(ownership="church", district="41799999000000")

    with pytest.raises(CatalogImportError) as caught:
        catalog_import(data=data, actor=CLI)

    # Both faults of the row, and no echo in the rows that refer to the school.
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("schools[0].ownership", "invalid_choice"),
        ("schools[0].district", "unknown_district"),
    ]


def test_file_level_problems(campaign: Campaign) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({**small_catalog(), "format": "kattoo-catalog/9"}, "format", "unknown_format"),
        ({**small_catalog(), "school": []}, "school", "unknown_key"),
        ({**small_catalog(), "schools": {"code": "S-1"}}, "schools", "not_a_list"),
        ({**small_catalog(), "academic_year": "2031-2032"}, "academic_year", "unknown_campaign"),
        (
            {k: v for k, v in small_catalog().items() if k != "academic_year"},
            "academic_year",
            "required",
        ),
    ]
    for data, field, code in cases:
        with pytest.raises(FieldError) as caught:
            catalog_import(data=data, actor=CLI)
        assert (caught.value.field, caught.value.code) == (field, code)
    assert sum(catalog_rows().values()) == 0


def test_duplicates_and_settlement_outside_the_schools_district(campaign: Campaign) -> None:
    data = small_catalog()
    data["houses"].append({"street": "1100101", "number": "1"})
    data["districts"].append(
        {
            "soate": "41711215000000",
            "region": "41711000000000",
            "name_ky": "Свердлов",
            "name_ru": "Свердловский",
        }
    )
    data["schools"][1]["district"] = "41711215000000"
    data["schools"][1]["settlement"] = "41711211000010"

    with pytest.raises(CatalogImportError) as caught:
        catalog_import(data=data, actor=CLI)

    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("houses[2].number", "duplicate"),
        ("schools[1].settlement", "settlement_not_in_district"),
    ]


def test_an_academic_year_shared_by_two_campaigns_is_ambiguous(campaign: Campaign) -> None:
    make_campaign(code="y2027-a", academic_year="2027-2028")
    make_campaign(code="y2027-b", academic_year="2027-2028")
    data = {**small_catalog(), "academic_year": "2027-2028"}
    with pytest.raises(FieldError) as caught:
        catalog_import(data=data, actor=CLI)
    assert (caught.value.field, caught.value.code) == ("academic_year", "ambiguous_campaign")
    # Its code names it exactly.
    report = catalog_import(data={**data, "academic_year": "y2027-b"}, actor=CLI)
    assert report.campaign == "y2027-b"


# -- CSV ------------------------------------------------------------------------------------------
CSV_COLUMNS = [
    "kind",
    "soate",
    "code",
    "region",
    "district",
    "settlement",
    "street",
    "school",
    "number",
    "name_ky",
    "name_ru",
    "name_en",
    "address",
    "ownership",
    "opted_in",
    "house_from",
    "house_to",
    "parity",
    "note",
    "grade",
    "letter",
    "language",
    "size",
    "academic_year",
    "pin",
    "full_name",
]


def to_csv(data: dict[str, Any], delimiter: str = ",") -> str:
    """The one-sheet CSV a ministry would save from its spreadsheet (docs/data-formats.md)."""
    out = StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for kind, name in CSV_KINDS.items():
        for row in data.get(name, []):
            cells = {"kind": kind, **row}
            if isinstance(row.get("opted_in"), bool):
                cells["opted_in"] = "да" if row["opted_in"] else "жок"
            if kind == "class_set":
                cells["academic_year"] = data["academic_year"]
            writer.writerow(
                ["" if cells.get(c) is None else str(cells.get(c, "")) for c in CSV_COLUMNS]
            )
        if kind == "school":
            writer.writerow(["# rows whose kind starts with # are comments"])
    return out.getvalue()


SMALL_CSV = to_csv(small_catalog())


@pytest.mark.usefixtures("before_the_lock")
def test_csv_reads_into_the_json_form(campaign: Campaign) -> None:
    data = catalog_parse_csv(SMALL_CSV)

    assert data["academic_year"] == "2026-2027"
    assert data["schools"][1] == {
        "code": "S-2",
        "district": "41711211000000",
        "settlement": "",
        "name_ky": "«Акыл»",
        "name_ru": "«Акыл»",
        "name_en": "",
        "address": "просп. Чуй, 5",
        "ownership": "private",
        "opted_in": "да",
        "_line": 10,
    }
    report = catalog_import(data=data, actor=CLI)
    assert counts(report, "microdistricts") == (3, 0, 0, 0)
    assert counts(report, "teachers") == (1, 0, 0, 0)
    # The same catalog as the JSON file: loading that one now changes nothing.
    again = catalog_import(data=small_catalog(), actor=CLI)
    assert all(c.created == c.updated == c.deleted == 0 for c in again.counts.values())


def test_csv_from_a_russian_locale_spreadsheet(campaign: Campaign) -> None:
    # Excel in a Russian locale: ";" separators and a byte-order mark.
    text = "\ufeff" + to_csv(small_catalog(), delimiter=";")
    assert text.splitlines()[1].startswith("region;41711000000000;")
    data = catalog_parse_csv(text)
    assert data["schools"][0]["address"] == "ул. Ахунбаева, 1"
    catalog_import(data=data, actor=CLI)
    assert School.objects.count() == 2


def test_a_bad_csv_row_names_its_line(campaign: Campaign) -> None:
    text = SMALL_CSV.replace("municipal", "communal")
    with pytest.raises(CatalogImportError) as caught:
        catalog_import(data=catalog_parse_csv(text), actor=CLI)
    problem = caught.value.problems[0]
    assert (problem.field, problem.code, problem.line) == (
        "schools[0].ownership",
        "invalid_choice",
        9,
    )
    assert "9" in problem.describe()


@pytest.mark.parametrize(
    ("text", "field", "code"),
    [
        ("soate,name_ky\n41711000000000,Бишкек\n", "kind", "missing_column"),
        ("kind,soate,capital\nregion,41711000000000,x\n", "capital", "unknown_column"),
        ("kind,soate,size\nregion,41711000000000,3\n", "line 2.size", "not_for_kind"),
        ("kind,soate\ncity,41711000000000\n", "line 2.kind", "unknown_kind"),
        ("", "kind", "missing_column"),
        (
            "kind,school,grade,language,size,academic_year\n"
            "class_set,S,first,ky,20,2026-2027\nclass_set,S,first,ky,21,2027-2028\n",
            "line 3.academic_year",
            "mixed_years",
        ),
    ],
)
def test_unreadable_csv(text: str, field: str, code: str) -> None:
    with pytest.raises(CatalogImportError) as caught:
        catalog_parse_csv(text)
    assert (caught.value.field, caught.value.code) == (field, code)


def test_extra_columns_starting_with_a_hash_are_comments(campaign: Campaign) -> None:
    text = "kind,soate,name_ky,name_ru,# checked by\nregion,41711000000000,Бишкек,Бишкек,Асанов\n"
    data = catalog_parse_csv(text)
    assert data["regions"] == [
        {"soate": "41711000000000", "name_ky": "Бишкек", "name_ru": "Бишкек", "_line": 2}
    ]


# -- the command ----------------------------------------------------------------------------------
def test_command_imports_json_and_csv(campaign: Campaign, tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(small_catalog(), ensure_ascii=False), encoding="utf-8")
    out = StringIO()
    with translation.override("en"):
        call_command("import_catalog", str(path), stdout=out)
    assert School.objects.count() == 2
    assert "schools: 2 created, 0 updated, 0 unchanged, 0 deleted" in out.getvalue()
    assert "Catalog imported." in out.getvalue()
    event = AuditEvent.objects.get(action="catalog.import")
    assert event.channel == "cli"

    csv_path = tmp_path / "schools.csv"
    csv_path.write_text(SMALL_CSV.replace("Школа № 1", "Школа № 1 им. Манаса"), encoding="utf-8")
    call_command("import_catalog", str(csv_path), stdout=StringIO())
    assert School.objects.get(code="S-1").name_ru == "Школа № 1 им. Манаса"

    # The format option wins over the extension.
    txt_path = tmp_path / "export.txt"
    txt_path.write_text(SMALL_CSV, encoding="utf-8")
    call_command("import_catalog", str(txt_path), "--format", "csv", stdout=StringIO())
    assert School.objects.get(code="S-1").name_ru == "Школа № 1"


def test_command_refuses_a_bad_file_and_writes_nothing(campaign: Campaign, tmp_path: Path) -> None:
    data = small_catalog()
    data["schools"][1]["district"] = "41799999000000"
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(CommandError) as caught:
        call_command("import_catalog", str(path), stdout=StringIO())

    assert "schools[1].district" in str(caught.value)
    assert sum(catalog_rows().values()) == 0
    assert not AuditEvent.objects.exists()


def test_command_errors(campaign: Campaign, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"regions": [', encoding="utf-8")
    with pytest.raises(CommandError, match="JSON"):
        call_command("import_catalog", str(broken))
    with pytest.raises(CommandError):
        call_command("import_catalog", str(tmp_path / "missing.json"))
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("kind,soate\ncity,41711000000000\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"line 2\.kind"):
        call_command("import_catalog", str(bad_csv))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(small_catalog()), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_catalog", str(good), "--campaign", "1999-2000")


def test_command_dry_run_and_campaign_option(campaign: Campaign, tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(small_catalog()), encoding="utf-8")
    out = StringIO()
    call_command("import_catalog", str(path), "--dry-run", stdout=out)
    assert sum(catalog_rows().values()) == 0
    assert out.getvalue()

    other = make_campaign(code="2026-2027-rehearsal")
    call_command("import_catalog", str(path), "--campaign", other.code, stdout=StringIO())
    assert ExistingClassSet.objects.filter(campaign=other).count() == 4


# -- the demo data --------------------------------------------------------------------------------
def load(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((DEMO / name).read_text(encoding="utf-8"))
    return result


def test_demo_files_are_what_the_script_builds() -> None:
    catalog, population = build_data.build()
    assert build_data.dumps(catalog) == (DEMO / "catalog.json").read_text(encoding="utf-8")
    assert build_data.dumps(population) == (DEMO / "population.json").read_text(encoding="utf-8")


def test_demo_catalog_imports_cleanly(campaign: Campaign) -> None:
    catalog = load("catalog.json")
    at = clock.bishkek(2026, 2, 1, 12, 0)
    with clock.frozen(at):
        report = catalog_import(data=catalog, actor=CLI)

    assert School.objects.count() == 8
    assert Teacher.objects.filter(added_at=at).count() == len(catalog["teachers"]) >= 3
    assert not School.objects.get(code="BIS-P01").participates
    assert School.objects.get(code="BIS-P02").participates
    new_school = School.objects.get(code="ALA-NEW")
    assert set(
        ExistingClassSet.objects.filter(school=new_school).values_list("grade", flat=True)
    ) == {"first"}
    sizes = list(ExistingClassSet.objects.filter(grade="fourth").values_list("size", flat=True))
    assert min(sizes) < 25 and max(sizes) > 42
    assert set(ExistingClassSet.objects.values_list("language", flat=True)) == {"ky", "ru", "uz"}
    again = catalog_import(data=catalog, actor=CLI)
    assert all(c.created == c.updated == c.deleted == 0 for c in again.counts.values())
    assert report.counts["houses"].created == House.objects.count()


def test_demo_population_is_valid_for_the_registry() -> None:
    population = load("population.json")
    catalog = load("catalog.json")
    streets = {s["code"]: s for s in catalog["streets"]}
    houses = {h["code"] for h in catalog["houses"]}
    people = {p["pin"]: p for p in population["people"]}

    assert population["format"] == "kattoo-population/1"
    assert len(people) == len(population["people"]) >= 150
    for pin, person in people.items():
        sex, born = pin_parse(pin)
        assert (sex, born.isoformat()) == (person["gender"], person["dateOfBirth"]), pin
        address = person["address"]
        if address is not None:
            assert address["streetId"] in streets, pin
            assert address["villageId"] == streets[address["streetId"]]["settlement"], pin
            assert address["houseId"] in houses or address["houseId"] == ""
        if person["passport"]:
            assert person["passport"]["passportSeries"] in ("ID", "AN", "AC")
            assert re.fullmatch(r"\d{7}", person["passport"]["passportNumber"])
        if person["contacts"]:
            assert re.fullmatch(r"\+996\d{9}", person["contacts"]["phone"])
        act = person["birthAct"]
        if act:
            assert re.fullmatch(r"\d{6,7}", act["certificateNumber"])
            assert act["certificateSeries"]
            for parent in (act["motherPin"], act["fatherPin"]):
                assert parent is None or parent in people
        if person["gender"] == "F" and person["surname"].endswith(("ов", "ев")):
            pytest.fail(f"female surname in the male form: {person['surname']}")
    for ward in population["wards"]:
        assert ward["representativePin"] in people and ward["childPin"] in people
    for entry in population["demo"]["people"]:
        assert entry["pin"] in people and entry["description"]
    assert population["demo"] == {k: v for k, v in catalog["demo"].items() if k != "schools"}

    births = [dt.date.fromisoformat(p["dateOfBirth"]) for p in people.values()]
    assert sum(dt.date(2019, 1, 1) <= b <= dt.date(2020, 12, 31) for b in births) >= 50
    assert any(b.year == 2018 for b in births) and any(b.year == 2021 for b in births)
    # §25: a triplet set: same mother, same birth date.
    by_birth: dict[tuple[str, str], int] = {}
    for person in people.values():
        if person["birthAct"]:
            key = (person["birthAct"]["motherPin"], person["dateOfBirth"])
            by_birth[key] = by_birth.get(key, 0) + 1
    assert sorted(n for n in by_birth.values() if n > 1) == [2, 2, 3]


def test_demo_descriptions_match_the_microdistrict_selector(campaign: Campaign) -> None:
    catalog_import(data=load("catalog.json"), actor=CLI)
    population = load("population.json")
    people = {p["pin"]: p for p in population["people"]}
    codes = dict(School.objects.values_list("pk", "code"))

    def schools_of(pin: str) -> set[str]:
        address = people[pin]["address"]
        ids = microdistrict_school_ids([AddressKey(address["streetId"], address["house"])])
        return {codes[i] for i in ids}

    demo = population["demo"]["people"]
    outside = next(e for e in demo if e["description"].startswith("Home address in no school"))
    assert schools_of(outside["pin"]) == set()
    assert all(schools_of(child) == set() for child in outside["children"])
    overlap = next(e for e in demo if "overlapping" in e["description"])
    assert schools_of(overlap["pin"]) == {"BIS-005", "BIS-061"}
    elsewhere = next(e for e in demo if "registered at another address" in e["description"])
    assert schools_of(elsewhere["pin"]) == set()
    assert schools_of(elsewhere["children"][0])
    # Every address the builder called covered or not is read the same by the selector.
    for pin, person in people.items():
        address = person["address"]
        if address:
            expected = set(build_data.covering_schools(address["streetId"], address["house"]))
            assert schools_of(pin) == expected, pin


def make_campaign(*, code: str, academic_year: str = "2026-2027") -> Campaign:
    """A campaign with the 2026 dates of the regulation, created directly."""
    return Campaign.objects.create(
        code=code,
        academic_year=academic_year,
        is_active=False,
        birth_from=dt.date(2019, 1, 1),
        birth_to=dt.date(2020, 12, 31),
        stage1_starts_at=clock.bishkek(2026, 4, 1, 10, 0),
        stage2_starts_at=clock.bishkek(2026, 6, 1, 10, 0),
        registration_ends_at=clock.bishkek(2026, 8, 31, 18, 0),
        weekend_days=[5, 6],
        cancel_limit=3,
        guardian_child_limit=2,
        class_size_min=25,
        class_size_max=42,
        documents_request_until=dt.date(2026, 8, 30),
        medical_from=dt.date(2026, 8, 4),
        medical_until=dt.date(2026, 9, 5),
    )


def test_the_documented_examples_import(campaign: Campaign) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "data-formats.md").read_text("utf-8")
    blocks = re.findall(r"```(json|csv)\n(.*?)```", text, flags=re.S)
    json_example = json.loads(next(body for lang, body in blocks if lang == "json"))
    csv_examples = [body for lang, body in blocks if lang == "csv"]

    catalog_import(data=json_example, actor=CLI)
    before = catalog_rows()
    report = catalog_import(data=catalog_parse_csv(csv_examples[0]), actor=CLI)
    # The sheet is the JSON example written as CSV.
    assert all(c.created == c.updated == c.deleted == 0 for c in report.counts.values())
    assert catalog_rows() == before
    report = catalog_import(data=catalog_parse_csv(csv_examples[1]), actor=CLI)
    assert counts(report, "schools") == (1, 0, 1, 0)
