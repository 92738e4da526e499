"""The ministry's pages (§6, §9, §14): a dashboard of the campaign drawn on the server, and
the reports as tables and files. Campaigns are set on their own pages (staff_campaigns)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Count
from django.db.models.functions import ExtractHour
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kattoo.accounts.models import Role
from kattoo.appeals.selectors import appeals_overdue, appeals_visible_to
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import District, Language, Region
from kattoo.catalog.selectors import localized_name, schools_visible_to
from kattoo.core.clock import BISHKEK
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import Route, SeatPool, Status
from kattoo.enrollment.selectors import applications_visible_to
from kattoo.people.models import Sex
from kattoo.quotas.models import Quota
from kattoo.quotas.selectors import QuotaState, quota_state
from kattoo.reports.exports import localized_places, rows_csv, rows_xlsx
from kattoo.reports.selectors import (
    report_applications,
    report_campaign,
    report_campaigns,
    report_seats,
)

from ..access import staff_required
from ..forms_staff import DIMENSION_LABELS, ReportForm
from ..svg import COLOURS, Bar, Segment, bar_chart, column_chart
from .staff_common import lock_context, personal_data_export, staff_user

ministry_staff = staff_required(Role.MINISTRY_ANALYST, Role.MINISTRY_ADMIN)
COUNTS = ("registered", "admitted", "refused", "cancelled", "above_quota")
SEAT_COUNTS = ("quota_seats", "capacity", "taken", "free")


def _opening_day_hours(request: HttpRequest, campaign: Campaign) -> list[tuple[str, int]]:
    """Registrations per hour (Asia/Bishkek) on the day stage 1 opens, from the opening hour."""
    opening = campaign.stage1_starts_at.astimezone(BISHKEK)
    day_start = opening.replace(hour=0, minute=0, second=0, microsecond=0)
    per_hour = dict(
        applications_visible_to(staff_user(request))
        .filter(
            campaign=campaign,
            created_at__gte=day_start,
            created_at__lt=day_start + dt.timedelta(days=1),
        )
        .annotate(hour=ExtractHour("created_at", tzinfo=BISHKEK))
        .values("hour")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("hour", "n")
    )
    return [(f"{h:02d}", per_hour.get(h, 0)) for h in range(opening.hour, 24)]


def _quota_counts(campaign: Campaign, lock_at: dt.datetime) -> dict[str, int]:
    counts: Counter[str] = Counter()
    quotas = Quota.objects.filter(campaign=campaign).only("status", "approved_at", "campaign_id")
    for quota in quotas.iterator(chunk_size=2000):
        counts[str(quota_state(quota, lock_at=lock_at))] += 1
        counts["approved"] += quota.approved_at is not None
    counts["total"] = sum(counts[s] for s in QuotaState)
    return dict(counts)


@ministry_staff
def ministry_dashboard(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    campaign = _chosen_campaign(request)
    lock = lock_context(campaign)
    hours = _opening_day_hours(request, campaign)
    pools = SeatPool.objects.filter(school__in=schools_visible_to(user))
    seats = report_seats(campaign=campaign, pools=pools, by=["region", "language"])
    # The reports group by the Russian name (one query); the chart speaks the page's language.
    regions = {r.name_ru: localized_name(r) for r in Region.objects.all()}
    bars = [
        Bar(
            label=f"{regions.get(row['region'], row['region'])} · "
            f"{Language(row['language']).label}",
            segments=[
                Segment(row["taken"], _("taken"), COLOURS[0]),
                Segment(row["free"], _("free"), COLOURS[2]),
            ],
            note=_("%(free)d free of %(capacity)d")
            % {"free": row["free"], "capacity": row["capacity"]},
        )
        for row in seats
    ]
    applications = applications_visible_to(user)
    by_region = report_applications(campaign=campaign, applications=applications, by=["region"])
    visible_appeals = appeals_visible_to(user).filter(campaign=campaign)
    overdue = appeals_overdue(visible_appeals).select_related("district", "school")
    opening_day = campaign.stage1_starts_at.astimezone(BISHKEK)
    return render(
        request,
        "staff/ministry/dashboard.html",
        {
            "campaign": campaign,
            "campaigns": _campaign_choices(campaign),
            "hours": hours,
            "hours_total": sum(n for _h, n in hours),
            "opening_day": opening_day,
            "hours_chart": column_chart(
                hours,
                title=_("Registrations per hour on %(day)s")
                % {"day": opening_day.strftime("%Y-%m-%d")},
                description=_("Hours in Asia/Bishkek time, from the opening."),
            ),
            "seats": [
                {
                    **row,
                    "region_name": regions.get(row["region"], row["region"]),
                    "language_name": Language(row["language"]).label,
                }
                for row in seats
            ],
            "seats_chart": bar_chart(
                bars,
                title=_("Seats by region and language"),
                description=_("Taken and free seats of first grades."),
            )
            if bars
            else None,
            "quotas": _quota_counts(campaign, lock["lock_at"]),
            "by_region": [
                {**row, "region_name": regions.get(row["region"], row["region"])}
                for row in by_region
            ],
            "refused": sum(row["refused"] for row in by_region),
            "registered": sum(row["registered"] + row["admitted"] for row in by_region),
            "overdue": list(overdue.order_by("due_at")[:50]),
            "overdue_count": overdue.count(),
            "open_appeals": visible_appeals.exclude(status="answered").count(),
            **lock,
        },
    )


def _chosen_campaign(request: HttpRequest) -> Campaign:
    """``?campaign=CODE`` reads a finished campaign's archive; by default the active one."""
    try:
        return report_campaign(request.GET.get("campaign") or None)
    except RuleViolation as exc:
        if exc.code == "not_found":
            raise Http404 from exc
        raise


def _campaign_choices(chosen: Campaign) -> list[dict[str, Any]]:
    return [
        # Two campaigns of one year may both read "2026–2027 окуу жылы": the code tells them apart.
        {"code": c.code, "label": f"{c.title} ({c.code})", "selected": c.pk == chosen.pk}
        for c in report_campaigns()
    ]


def _report(request: HttpRequest) -> tuple[ReportForm, list[str], list[dict[str, Any]], str]:
    user = staff_user(request)
    form = ReportForm(request.GET or None, initial={"by": ["region"], "kind": "applications"})
    campaign = _chosen_campaign(request)
    if not form.is_valid():
        return form, [], [], "applications"
    by: list[str] = form.cleaned_data["by"]
    kind: str = form.cleaned_data["kind"]
    if kind == "seats":
        pools = SeatPool.objects.filter(school__in=schools_visible_to(user))
        rows = report_seats(campaign=campaign, pools=pools, by=by)
        return form, [*by, *SEAT_COUNTS], rows, kind
    rows = report_applications(campaign=campaign, applications=applications_visible_to(user), by=by)
    return form, [*by, *COUNTS], rows, kind


COLUMN_LABELS = {
    **DIMENSION_LABELS,
    "registered": Status.REGISTERED.label,
    "admitted": Status.ADMITTED.label,
    "refused": Status.REFUSED.label,
    "cancelled": Status.CANCELLED.label,
}


def _column_label(name: str) -> str:
    extra = {
        "above_quota": _("above quota"),
        "quota_seats": _("quota seats"),
        "capacity": _("seats"),
        "taken": _("taken"),
        "free": _("free"),
    }
    return str(COLUMN_LABELS.get(name) or extra.get(name, name))


def _display(rows: list[dict[str, Any]], columns: list[str]) -> list[list[Any]]:
    """Codes and Russian catalog names as the page's language says them (files keep codes)."""
    names: dict[str, dict[Any, str]] = {
        "region": {r.name_ru: localized_name(r) for r in Region.objects.all()}
        if "region" in columns
        else {},
        "district": {d.name_ru: localized_name(d) for d in District.objects.all()}
        if "district" in columns
        else {},
        "language": {k: str(v) for k, v in Language.choices},
        "sex": {k: str(v) for k, v in Sex.choices},
        "route": {k: str(v) for k, v in Route.choices},
        "stage": {"stage1": _("stage 1"), "stage2": _("stage 2")},
    }
    return [[names.get(c, {}).get(row.get(c), row.get(c)) for c in columns] for row in rows]


def _reports_page(request: HttpRequest) -> HttpResponse:
    form, columns, rows, kind = _report(request)
    campaign = _chosen_campaign(request)
    return render(
        request,
        "staff/ministry/reports.html",
        {
            "form": form,
            "campaign": campaign,
            "campaigns": _campaign_choices(campaign),
            "columns": [(c, _column_label(c)) for c in columns],
            "rows": _display(rows, columns),
            "kind": kind,
            "query": request.GET.urlencode(),
        },
        status=422 if form.is_bound and not form.is_valid() else 200,
    )


@ministry_staff
def ministry_reports(request: HttpRequest) -> HttpResponse:
    return _reports_page(request)


def _report_file(request: HttpRequest, fmt: str) -> HttpResponse:
    form, columns, rows, kind = _report(request)
    if not columns:
        return _reports_page(request)
    # A file of the archive says its campaign; the active campaign's keeps its usual name.
    campaign = _chosen_campaign(request)
    archive = "" if campaign.is_active else f"{campaign.code}-"
    name = f"kattoo-{archive}{kind}-{'-'.join(form.cleaned_data['by'])}"
    personal_data_export(
        request,
        "report",
        fmt,
        obj=campaign,
        count=len(rows),
        filters={"kind": kind, "by": form.cleaned_data["by"]},
    )
    rows = localized_places(rows)  # as the page names them
    if fmt == "csv":
        response = HttpResponse(rows_csv(rows, columns), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            rows_xlsx(rows, columns, kind),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@ministry_staff
def ministry_report_csv(request: HttpRequest) -> HttpResponse:
    return _report_file(request, "csv")


@ministry_staff
def ministry_report_xlsx(request: HttpRequest) -> HttpResponse:
    return _report_file(request, "xlsx")
