"""§24: a catalog file's teacher rows go through the roster's service — each new PIN checked
with the registry (an adult person), the roster frozen from the quota lock on — with each
row's outcome reported (kattoo.catalog.importing.teachers)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation

from kattoo.audit.models import AuditEvent
from kattoo.campaigns.models import Campaign
from kattoo.catalog.importing import CatalogImportError, catalog_import
from kattoo.catalog.models import AdditionStatus, School, Teacher, TeacherAddition
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.integrations.registry.client import registry_override
from kattoo.integrations.registry.fake import FakeRegistry
from kattoo.quotas.automatic import catalog_import_with_quotas

from ..conftest import BEFORE
from ..factories import registry_adult, registry_person
from .test_importing import small_catalog

CLI = Actor(user=None, channel="cli")
ADULT, OTHER, UNKNOWN = "10302199000123", "21505198500002", "11203198800009"
# §17: the 2026 lock is the end of Friday 2026-03-27, Asia/Bishkek.
AFTER_LOCK = clock.bishkek(2026, 3, 30, 9, 0)


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    fake = FakeRegistry()
    fake.add_person(registry_adult(ADULT, surname="Асанова", name="Айгүл"))
    fake.add_person(registry_adult(OTHER, surname="Асанов", name="Бакыт"))
    with registry_override(fake):
        yield fake


@pytest.fixture
def minor(registry: FakeRegistry) -> str:
    child = registry_person(sex="F", born=dt.date(2012, 5, 5))
    registry.add_person(child)
    pin: str = child["pin"]
    return pin


def catalog(*teachers: tuple[str, str]) -> dict[str, Any]:
    data = small_catalog()
    data["teachers"] = [
        {"school": school, "pin": pin, "full_name": "Typed by the ministry"}
        for school, pin in teachers
    ]
    return data


def outcomes(report: Any) -> list[tuple[str, str, str]]:
    return [(t.field, t.outcome, t.code) for t in report.teachers]


@pytest.mark.usefixtures("campaign")
def test_before_the_lock_a_checked_adult_joins_and_the_unknown_and_minors_are_refused(
    registry: FakeRegistry, minor: str
) -> None:
    with clock.frozen(BEFORE), translation.override("en"):
        report = catalog_import(
            data=catalog(("S-1", ADULT), ("S-1", UNKNOWN), ("S-2", minor), ("S-2", ADULT)),
            actor=CLI,
        )
    # The rest of the file is imported; only the refused rows are left out.
    assert School.objects.count() == 2
    assert sorted(Teacher.objects.values_list("school__code", "pin")) == [
        ("S-1", ADULT),
        ("S-2", ADULT),
    ]
    # §7: the name is the registry's, not the file's.
    assert set(Teacher.objects.values_list("full_name", flat=True)) == {"Асанова Айгүл"}
    assert report.teacher_counts == {"added": 2, "on_roster": 0, "pending": 0, "refused": 2}
    assert report.counts["teachers"].created == 2
    assert outcomes(report) == [
        ("teachers[1]", "refused", "person_not_found"),
        ("teachers[2]", "refused", "teacher_not_adult"),
    ]
    assert report.teachers[0].school == "S-1"
    assert report.teachers[0].message == "The registry has no person with this PIN."
    assert "under 18" in report.teachers[1].message
    # One registry call per distinct PIN, the person service only.
    asked = [pin for service, pin in registry.calls]
    assert sorted(asked) == sorted([ADULT, UNKNOWN, minor])
    assert {service for service, _pin in registry.calls} == {"zagsDataByPin"}
    # Each teacher joining is audited, and the import's record holds the outcomes (no PINs).
    assert AuditEvent.objects.filter(action="teacher.add", data__source="import").count() == 2
    event = AuditEvent.objects.get(action="catalog.import")
    assert event.data["teachers"]["counts"]["refused"] == 2
    assert ADULT not in json.dumps(event.data) and UNKNOWN not in json.dumps(event.data)


@pytest.mark.usefixtures("campaign")
def test_a_teacher_on_the_roster_is_not_asked_again(registry: FakeRegistry) -> None:
    with clock.frozen(BEFORE):
        catalog_import(data=catalog(("S-1", ADULT)), actor=CLI)
        registry.calls.clear()
        report = catalog_import(data=catalog(("S-1", ADULT), ("S-2", OTHER)), actor=CLI)
    assert registry.calls == [("zagsDataByPin", OTHER)]
    assert report.teacher_counts == {"added": 1, "on_roster": 1, "pending": 0, "refused": 0}
    assert report.counts["teachers"].unchanged == 1


@pytest.mark.usefixtures("campaign")
def test_after_the_lock_an_imported_teacher_waits_for_the_district(registry: FakeRegistry) -> None:
    with clock.frozen(BEFORE):
        catalog_import(data=catalog(("S-1", ADULT)), actor=CLI)
    with clock.frozen(AFTER_LOCK), translation.override("en"):
        report = catalog_import(data=catalog(("S-1", ADULT), ("S-1", OTHER)), actor=CLI)
        again = catalog_import(data=catalog(("S-1", ADULT), ("S-1", OTHER)), actor=CLI)
    # Never a direct row after the lock: a pending addition for the district.
    assert not Teacher.objects.filter(pin=OTHER).exists()
    addition = TeacherAddition.objects.get()
    assert (addition.school.code, addition.pin, addition.status, addition.kind) == (
        "S-1",
        OTHER,
        AdditionStatus.PENDING,
        "add",
    )
    assert addition.full_name == "Асанов Бакыт"
    assert outcomes(report) == [("teachers[1]", "pending", "addition_pending")]
    assert "district office's approval" in report.teachers[0].message
    assert report.teacher_counts == {"added": 0, "on_roster": 1, "pending": 1, "refused": 0}
    # Imported again: still the one pending addition.
    assert outcomes(again) == [("teachers[1]", "pending", "addition_pending")]
    assert AuditEvent.objects.filter(action="teacher.addition_request").count() == 1


@pytest.mark.usefixtures("campaign")
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_registry_outage_refuses_the_file_and_changes_nothing(
    registry: FakeRegistry, dry_run: bool
) -> None:
    registry.available = False
    with clock.frozen(BEFORE), translation.override("en"):
        if dry_run:
            report = catalog_import(data=catalog(("S-1", ADULT)), actor=CLI, dry_run=True)
            problems = report.errors
        else:
            with pytest.raises(CatalogImportError) as caught:
                catalog_import(data=catalog(("S-1", ADULT)), actor=CLI)
            problems = caught.value.problems
    assert [(p.field, p.code) for p in problems] == [("teachers", "registry_unavailable")]
    assert "try again later" in problems[0].message
    assert not School.objects.exists() and not Teacher.objects.exists()
    assert not AuditEvent.objects.filter(action="catalog.import").exists()


@pytest.mark.usefixtures("campaign")
def test_an_outage_does_not_matter_when_every_teacher_is_on_the_roster(
    registry: FakeRegistry,
) -> None:
    with clock.frozen(BEFORE):
        catalog_import(data=catalog(("S-1", ADULT)), actor=CLI)
        registry.available = False
        report = catalog_import(data=catalog(("S-1", ADULT)), actor=CLI)
    assert report.teacher_counts["on_roster"] == 1 and report.errors == []


def test_the_dry_run_with_quotas_reports_outcomes_and_writes_nothing(
    registry: FakeRegistry, campaign: Campaign, minor: str
) -> None:
    with clock.frozen(BEFORE):
        result = catalog_import_with_quotas(
            data=catalog(("S-1", ADULT), ("S-1", minor)),
            campaign=campaign,
            actor=CLI,
            dry_run=True,
        )
    body = result.as_dict()
    assert body["teachers"]["counts"] == {"added": 1, "on_roster": 0, "pending": 0, "refused": 1}
    assert [r["code"] for r in body["teachers"]["rows"]] == ["teacher_not_adult"]
    assert not Teacher.objects.exists() and not TeacherAddition.objects.exists()
    registry.available = False
    with clock.frozen(BEFORE):
        refused = catalog_import_with_quotas(
            data=catalog(("S-1", ADULT)), campaign=campaign, actor=CLI, dry_run=True
        )
    assert [e.code for e in refused.report.errors] == ["registry_unavailable"]


@pytest.mark.usefixtures("campaign", "registry")
def test_the_command_prints_each_teacher_not_added(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog(("S-1", ADULT), ("S-1", UNKNOWN))), encoding="utf-8")
    out = StringIO()
    with clock.frozen(BEFORE), translation.override("en"):
        call_command("import_catalog", str(path), stdout=out)
    text = out.getvalue()
    assert "teacher roster: 1 added, 0 already on it, 0 waiting" in text
    assert "teachers[1] (S-1): The registry has no person with this PIN." in text


def epochs() -> dict[str, int]:
    return dict(School.objects.values_list("code", "facts_epoch"))


@pytest.mark.usefixtures("campaign")
def test_an_import_marks_stale_only_the_drafts_of_the_schools_it_changes(
    registry: FakeRegistry,
) -> None:
    """Enrollment ADR 0029: a catalog file makes a school's stored draft facts stale when it
    changes that school's microdistrict or roster, and only then — once per school however
    many teachers join; the other schools' drafts keep theirs."""
    with clock.frozen(BEFORE):
        catalog_import(data=catalog(), actor=CLI)
        first = epochs()
        catalog_import(data=catalog(), actor=CLI)  # the same file again
        assert epochs() == first

        data = catalog()
        for line in data["microdistricts"]:
            if line["school"] == "S-2":
                line["house_to"] = 30  # S-2's one line moves
        catalog_import(data=data, actor=CLI)
        assert epochs() == {"S-1": first["S-1"], "S-2": first["S-2"] + 1}

        data = catalog(("S-1", ADULT), ("S-1", OTHER))
        data["microdistricts"] = [  # S-1 loses a line in the same file
            line for line in data["microdistricts"] if line["street"] != "1100102"
        ]
        for line in data["microdistricts"]:
            if line["school"] == "S-2":
                line["house_to"] = 30
        catalog_import(data=data, actor=CLI)
    assert Teacher.objects.filter(school__code="S-1").count() == 2
    assert epochs() == {"S-1": first["S-1"] + 1, "S-2": first["S-2"] + 1}
