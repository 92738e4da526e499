"""Quotas determined automatically (§11, ADR 0017): kattoo.quotas.automatic."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from kattoo.accounts.services import applicant_for_pin
from kattoo.audit.models import AuditEvent
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_quota_lock_at
from kattoo.catalog.importing import CatalogImportError
from kattoo.catalog.models import ExistingClassSet, School, Street
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import SeatPool
from kattoo.enrollment.services import application_register
from kattoo.integrations.registry.fake import FakeRegistry
from kattoo.people.models import Person
from kattoo.people.services import applicant_children_sync
from kattoo.quotas.automatic import catalog_import_with_quotas, quotas_compute_drafts
from kattoo.quotas.models import Quota, QuotaEvent, QuotaStatus
from kattoo.quotas.services import QuotaOperation, quota_change, quota_confirm

from ..catalog.test_importing import CATALOG_MODELS, catalog_rows, small_catalog
from ..conftest import BEFORE, STAGE1, SYSTEM
from ..factories import registry_person

CLI = Actor(user=None, channel="cli")


@pytest.fixture
def before() -> Any:
    with clock.frozen(BEFORE):
        yield BEFORE


def _import(campaign: Campaign, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    return catalog_import_with_quotas(
        data=data or small_catalog(), campaign=campaign, actor=CLI, **kw
    )


def _sizes(school_code: str) -> list[int]:
    quota = Quota.objects.get(school__code=school_code)
    return [c.seats for c in quota.class_sets.order_by("number")]


def test_a_fresh_import_computes_quotas_and_pools_so_stage1_registers(
    campaign: Campaign, fake_registry: FakeRegistry, before: Any
) -> None:
    result = _import(campaign)

    # S-1 is municipal; S-2 is private and opted in (§31): both take part.
    assert result.quotas.counts() == {
        "computed": 2,
        "recomputed": 0,
        "unchanged": 0,
        "skipped_confirmed": 0,
        "skipped_locked": 0,
    }
    assert result.quotas.schools == {"S-1": "computed", "S-2": "computed"}
    s1 = Quota.objects.get(school__code="S-1")
    assert s1.status == QuotaStatus.DRAFT and s1.inputs_fingerprint
    assert [p.language for p in SeatPool.objects.filter(school__code="S-1")] == ["ky"]
    run = AuditEvent.objects.get(action="quota.compute_drafts")
    assert run.data["computed"] == 2 and run.channel == "cli"
    assert AuditEvent.objects.filter(action="quota.computed").count() == 2

    # The quota locks by the time; then a family of S-1's microdistrict registers in stage 1.
    street = Street.objects.get(code="1100101")
    mother = registry_person(sex="F", born=dt.date(1990, 2, 3), street=street, house="7")
    child = registry_person(
        sex="M", born=dt.date(2019, 9, 1), street=street, house="7", mother=mother["pin"]
    )
    for person in (mother, child):
        fake_registry.add_person(person)
    with clock.frozen(STAGE1 + dt.timedelta(minutes=5)):
        parent = applicant_for_pin(pin=mother["pin"], actor=SYSTEM)
        assert parent.person is not None
        applicant_children_sync(applicant=parent.person, actor=SYSTEM)
        application = application_register(
            campaign=campaign,
            user=parent,
            child=Person.objects.get(pin=child["pin"]),
            school=School.objects.get(code="S-1"),
            language="ky",
            actor=Actor(user=parent),
        )
    assert application.pk


def test_reimport_of_the_same_file_changes_nothing(campaign: Campaign, before: Any) -> None:
    _import(campaign)
    events = QuotaEvent.objects.count()

    result = _import(campaign)

    assert result.quotas.counts()["unchanged"] == 2
    assert result.quotas.schools == {}
    assert QuotaEvent.objects.count() == events


def test_changed_class_sets_recompute_an_untouched_draft(campaign: Campaign, before: Any) -> None:
    _import(campaign)
    assert _sizes("S-1") == [42, 25]  # 44 children clamp to 42; 20 rise to 25

    data = small_catalog()
    data["class_sets"][0]["size"] = 30
    result = _import(campaign, data)

    assert result.quotas.schools == {"S-1": "recomputed"}
    assert result.quotas.unchanged == 1  # S-2's data did not change
    assert sorted(_sizes("S-1")) == [25, 30]
    event = QuotaEvent.objects.filter(quota__school__code="S-1").last()
    assert event is not None and event.kind == "recomputed"
    assert event.data["reason"] == "source_changed"
    assert event.data["school_changes_replaced"] is False


def test_changed_campaign_limits_recompute_drafts(campaign: Campaign, before: Any) -> None:
    _import(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(class_size_max=40)
    campaign.refresh_from_db()

    summary = quotas_compute_drafts(campaign=campaign, actor=CLI)

    assert summary.recomputed == 2
    assert _sizes("S-1") == [40, 25]


def test_a_directors_changes_survive_an_unchanged_import(campaign: Campaign, before: Any) -> None:
    _import(campaign)
    quota = Quota.objects.get(school__code="S-1")
    quota_change(quota=quota, operations=[QuotaOperation("add", seats=30)], actor=CLI)

    assert _import(campaign).quotas.schools == {}
    assert _sizes("S-1") == [42, 25, 30]

    # "Recompute drafts" replaces them, and the history says so.
    summary = quotas_compute_drafts(campaign=campaign, actor=CLI, recompute=True)
    assert summary.schools == {"S-1": "recomputed"} and summary.unchanged == 1
    assert _sizes("S-1") == [42, 25]
    event = QuotaEvent.objects.filter(quota=quota).last()
    assert event is not None and event.kind == "recomputed"
    assert event.data["reason"] == "recompute_requested"
    assert event.data["school_changes_replaced"] is True
    assert [c["seats"] for c in event.data["replaced"]] == [42, 25, 30]


def test_a_confirmed_quota_is_never_touched(campaign: Campaign, before: Any) -> None:
    _import(campaign)
    quota_confirm(quota=Quota.objects.get(school__code="S-1"), actor=CLI)
    data = small_catalog()
    data["class_sets"][0]["size"] = 30

    result = _import(campaign, data)
    forced = quotas_compute_drafts(campaign=campaign, actor=CLI, recompute=True)

    assert result.quotas.schools == {"S-1": "skipped_confirmed"}
    assert forced.skipped_confirmed == 1
    assert _sizes("S-1") == [42, 25]


def test_a_locked_quota_is_never_touched(campaign: Campaign, before: Any) -> None:
    _import(campaign)
    data = small_catalog()
    data["class_sets"][0]["size"] = 30
    with clock.frozen(campaign_quota_lock_at(campaign) + dt.timedelta(minutes=1)):
        result = _import(campaign, data)
        forced = quotas_compute_drafts(campaign=campaign, actor=CLI, recompute=True)

    assert result.quotas.schools == {"S-1": "skipped_locked", "S-2": "skipped_locked"}
    assert forced.skipped_locked == 2
    assert _sizes("S-1") == [42, 25]


def test_scope_by_district_and_non_participating_schools(campaign: Campaign, before: Any) -> None:
    data = small_catalog()
    data["schools"][1]["opted_in"] = False  # a private school that does not take part (§31)
    result = _import(campaign, data)
    assert result.quotas.schools == {"S-1": "computed"}
    assert not Quota.objects.filter(school__code="S-2").exists()

    other = School.objects.get(code="S-1").district
    Quota.objects.all().delete()
    summary = quotas_compute_drafts(campaign=campaign, actor=CLI, district=other)
    assert summary.computed == 1


def test_dry_run_reports_quotas_and_writes_nothing(campaign: Campaign, before: Any) -> None:
    result = _import(campaign, dry_run=True)

    assert result.dry_run
    assert result.report.counts["schools"].created == 2
    assert result.quotas.computed == 2
    assert sum(catalog_rows().values()) == 0
    assert not Quota.objects.exists() and not SeatPool.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_malformed_file_changes_nothing(campaign: Campaign, before: Any) -> None:
    data = small_catalog()
    data["class_sets"][3]["size"] = "many"

    with pytest.raises(CatalogImportError):
        _import(campaign, data)
    report = _import(campaign, data, dry_run=True).report

    assert [e.field for e in report.errors] == ["class_sets[3].size"]
    assert report.refused()["class_sets"] == 1
    assert sum(catalog_rows().values()) == 0
    assert not Quota.objects.exists() and not SeatPool.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_file_for_another_year_is_refused(campaign: Campaign, before: Any) -> None:
    data = small_catalog()
    data["academic_year"] = "2025-2026"
    with pytest.raises(CatalogImportError) as caught:
        _import(campaign, data)
    assert caught.value.code == "campaign_mismatch"
    assert not ExistingClassSet.objects.exists()


def test_the_command_computes_quotas(campaign: Campaign, tmp_path: Path, before: Any) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(small_catalog(), ensure_ascii=False), encoding="utf-8")
    out = StringIO()
    with translation.override("en"):
        call_command("import_catalog", str(path), stdout=out)
    assert "quotas: 2 computed, 0 recomputed" in out.getvalue()
    assert Quota.objects.count() == 2

    broken = tmp_path / "broken.json"
    data = small_catalog()
    data["schools"][0]["ownership"] = "church"
    broken.write_text(json.dumps(data), encoding="utf-8")
    Quota.objects.all().delete()
    before_rows = catalog_rows()
    with pytest.raises(CommandError):
        call_command("import_catalog", str(broken), stdout=StringIO())
    assert catalog_rows() == before_rows and not Quota.objects.exists()
    assert len(CATALOG_MODELS) == 9
