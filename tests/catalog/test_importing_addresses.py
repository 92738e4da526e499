"""A school's address in the reader's language, and its optional Uzbek name (issue 14): the
catalog file carries ``address_ky``/``address_ru`` (``address_uz``/``address_en`` and ``name_uz``
optional); an older file's one ``address`` still imports, as both."""

from __future__ import annotations

import csv
from io import StringIO
from typing import Any

import pytest
from django.utils import translation

from kattoo.campaigns.models import Campaign
from kattoo.catalog.importing import CatalogImportError, catalog_import, catalog_parse_csv
from kattoo.catalog.models import School
from kattoo.catalog.selectors import localized_name

from .test_importing import CLI, counts, small_catalog

KY = "Бишкек ш., Ахунбаев көчөсү, 1"
RU = "г. Бишкек, ул. Ахунбаева, 1"


def with_school(**fields: Any) -> dict[str, Any]:
    """The small catalog, its first school's address fields replaced by ``fields``."""
    data = small_catalog()
    school = data["schools"][0]
    school.pop("address")
    school.update(fields)
    return data


def shown(school: School, field: str, language: str) -> str:
    with translation.override(language):
        return localized_name(school, field)


def test_the_address_and_the_name_in_each_language(campaign: Campaign) -> None:
    data = with_school(address_ky=KY, address_ru=RU, name_uz="1-son maktab")
    catalog_import(data=data, actor=CLI)
    school = School.objects.get(code="S-1")
    assert (school.address_ky, school.address_ru, school.address_uz) == (KY, RU, "")
    assert shown(school, "address", "ky") == KY
    assert shown(school, "address", "ru") == RU
    # No Uzbek address: the Kyrgyz one (the state language), as for names.
    assert shown(school, "address", "uz") == KY
    assert shown(school, "name", "uz") == "1-son maktab"
    # A school without an Uzbek name reads in Kyrgyz on Uzbek pages.
    assert shown(School.objects.get(code="S-2"), "name", "uz") == "«Акыл»"


def test_an_older_file_with_one_address_fills_both_languages(campaign: Campaign) -> None:
    catalog_import(data=small_catalog(), actor=CLI)
    school = School.objects.get(code="S-1")
    assert school.address_ky == school.address_ru == "ул. Ахунбаева, 1"
    # The new file gives both: the school is updated, nothing else changes.
    report = catalog_import(data=with_school(address_ky=KY, address_ru=RU), actor=CLI)
    assert counts(report, "schools") == (0, 1, 1, 0)
    school.refresh_from_db()
    assert (school.address_ky, school.address_ru) == (KY, RU)
    # One address beside a Kyrgyz one stands for the Russian only.
    catalog_import(data=with_school(address_ky=KY, address="просп. Чуй, 1"), actor=CLI)
    school.refresh_from_db()
    assert (school.address_ky, school.address_ru) == (KY, "просп. Чуй, 1")


def test_a_file_without_the_optional_columns_keeps_them(campaign: Campaign) -> None:
    catalog_import(data=with_school(address_ky=KY, address_ru=RU, address_uz="Bishkek"), actor=CLI)
    catalog_import(data=with_school(address_ky=KY, address_ru=RU + "А"), actor=CLI)
    school = School.objects.get(code="S-1")
    assert (school.address_ru, school.address_uz) == (RU + "А", "Bishkek")


@pytest.mark.parametrize(
    "fields",
    [{}, {"address_ky": KY}, {"address_ru": RU, "address_ky": ""}],
    ids=["none", "only-ky", "empty-ky"],
)
def test_a_school_without_an_address_in_both_languages_is_refused(
    campaign: Campaign, fields: dict[str, str]
) -> None:
    with pytest.raises(CatalogImportError) as caught, translation.override("en"):
        catalog_import(data=with_school(**fields), actor=CLI)
    missing = {"address_ky", "address_ru"} - {k for k, v in fields.items() if v}
    problems = {(p.field, p.code) for p in caught.value.problems}
    assert problems == {(f"schools[0].{name}", "required") for name in missing}
    message = str(caught.value.problems[0].message)
    assert "in Kyrgyz and in Russian (address_ky, address_ru)" in message
    assert not School.objects.exists()


def test_a_csv_sheet_with_an_address_column_per_language(campaign: Campaign) -> None:
    columns = ["kind", "soate", "code", "region", "district", "settlement", "name_ky", "name_ru"]
    columns += ["name_uz", "address_ky", "address_ru", "ownership"]
    out = StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(columns)
    rows = [
        ["region", "41711000000000", "", "", "", "", "Бишкек шаары", "город Бишкек"],
        ["district", "41711211000000", "", "41711000000000", "", "", "Ленин району", "Ленинский"],
        ["school", "", "S-9", "", "41711211000000", "", "№ 9 мектеп", "Школа № 9"],
    ]
    rows[0] += ["", "", "", ""]
    rows[1] += ["", "", "", ""]
    rows[2] += ["9-son maktab", KY, RU, "municipal"]
    writer.writerows(rows)
    catalog_import(data=catalog_parse_csv(out.getvalue()), actor=CLI)
    school = School.objects.get(code="S-9")
    assert (school.name_uz, school.address_ky, school.address_ru) == ("9-son maktab", KY, RU)
