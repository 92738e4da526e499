"""Quotas determined automatically (§11, ADR 0017): after a catalog import, and on the
ministry's or the district's "recompute drafts".

- A participating school (§31) without a quota gets a draft computed from its class-sets.
- A draft neither confirmed nor locked is recomputed when what it was computed from changed
  (its fingerprint, quotas.inputs); an unchanged one is left as the director made it.
- The explicit "recompute drafts" also recomputes drafts the director changed, and records
  that the school's changes were replaced.
- A confirmed quota, or one locked by the time (§17), is never touched.
Seat pools follow each computation (``quota_compute`` calls ``pools_sync``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import transaction

from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_quota_lock_at
from kattoo.catalog.importing import (
    CatalogImportError,
    ImportReport,
    catalog_import,
    teachers_precheck,
)
from kattoo.catalog.importing.batches import chunks, ids_by_key
from kattoo.catalog.models import District, School
from kattoo.catalog.selectors import schools_participating
from kattoo.core import clock
from kattoo.core.actors import Actor

from .inputs import existing_class_sets, quota_inputs_fingerprint
from .models import Quota, QuotaStatus
from .services import quota_compute, quota_director_changed

OUTCOMES = ("computed", "recomputed", "unchanged", "skipped_confirmed", "skipped_locked")


@dataclass(slots=True)
class QuotaSummary:
    """What a run did (or, in a dry run, would do) to the quotas of its scope."""

    computed: int = 0
    recomputed: int = 0
    unchanged: int = 0
    skipped_confirmed: int = 0
    skipped_locked: int = 0
    # school code -> outcome, for every school whose quota was computed, recomputed or skipped
    # (unchanged ones are only counted).
    schools: dict[str, str] = field(default_factory=dict)

    def add(self, code: str, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if outcome != "unchanged":
            self.schools[code] = outcome

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in OUTCOMES}

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.counts(),
            "schools": [{"school": code, "outcome": o} for code, o in sorted(self.schools.items())],
        }


def _scope_ids(school_ids: Iterable[int] | None, district: District | None) -> list[int]:
    participating = schools_participating()
    if district is not None:
        participating = participating.filter(district=district)
    if school_ids is None:
        return list(participating.order_by("code").values_list("pk", flat=True))
    found: list[int] = []
    for chunk in chunks(sorted(set(school_ids))):
        found.extend(participating.filter(pk__in=chunk).values_list("pk", flat=True))
    return found


@transaction.atomic
def quotas_compute_drafts(
    *,
    campaign: Campaign,
    actor: Actor,
    schools: Iterable[School] | None = None,
    district: District | None = None,
    recompute: bool = False,
) -> QuotaSummary:
    """Compute the missing quotas and bring the drafts of the scope up to date (see the module
    docstring); ``recompute`` is the explicit "recompute drafts" action. The scope is the
    participating schools (§31) of ``district`` (or of the country), narrowed to ``schools``
    when given. One audit record for the run, besides each quota's own history."""
    school_ids = None if schools is None else [s.pk for s in schools]
    ids = _scope_ids(school_ids, district)
    summary = QuotaSummary()
    codes: dict[int, str] = {}
    quotas: dict[int, Quota] = {}
    for chunk in chunks(ids):
        codes.update(School.objects.filter(pk__in=chunk).values_list("pk", "code"))
        # Locked first, so a director's confirmation cannot slip between the check and the
        # computation.
        for locked in (
            Quota.objects.select_for_update(no_key=True, of=("self",))
            .filter(campaign=campaign, school_id__in=chunk)
            .prefetch_related("class_sets")
        ):
            quotas[locked.school_id] = locked
    inputs = existing_class_sets(campaign=campaign, school_ids=quotas)
    locked_by_time = clock.now() >= campaign_quota_lock_at(campaign)
    for school_id in sorted(ids, key=lambda pk: codes[pk]):
        code, quota = codes[school_id], quotas.get(school_id)
        school = School(pk=school_id, code=code)
        if quota is None:
            quota_compute(school=school, campaign=campaign, actor=actor)
            summary.add(code, "computed")
        elif quota.status == QuotaStatus.CONFIRMED:
            summary.add(code, "skipped_confirmed")
        elif locked_by_time:
            summary.add(code, "skipped_locked")
        else:
            fingerprint = quota_inputs_fingerprint(
                existing=inputs.get(school_id, []), campaign=campaign
            )
            if fingerprint != quota.inputs_fingerprint:
                reason = "source_changed"
            elif recompute and quota_director_changed(quota):
                reason = "recompute_requested"
            else:
                summary.add(code, "unchanged")
                continue
            quota_compute(school=school, campaign=campaign, actor=actor, reason=reason)
            summary.add(code, "recomputed")
    audit_record(
        actor=actor,
        action="quota.compute_drafts",
        object_type="campaigns.campaign",
        object_id=str(campaign.pk),
        data={
            "campaign": campaign.code,
            "district": district.soate if district is not None else None,
            "schools": None if school_ids is None else len(school_ids),
            "recompute": recompute,
            **summary.counts(),
        },
    )
    return summary


@dataclass(slots=True)
class CatalogImportResult:
    """The import report and what happened to the quotas of the schools the file carried."""

    report: ImportReport
    quotas: QuotaSummary

    @property
    def dry_run(self) -> bool:
        return self.report.dry_run

    def as_dict(self) -> dict[str, Any]:
        report = self.report
        return {
            "dry_run": report.dry_run,
            "campaign": report.campaign,
            "counts": {kind: asdict(c) for kind, c in report.counts.items()},
            "refused": report.refused(),
            "teachers": report.teachers_as_dict(),
            "quotas": self.quotas.as_dict(),
            "errors": [
                {"field": e.field, "code": e.code, "message": e.message, "line": e.line}
                for e in report.errors
            ],
        }


def catalog_import_with_quotas(
    *,
    data: dict[str, Any],
    campaign: Campaign | None,
    actor: Actor,
    dry_run: bool = False,
) -> CatalogImportResult:
    """Import a catalog file and compute the quotas of the schools whose data arrived (§11),
    in one transaction: a refused file changes nothing, catalog or quotas.

    The quotas are those of ``campaign``; without one, of the campaign the file's class-sets
    name, else of the active campaign (none: the catalog alone is imported). Raises
    ``CatalogImportError`` for a bad file; with ``dry_run`` the problems come back in
    ``report.errors`` instead, and a clean file is written and rolled back, so the report and
    the quota counts say what a real import would do."""
    try:
        # §24: the registry check of new teachers, before the transaction.
        checks = teachers_precheck(data, actor=actor)
        with transaction.atomic():
            report = catalog_import(
                data=data, actor=actor, campaign=campaign, teacher_checks=checks
            )
            target = campaign or _campaign_of(report)
            summary = QuotaSummary()
            if target is not None and report.school_codes:
                ids = ids_by_key(School, "code", report.school_codes)
                summary = quotas_compute_drafts(
                    campaign=target,
                    actor=actor,
                    schools=[School(pk=pk, code=code) for code, pk in ids.items()],
                )
            report.campaign = report.campaign or (target.code if target is not None else "")
            if dry_run:
                transaction.set_rollback(True)
    except CatalogImportError as exc:
        if not dry_run:
            raise
        report = ImportReport(errors=list(exc.problems))
        report.campaign = campaign.code if campaign is not None else ""
        summary = QuotaSummary()
    report.dry_run = dry_run
    return CatalogImportResult(report=report, quotas=summary)


def _campaign_of(report: ImportReport) -> Campaign | None:
    if report.campaign:
        return Campaign.objects.filter(code=report.campaign).first()
    return Campaign.objects.filter(is_active=True).first()
