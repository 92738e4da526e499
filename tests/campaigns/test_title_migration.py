"""The data migrations of issue 14: a campaign's single title and a school's single address are
copied into the Kyrgyz and Russian fields; a title that was only the academic year becomes
empty, so each language shows the year in its own words."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import School
from kattoo.core import clock

BEFORE = [("campaigns", "0003_campaign_published_at"), ("catalog", "0004_teacher_addition")]


def _migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_old_title_and_address_are_copied_into_ky_and_ru() -> None:
    old = _migrate(BEFORE)
    old_campaign = old.get_model("campaigns", "Campaign")
    old_campaign.objects.filter(code="2026-2027").delete()  # the data migration's, if kept
    values = {
        "academic_year": "2026-2027",
        "birth_from": dt.date(2019, 1, 1),
        "birth_to": dt.date(2020, 12, 31),
        "stage1_starts_at": clock.bishkek(2026, 4, 1, 10),
        "stage2_starts_at": clock.bishkek(2026, 6, 1, 10),
        "registration_ends_at": clock.bishkek(2026, 8, 31),
        "weekend_days": [5, 6],
        "cancel_limit": 3,
        "guardian_child_limit": 2,
        "class_size_min": 25,
        "class_size_max": 42,
        "documents_request_until": dt.date(2026, 8, 30),
        "medical_from": dt.date(2026, 8, 4),
        "medical_until": dt.date(2026, 9, 5),
    }
    old_campaign.objects.create(code="2026-2027", title="2026–2027", **values)
    old_campaign.objects.create(code="2026-2027-rehearsal", title="2026–2027 (rehearsal)", **values)
    Region = old.get_model("catalog", "Region")
    District = old.get_model("catalog", "District")
    region = Region.objects.create(soate="41711000000000", name_ky="Бишкек", name_ru="Бишкек")
    district = District.objects.create(
        region=region, soate="41711211000000", name_ky="Ленин", name_ru="Ленинский"
    )
    old.get_model("catalog", "School").objects.create(
        code="S-1",
        name_ky="№ 1 мектеп",
        name_ru="Школа № 1",
        district=district,
        address="ул. Ахунбаева, 1",
        ownership="state",
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    rehearsal = Campaign.objects.get(code="2026-2027-rehearsal")
    assert (rehearsal.title_ky, rehearsal.title_ru) == ("2026–2027 (rehearsal)",) * 2
    assert (rehearsal.title_uz, rehearsal.title_en) == ("", "")
    official = Campaign.objects.get(code="2026-2027")
    assert [official.title_ky, official.title_ru, official.title_uz, official.title_en] == [""] * 4
    with translation.override("en"):
        assert official.title == "2026–2027 school year"
    school = School.objects.get(code="S-1")
    assert school.address_ky == school.address_ru == "ул. Ахунбаева, 1"
    assert (school.address_uz, school.address_en, school.name_uz) == ("", "", "")
    assert official.birth_from == dt.date(2019, 1, 1)  # nothing else moved
