"""Staff pages (issue 11). Routes of this module are in ``patterns``, added to web:staff.

The ministry's campaigns and working-day calendar (ADR 0016): analysts read, administrators
write (anyone else: 404). The pages parse input and call kattoo.campaigns; the rules are there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kattoo.accounts.models import Role
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import (
    calendar_year,
    campaign_by_code,
    campaign_editable,
    campaign_latest,
    campaign_quota_lock_at,
    campaign_stage,
    campaign_state,
    campaigns_all,
    campaigns_with_stage1_in,
)
from kattoo.campaigns.services import (
    calendar_year_set,
    campaign_copy_values,
    campaign_create,
    campaign_publish,
    campaign_settings,
    campaign_update,
)
from kattoo.campaigns.validation import FIRST_YEAR, LAST_YEAR, code_years
from kattoo.core import clock
from kattoo.core.errors import InvalidFields, RuleViolation

from ..access import staff_required
from ..forms_campaigns import WEEKDAYS, CalendarYearForm, CampaignForm
from ..problems import problem_of
from .staff_common import staff_actor, staff_user, violation_text

ministry_staff = staff_required(Role.MINISTRY_ANALYST, Role.MINISTRY_ADMIN)


def _admin(request: HttpRequest) -> bool:
    return staff_user(request).role == Role.MINISTRY_ADMIN


def _writer(request: HttpRequest) -> None:
    """Analysts read only: a write is a page that does not exist for them."""
    if not _admin(request):
        raise Http404


def _campaign(code: str) -> Campaign:
    campaign = campaign_by_code(code)
    if campaign is None:
        raise Http404
    return campaign


def _field_errors(form: Any, exc: InvalidFields) -> None:
    """The service's refusals beside their fields (or above the form)."""
    for error in exc.errors:
        form.add_error(error.field if error.field in form.fields else None, str(error.message))


def _row(campaign: Campaign) -> dict[str, Any]:
    return {
        "campaign": campaign,
        "state": str(campaign_state(campaign)),
        "stage": str(campaign_stage(campaign)),
        "lock_at": campaign_quota_lock_at(campaign),
        "editable": campaign_editable(campaign),
    }


@ministry_staff
def campaign_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "staff/ministry/campaigns.html",
        {
            "rows": [_row(c) for c in campaigns_all()],
            "can_create": _admin(request),
            "this_year": clock.today().year,
        },
    )


def _next_code(latest: Campaign | None) -> str:
    years = code_years(latest.code) if latest else None
    first = years[0] + 1 if years else clock.today().year + 1
    return f"{first}-{first + 1}"


@ministry_staff
def campaign_new(request: HttpRequest) -> HttpResponse:
    _writer(request)
    latest = campaign_latest()
    problem = None
    if request.method == "POST":
        form = CampaignForm(request.POST, with_code=True)
        if form.is_valid():
            copy_from = campaign_by_code(request.POST.get("copy_from", ""))
            try:
                campaign = campaign_create(
                    values=form.values(), copy_from=copy_from, actor=staff_actor(request)
                )
            except InvalidFields as exc:
                _field_errors(form, exc)
                problem = problem_of(exc)
            else:
                messages.success(
                    request,
                    _("Campaign %(code)s is created as a draft. Publish it when it is ready.")
                    % {"code": campaign.code},
                )
                return redirect("web:staff:ministry_campaign", code=campaign.code)
    else:
        code = _next_code(latest)
        initial = campaign_copy_values(latest, code) if latest else {}
        form = CampaignForm(
            initial={"code": code, **CampaignForm.initial_of(initial)}, with_code=True
        )
    return render(
        request,
        "staff/ministry/campaign_new.html",
        {"form": form, "copy_from": latest, "problem": problem},
        status=422 if problem or form.errors else 200,
    )


@ministry_staff
def campaign_detail(request: HttpRequest, code: str) -> HttpResponse:
    campaign = _campaign(code)
    admin = _admin(request)
    editable = campaign_editable(campaign)
    problem = None
    form = None
    if request.method == "POST":
        _writer(request)
        form = CampaignForm(request.POST)
        if form.is_valid():
            try:
                campaign_update(campaign=campaign, values=form.values(), actor=staff_actor(request))
            except InvalidFields as exc:
                _field_errors(form, exc)
                problem = problem_of(exc)
            except RuleViolation as exc:
                messages.error(request, violation_text(exc))
                return redirect("web:staff:ministry_campaign", code=campaign.code)
            else:
                messages.success(request, _("The campaign settings are saved."))
                return redirect("web:staff:ministry_campaign", code=campaign.code)
    elif admin and editable:
        form = CampaignForm(initial=CampaignForm.initial_of(campaign_settings(campaign)))
    return render(
        request,
        "staff/ministry/campaign.html",
        {
            **_row(campaign),
            "form": form,
            "problem": problem,
            "can_publish": admin and not campaign.is_active,
            "weekdays": [
                str(label) for value, label in WEEKDAYS if int(value) in campaign.weekend_days
            ],
            "stage1_year": campaign.stage1_starts_at.astimezone(clock.BISHKEK).year,
        },
        status=422 if form is not None and form.errors else 200,
    )


@ministry_staff
@require_POST
def campaign_publish_view(request: HttpRequest, code: str) -> HttpResponse:
    _writer(request)
    campaign = _campaign(code)
    try:
        campaign_publish(campaign=campaign, actor=staff_actor(request))
    except InvalidFields as exc:
        details = " ".join(str(e.message) for e in exc.errors)
        messages.error(request, f"{violation_text(exc)} {details}".strip())
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
    else:
        messages.success(
            request, _("Campaign %(code)s is now the current campaign.") % {"code": campaign.code}
        )
    return redirect("web:staff:ministry_campaign", code=campaign.code)


def _day_lists(year: int) -> dict[str, list[tuple[dt.date, str]]]:
    days = calendar_year(year)
    return {
        "holidays": [(d.date, _day_name(d)) for d in days if not d.is_working],
        "working_days": [(d.date, _day_name(d)) for d in days if d.is_working],
    }


def _day_name(day: Any) -> str:
    language = (get_language() or "en")[:2]
    return str(getattr(day, f"name_{language}", "") or day.name_en or day.name_ru or "")


@ministry_staff
def calendar_page(request: HttpRequest, year: int) -> HttpResponse:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404
    problem = None
    if request.method == "POST":
        _writer(request)
        form = CalendarYearForm(request.POST)
        if form.is_valid():
            holidays = form.cleaned_data["holidays"]
            working = form.cleaned_data["working_days"]
            names = {d: n for d, n in [*holidays, *working] if n}
            try:
                calendar_year_set(
                    year=year,
                    holidays=[d for d, _n in holidays],
                    working_days=[d for d, _n in working],
                    names=names,
                    actor=staff_actor(request),
                )
            except InvalidFields as exc:
                for error in exc.errors:
                    field = error.field if error.field in form.fields else "holidays"
                    form.add_error(field, str(error.message))
                problem = problem_of(exc)
            else:
                messages.success(request, _("The calendar of %(year)d is saved.") % {"year": year})
                return redirect("web:staff:ministry_calendar", year=year)
    else:
        form = CalendarYearForm(initial=_day_lists(year))
    days = calendar_year(year)
    return render(
        request,
        "staff/ministry/calendar.html",
        {
            "year": year,
            "form": form,
            "problem": problem,
            "days": [(d, _day_name(d)) for d in days],
            "campaigns": [(c, campaign_quota_lock_at(c)) for c in campaigns_with_stage1_in(year)],
            "can_edit": _admin(request),
            "previous_year": year - 1 if year > FIRST_YEAR else None,
            "next_year": year + 1 if year < LAST_YEAR else None,
        },
        status=422 if form.errors else 200,
    )


patterns: list[URLPattern] = [
    path("ministry/campaigns/", campaign_list, name="ministry_campaigns"),
    path("ministry/campaigns/new/", campaign_new, name="ministry_campaign_new"),
    path("ministry/campaigns/<slug:code>/", campaign_detail, name="ministry_campaign"),
    path(
        "ministry/campaigns/<slug:code>/publish/",
        campaign_publish_view,
        name="ministry_campaign_publish",
    ),
    path("ministry/calendar/<int:year>/", calendar_page, name="ministry_calendar"),
]
