"""The catalog upload (ministry administrators, the technical operator) and "recompute draft
quotas" (ministry administrators, district officers for their own district): §11, ADR 0017.

Upload → the dry-run report (what would be added, changed, refused; the quotas that would be
computed) → "Import this file" imports the very bytes that were checked, kept server-side
under a random id bound to the session (``KATTOO_CATALOG_UPLOAD_DIR``) and removed after the
import. Routes of this module are in ``patterns``, added to web:staff.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kattoo.accounts.models import Role
from kattoo.campaigns.models import Campaign
from kattoo.catalog.importing import (
    KIND_LABELS,
    CatalogImportError,
    ImportReport,
    catalog_file_read,
)
from kattoo.catalog.models import District
from kattoo.quotas.automatic import (
    CatalogImportResult,
    QuotaSummary,
    catalog_import_with_quotas,
    quotas_compute_drafts,
)

from ..access import staff_required
from ..forms_catalog import CatalogUploadForm, QuotaRecomputeForm
from .staff_common import staff_actor, staff_user

catalog_staff = staff_required(Role.MINISTRY_ADMIN, Role.OPERATOR)
recompute_staff = staff_required(Role.MINISTRY_ADMIN, Role.DISTRICT)

_SESSION_KEY = "catalog_uploads"
_RESULT_KEY = "catalog_result"
# An upload not imported within a day is forgotten (its file removed at the next upload).
_KEEP_SECONDS = 24 * 3600
# The report page lists this many problems and schools; the counts cover all of them.
_SHOWN = 200


# -- the uploaded bytes, kept between the dry run and the import --------------------------------
def _upload_dir() -> Path:
    folder = Path(settings.KATTOO_CATALOG_UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _forget_stale(folder: Path) -> None:
    cutoff = time.time() - _KEEP_SECONDS
    for old in folder.glob("catalog-*.upload"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # another request removed it first


def _keep(request: HttpRequest, *, content: bytes, name: str, campaign: str) -> str:
    folder = _upload_dir()
    _forget_stale(folder)
    token = secrets.token_hex(16)
    (folder / f"catalog-{token}.upload").write_bytes(content)
    uploads = dict(request.session.get(_SESSION_KEY, {}))
    uploads[token] = {"name": name[:200], "campaign": campaign, "user": request.user.pk}
    request.session[_SESSION_KEY] = uploads
    return token


def _kept(request: HttpRequest, token: str) -> tuple[dict[str, Any], bytes, Campaign]:
    """The upload of this session and user; anything else is 404."""
    entry = request.session.get(_SESSION_KEY, {}).get(token)
    if not entry or entry.get("user") != request.user.pk:
        raise Http404
    try:
        content = (_upload_dir() / f"catalog-{token}.upload").read_bytes()
    except OSError as exc:
        raise Http404 from exc
    campaign = Campaign.objects.filter(code=entry["campaign"]).first()
    if campaign is None:
        raise Http404
    return entry, content, campaign


def _drop(request: HttpRequest, token: str) -> None:
    uploads = dict(request.session.get(_SESSION_KEY, {}))
    uploads.pop(token, None)
    request.session[_SESSION_KEY] = uploads
    (_upload_dir() / f"catalog-{token}.upload").unlink(missing_ok=True)


# -- what the pages show ------------------------------------------------------------------------
def _run(content: bytes, name: str, campaign: Campaign, request: HttpRequest, *, dry_run: bool):
    try:
        data = catalog_file_read(name=name, content=content)
    except CatalogImportError as exc:
        report = ImportReport(errors=list(exc.problems), campaign=campaign.code, dry_run=dry_run)
        return CatalogImportResult(report=report, quotas=QuotaSummary())
    return catalog_import_with_quotas(
        data=data, campaign=campaign, actor=staff_actor(request), dry_run=dry_run
    )


def _teacher_context(counts: dict[str, int], rows: Sequence[Any], total: int) -> dict[str, Any]:
    """§24: what became of the teacher rows — the rows that wait for the district or were
    refused by the registry check, one by one."""
    return {
        "teacher_counts": counts if any(counts.values()) else None,
        "teacher_rows": rows[:_SHOWN],
        "teacher_rows_more": max(0, total - _SHOWN),
    }


def _report_context(result: CatalogImportResult) -> dict[str, Any]:
    report = result.report
    refused = report.refused()
    kinds = [
        {
            "label": KIND_LABELS[kind],
            "created": count.created,
            "updated": count.updated,
            "unchanged": count.unchanged,
            "deleted": count.deleted,
            "refused": refused.get(kind, 0),
        }
        for kind, count in report.counts.items()
    ]
    schools = sorted(result.quotas.schools.items())
    return {
        **_teacher_context(report.teacher_counts, report.teachers, len(report.teachers)),
        "kinds": kinds,
        "errors": report.errors[:_SHOWN],
        "errors_more": max(0, len(report.errors) - _SHOWN),
        "quotas": result.quotas.counts(),
        "quota_schools": schools[:_SHOWN],
        "quota_schools_more": max(0, len(schools) - _SHOWN),
    }


@catalog_staff
def catalog_upload(request: HttpRequest) -> HttpResponse:
    """Pick the campaign and the file; the upload leads to its dry run."""
    user = staff_user(request)
    if request.method == "POST":
        form = CatalogUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            token = _keep(
                request,
                content=upload.read(),
                name=upload.name or "",
                campaign=form.cleaned_data["campaign"],
            )
            return redirect("web:staff:catalog_check", token=token)
        status = 422
    else:
        form, status = CatalogUploadForm(), 200
    context = {
        "form": form,
        "max_mb": settings.KATTOO_CATALOG_UPLOAD_MAX_BYTES // 2**20,
        "recompute_form": QuotaRecomputeForm(initial={"next": request.path})
        if user.role == Role.MINISTRY_ADMIN
        else None,
    }
    return render(request, "staff/catalog.html", context, status=status)


@catalog_staff
def catalog_check(request: HttpRequest, token: str) -> HttpResponse:
    """The dry run of the kept file: nothing is written."""
    entry, content, campaign = _kept(request, token)
    result = _run(content, entry["name"], campaign, request, dry_run=True)
    return render(
        request,
        "staff/catalog_check.html",
        {
            "token": token,
            "name": entry["name"],
            "campaign": campaign,
            "refused": bool(result.report.errors),
            **_report_context(result),
        },
    )


@catalog_staff
@require_POST
def catalog_import(request: HttpRequest, token: str) -> HttpResponse:
    """Import the file that was checked; the quotas of its schools follow (§11)."""
    entry, content, campaign = _kept(request, token)
    try:
        result = _run(content, entry["name"], campaign, request, dry_run=False)
    except CatalogImportError:
        result = None  # the catalog changed since the dry run: its page shows why
    if result is None or result.report.errors:
        messages.error(request, _("The catalog file was not imported; nothing was changed."))
        return redirect("web:staff:catalog_check", token=token)
    _drop(request, token)
    summary = result.as_dict()
    summary["quotas"]["schools"] = summary["quotas"]["schools"][:_SHOWN]  # a session is small
    request.session[_RESULT_KEY] = {
        "name": entry["name"],
        "campaign": campaign.code,
        "counts": summary["counts"],
        "quotas": summary["quotas"],
        "quota_schools_total": len(result.quotas.schools),
        "teachers": {
            "counts": summary["teachers"]["counts"],
            "rows": summary["teachers"]["rows"][:_SHOWN],
            "total": len(result.report.teachers),
        },
    }
    messages.success(request, _("The catalog file was imported."))
    return redirect("web:staff:catalog_result")


@catalog_staff
def catalog_result(request: HttpRequest) -> HttpResponse:
    """What the last import of this session did."""
    result = request.session.get(_RESULT_KEY)
    if not result:
        return redirect("web:staff:catalog")
    kinds = [
        {"label": KIND_LABELS[kind], **counts}
        for kind, counts in result["counts"].items()
        if kind in KIND_LABELS
    ]
    schools = result["quotas"]["schools"]
    teachers = result.get("teachers", {})
    return render(
        request,
        "staff/catalog_result.html",
        {
            "name": result["name"],
            "campaign": result["campaign"],
            "kinds": kinds,
            "quotas": {k: v for k, v in result["quotas"].items() if k != "schools"},
            "quota_schools": [(s["school"], s["outcome"]) for s in schools],
            "quota_schools_more": max(0, result["quota_schools_total"] - len(schools)),
            **_teacher_context(
                teachers.get("counts", {}), teachers.get("rows", []), teachers.get("total", 0)
            ),
        },
    )


# -- recompute draft quotas ---------------------------------------------------------------------
@recompute_staff
@require_POST
def quotas_recompute(request: HttpRequest) -> HttpResponse:
    """The ministry: the country or one district; a district officer: its own district only
    (another district is 404)."""
    user = staff_user(request)
    own = user.district if user.role == Role.DISTRICT else None
    if user.role == Role.DISTRICT and own is None:
        raise Http404
    form = QuotaRecomputeForm(request.POST, district=own)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = ""
    back = back or (
        reverse("web:staff:district")
        if user.role == Role.DISTRICT
        else reverse("web:staff:catalog")
    )
    if not form.is_valid():
        if user.role == Role.DISTRICT and "district" in form.errors:
            raise Http404
        messages.error(request, _("Choose a campaign and a district."))
        return redirect(back)
    campaign = Campaign.objects.filter(code=form.cleaned_data["campaign"]).first()
    if campaign is None:
        raise Http404
    soate = form.cleaned_data["district"]
    district = District.objects.filter(soate=soate).first() if soate else own
    summary = quotas_compute_drafts(
        campaign=campaign, actor=staff_actor(request), district=district, recompute=True
    )
    messages.success(
        request,
        _(
            "Draft quotas of %(campaign)s: %(computed)d computed, %(recomputed)d recomputed, "
            "%(unchanged)d unchanged; not touched: %(skipped_confirmed)d confirmed by the "
            "school, %(skipped_locked)d locked."
        )
        % {"campaign": campaign.code, **summary.counts()},
    )
    return redirect(back)


patterns: list[URLPattern] = [
    path("catalog/", catalog_upload, name="catalog"),
    path("catalog/check/<slug:token>/", catalog_check, name="catalog_check"),
    path("catalog/check/<slug:token>/import/", catalog_import, name="catalog_import"),
    path("catalog/result/", catalog_result, name="catalog_result"),
    path("quotas/recompute/", quotas_recompute, name="quotas_recompute"),
]
