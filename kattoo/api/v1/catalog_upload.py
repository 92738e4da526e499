"""API v1: the catalog file of a campaign and its automatic quotas (§11, ADR 0017).

``POST /campaigns/{code}/catalog`` (ministry administrators and the technical operator):
a catalog file in the documented format (docs/data-formats.md), dry run or import; the quotas
of the schools whose data arrived are computed as drafts in the same transaction.
``POST /campaigns/{code}/quotas/compute`` (ministry administrators, district officers for
their own district): "recompute drafts". An unknown campaign, or a district outside the
officer's own, is 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from kattoo.accounts.models import Role, User
from kattoo.campaigns.models import Campaign
from kattoo.catalog.importing import CatalogImportError, ImportReport, catalog_file_read
from kattoo.catalog.models import District
from kattoo.core.errors import RuleViolation
from kattoo.quotas.automatic import (
    CatalogImportResult,
    QuotaSummary,
    catalog_import_with_quotas,
    quotas_compute_drafts,
)

from ..auth import bearer, current_user
from ..problems import problem
from .routes import PROBLEMS, actor_of

router = Router(tags=["catalog_upload"], auth=bearer)

UPLOADERS = frozenset({Role.MINISTRY_ADMIN, Role.OPERATOR})


class KindCountOut(Schema):
    created: int
    updated: int
    unchanged: int
    deleted: int


class QuotaSchoolOut(Schema):
    school: str
    outcome: str


class QuotaSummaryOut(Schema):
    computed: int
    recomputed: int
    unchanged: int
    skipped_confirmed: int
    skipped_locked: int
    schools: list[QuotaSchoolOut]


class ImportProblemOut(Schema):
    field: str
    code: str
    message: str
    line: int | None


class TeacherOutcomeOut(Schema):
    field: str
    line: int | None
    school: str
    outcome: str = Field(description="pending (waits for the district) or refused")
    code: str = Field(
        description="addition_pending, person_not_found, teacher_not_adult or not_checked"
    )
    message: str


class TeacherOutcomesOut(Schema):
    counts: dict[str, int] = Field(
        description="teacher rows by outcome: added, on_roster, pending, refused"
    )
    rows: list[TeacherOutcomeOut] = Field(
        description="§24: each teacher row that waits for the district or was refused"
    )


class CatalogReportOut(Schema):
    dry_run: bool
    campaign: str
    counts: dict[str, KindCountOut]
    refused: dict[str, int]
    teachers: TeacherOutcomesOut
    quotas: QuotaSummaryOut
    errors: list[ImportProblemOut]


class QuotaComputeIn(Schema):
    district: str | None = Field(None, description="SOATE code of a district (14 digits)")


class QuotaComputeOut(QuotaSummaryOut):
    campaign: str
    district: str | None


def _campaign(code: str) -> Campaign:
    campaign = Campaign.objects.filter(code=code).first()
    if campaign is None:
        raise Http404
    return campaign


def _require(user: User, roles: frozenset[str], detail: str) -> None:
    if user.role not in roles:
        raise RuleViolation("forbidden", detail=detail)


@router.post(
    "/campaigns/{code}/catalog",
    response={200: CatalogReportOut, **PROBLEMS},
    summary="Upload a catalog file: dry run or import; quotas follow (§11)",
)
def upload_catalog(
    request: HttpRequest,
    code: str,
    file: File[UploadedFile],
    dry_run: Form[bool] = False,
) -> Any:
    """The file's format comes from its name (.json, .csv) or its content. A dry run answers
    the report — with the problems of a bad file in ``errors`` — and writes nothing; an import
    of a bad file is refused whole (422 ``catalog_invalid``) and changes nothing."""
    user = current_user(request)
    _require(
        user,
        UPLOADERS,
        _("Only the ministry's administrators and the technical operator import the catalog."),
    )
    campaign = _campaign(code)
    limit = settings.KATTOO_CATALOG_UPLOAD_MAX_BYTES
    if file.size is None or file.size > limit:
        return problem(
            request,
            "catalog_too_large",
            detail=_("The catalog file is larger than %(mb)d MB.") % {"mb": limit // 2**20},
        )
    try:
        data = catalog_file_read(name=file.name or "", content=file.read())
        result = catalog_import_with_quotas(
            data=data, campaign=campaign, actor=actor_of(request), dry_run=dry_run
        )
    except CatalogImportError as exc:
        if not dry_run:
            return _refused(request, exc)
        # A file that cannot even be read: the dry run reports why.
        report = ImportReport(errors=list(exc.problems), campaign=campaign.code, dry_run=True)
        result = CatalogImportResult(report=report, quotas=QuotaSummary())
    return result.as_dict()


def _refused(request: HttpRequest, exc: CatalogImportError) -> HttpResponse:
    first = exc.problems[0]
    if first.code in ("registry_unavailable", "registry_rejected"):
        # §24: the teachers could not be checked; the file itself may be fine (503: retry).
        return problem(request, first.code, detail=str(first.message))
    errors = [
        {"field": p.field, "code": p.code, "message": str(p.message), "line": p.line}
        for p in exc.problems
    ]
    return problem(
        request,
        "catalog_invalid",
        detail=_("The file has %(n)d problems; the first: %(first)s")
        % {"n": len(errors), "first": exc.problems[0].describe()},
        errors=errors,  # type: ignore[arg-type]
    )


@router.post(
    "/campaigns/{code}/quotas/compute",
    response={200: QuotaComputeOut, **PROBLEMS},
    summary="Recompute the draft quotas not yet confirmed (§11)",
)
def compute_quotas(
    request: HttpRequest, code: str, payload: QuotaComputeIn | None = None
) -> dict[str, Any]:
    """The ministry: the whole country, or one district; a district officer: the own district
    only (another district is 404). Missing quotas are computed; drafts neither confirmed nor
    locked are recomputed (a director's changes are replaced and the history says so)."""
    user = current_user(request)
    _require(
        user,
        frozenset({Role.MINISTRY_ADMIN, Role.DISTRICT}),
        _("Only the ministry's administrators and district officers recompute quotas."),
    )
    campaign = _campaign(code)
    soate = payload.district if payload is not None else None
    district: District | None = None
    if soate:
        district = District.objects.filter(soate=soate).first()
        if district is None:
            raise Http404
    if user.role == Role.DISTRICT:
        if district is None:
            district = user.district
        if district is None or district.pk != user.district_id:
            raise Http404
    summary = quotas_compute_drafts(
        campaign=campaign, actor=actor_of(request), district=district, recompute=True
    )
    return {
        **summary.as_dict(),
        "campaign": campaign.code,
        "district": district.soate if district is not None else None,
    }
