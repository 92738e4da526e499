"""Readiness dashboards (issue 11): the ministry sees the country per district (or one
district), a district officer its own schools; both see what still blocks the opening.
Routes of this module are in ``patterns``, added to web:staff."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from kattoo.accounts.models import Role
from kattoo.campaigns.selectors import campaign_by_code, campaigns_all
from kattoo.catalog.models import District, Language
from kattoo.catalog.selectors import localized_name
from kattoo.reports.readiness import (
    MINISTRY_ROLES,
    campaign_readiness,
    readiness_default_campaign,
    readiness_districts,
)

from ..access import staff_required
from .staff_common import staff_user


class ReadinessFilter(forms.Form):
    """Which campaign (and, for the ministry, which district): a GET form, no JavaScript."""

    def __init__(self, *, initial: dict[str, Any], districts: QuerySet[District] | None) -> None:
        super().__init__(initial=initial)
        self.fields["campaign"] = forms.ChoiceField(
            label=_("Campaign"),
            required=False,
            choices=[(c.code, str(c)) for c in campaigns_all()],
        )
        if districts is not None:
            self.fields["district"] = forms.ChoiceField(
                label=_("District"),
                required=False,
                choices=[("", _("The whole country"))]
                + [
                    (d.soate, f"{localized_name(d.region)} · {localized_name(d)}")
                    for d in districts.order_by("region__soate", "soate")
                ],
            )


@staff_required(*MINISTRY_ROLES, Role.DISTRICT)
def readiness(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    ministry = user.role in MINISTRY_ROLES
    code = request.GET.get("campaign", "")
    campaign = campaign_by_code(code) if code else readiness_default_campaign()
    if campaign is None:
        if code:
            raise Http404
        return render(request, "staff/readiness.html", {"result": None})
    district = None
    soate = request.GET.get("district", "") if ministry else ""
    if soate:
        district = readiness_districts(user).filter(soate=soate).first()
        if district is None:
            raise Http404
    result = campaign_readiness(campaign=campaign, user=user, district=district)
    form = ReadinessFilter(
        initial={"campaign": campaign.code, "district": soate},
        districts=readiness_districts(user) if ministry else None,
    )
    languages = [(code, label) for code, label in Language.choices if code in result.totals.seats]
    return render(
        request,
        "staff/readiness.html",
        {
            "form": form,
            "result": result,
            "campaign": campaign,
            "ministry": ministry,
            "languages": languages,
            "totals_seats": [result.totals.seats.get(c, 0) for c, _label in languages],
            "districts": [
                {"row": d, "seats": [d.counts.seats.get(c, 0) for c, _label in languages]}
                for d in result.districts
            ],
            "schools": [
                {"row": s, "seats": [s.seats.get(c, 0) for c, _label in languages]}
                for s in result.schools
            ],
        },
    )


patterns: list[URLPattern] = [
    path("readiness/", readiness, name="readiness"),
]
