"""The catalog import service: check the whole file, then write it, in one transaction with
its audit record (§7)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.core.actors import Actor

from ..services import school_facts_touch
from .batches import chunks
from .checking import check
from .report import CatalogImportError, ImportReport
from .teachers import TeacherChecks, teachers_precheck
from .writing import write


def catalog_import(
    *,
    data: dict[str, Any],
    actor: Actor,
    campaign: Campaign | None = None,
    dry_run: bool = False,
    teacher_checks: TeacherChecks | None = None,
) -> ImportReport:
    """Load a catalog file (docs/data-formats.md) into the catalog.

    Raises ``CatalogImportError`` (a ``FieldError``) when any row is bad; nothing is written
    then. With ``dry_run`` the problems come back in ``report.errors`` instead, and a clean
    file is written and rolled back, so the counts say what a real import would do.

    §24: the registry check of the file's new teachers (``teachers_precheck``) is made first,
    outside the transaction; a caller that opens its own transaction around the import makes
    it before and passes ``teacher_checks``.
    """
    report = ImportReport(dry_run=dry_run)
    if teacher_checks is None:
        try:
            teacher_checks = teachers_precheck(data, actor=actor)
        except CatalogImportError as exc:
            if not dry_run:
                raise
            report.errors = list(exc.problems)
            return report
    with transaction.atomic():
        checked, problems = check(data, campaign)
        if problems:
            if dry_run:
                report.errors = problems
                return report
            raise CatalogImportError(problems)
        stale = write(checked, report, checks=teacher_checks, actor=actor)
        # The drafts for a school whose microdistrict or roster the file changed have their
        # facts decided again at submit (enrollment ADR 0029); the other drafts keep theirs.
        for chunk in chunks(sorted(stale)):
            school_facts_touch(list(chunk))
        audit_record(
            actor=actor,
            action="catalog.import",
            object_type="catalog",
            object_id=report.campaign,
            data=report.as_dict(),
        )
        if dry_run:
            transaction.set_rollback(True)
    return report
