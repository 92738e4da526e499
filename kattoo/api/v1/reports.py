"""Reports (RULES.md §9) for staff in their scope, and open data for everyone (aggregates
only, small cells suppressed)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from kattoo.audit.reads import audit_download
from kattoo.catalog.selectors import schools_visible_to
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment.models import Application, SeatPool
from kattoo.enrollment.selectors import applications_visible_to
from kattoo.reports.exports import rows_csv, rows_xlsx
from kattoo.reports.selectors import (
    DIMENSIONS,
    report_applications,
    report_campaign,
    report_seats,
    suppress_small_cells,
)

from ..auth import bearer, current_user
from .routes import PROBLEMS, actor_of

reports = Router(tags=["reports"])
COUNTS = ("registered", "admitted", "refused", "cancelled", "above_quota")


def _dimensions(by: str) -> list[str]:
    names = [d.strip() for d in by.split(",") if d.strip()]
    bad = [d for d in names if d not in DIMENSIONS]
    if bad or not names:
        raise FieldError(
            "by",
            "invalid_choice",
            _("Group by one or more of: %(names)s.") % {"names": ", ".join(DIMENSIONS)},
        )
    return names


def _scoped(
    request: HttpRequest, region: str | None, district: str | None, school: str | None
) -> tuple[Any, Any]:
    user = current_user(request)
    if user.role == "applicant":
        raise RuleViolation("forbidden")
    applications = applications_visible_to(user)
    pools = SeatPool.objects.filter(school__in=schools_visible_to(user))
    for field, value in (
        ("school__district__region__soate", region),
        ("school__district__soate", district),
        ("school__code", school),
    ):
        if value:
            applications = applications.filter(**{field: value})
            pools = pools.filter(**{field: value})
    return applications, pools


class ReportQuery(Schema):
    """Which aggregates: grouped ``by`` dimensions, narrowed to a region, district or school;
    of the active campaign, or of another one by its code (the archive stays readable)."""

    by: str = Field("district", max_length=200)
    campaign: str | None = Field(None, max_length=40, description="campaign code; default active")
    region: str | None = None
    district: str | None = None
    school: str | None = None


class FileQuery(ReportQuery):
    kind: str = Field("applications", pattern="^(applications|seats)$")


def _summary(request: HttpRequest, query: ReportQuery) -> dict[str, Any]:
    dims = _dimensions(query.by)
    applications, pools = _scoped(request, query.region, query.district, query.school)
    campaign = report_campaign(query.campaign)
    return {
        "campaign": campaign.code,
        "by": dims,
        "applications": report_applications(campaign=campaign, applications=applications, by=dims),
        "seats": report_seats(campaign=campaign, pools=pools, by=dims),
    }


@reports.get(
    "/reports/summary",
    auth=bearer,
    response={200: dict[str, Any], **PROBLEMS},
    summary="Aggregates in your scope (§9)",
)
def summary(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    return _summary(request, query)


def _file(request: HttpRequest, query: FileQuery, fmt: str) -> HttpResponse:
    data = _summary(request, query)
    kind = query.kind
    rows = data["applications"] if kind == "applications" else data["seats"]
    columns = data["by"] + (
        list(COUNTS) if kind == "applications" else ["quota_seats", "capacity", "taken", "free"]
    )
    name = f"kattoo-{kind}-{'-'.join(data['by'])}"
    audit_download(
        actor=actor_of(request),
        what="report",
        file_format=fmt,
        count=len(rows),
        filters={
            "kind": kind,
            "by": data["by"],
            "campaign": data["campaign"],
            "region": query.region,
            "district": query.district,
            "school": query.school,
        },
    )
    if fmt == "csv":
        response = HttpResponse(
            rows_csv(rows, columns, labelled=False), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(
            rows_xlsx(rows, columns, kind, labelled=False),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@reports.get(
    "/reports/summary.csv", auth=bearer, response={200: None, **PROBLEMS}, summary="Report as CSV"
)
def summary_csv(request: HttpRequest, query: Query[FileQuery]) -> HttpResponse:
    return _file(request, query, "csv")


@reports.get(
    "/reports/summary.xlsx", auth=bearer, response={200: None, **PROBLEMS}, summary="Report as XLSX"
)
def summary_xlsx(request: HttpRequest, query: Query[FileQuery]) -> HttpResponse:
    return _file(request, query, "xlsx")


@reports.get(
    "/open-data/summary",
    response={200: dict[str, Any], **PROBLEMS},
    summary="Open data: aggregates only, cells under 10 children withheld",
)
def open_data(
    request: HttpRequest,
    by: str = Query("region", max_length=200),
    campaign: str | None = Query(None, max_length=40, description="campaign code"),
) -> dict[str, Any]:
    chosen = report_campaign(campaign)
    dims = _dimensions(by)
    if "school" in dims and len(dims) > 2:
        raise FieldError("by", "too_fine", _("Too fine a grouping for open data."))
    rows = report_applications(campaign=chosen, applications=Application.objects.all(), by=dims)
    seats = report_seats(campaign=chosen, pools=SeatPool.objects.all(), by=dims)
    return {
        "campaign": chosen.code,
        "by": dims,
        "applications": suppress_small_cells(rows, COUNTS),
        "seats": seats,
        "suppressed_below": 10,
    }
