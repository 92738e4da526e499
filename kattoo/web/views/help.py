"""The help page: what a parent needs, the stages and dates of this campaign, answers to the
questions call centres hear most, and whom to call (issue 14: no dead ends)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..access import public
from .public import campaign_context


@public
def help_page(request: HttpRequest) -> HttpResponse:
    context = campaign_context()
    campaign = context.get("campaign")
    context.update(
        {
            "contact": settings.KATTOO_CONTACT,
            "appeal_days": campaign.appeal_due_working_days if campaign else 3,
        }
    )
    return render(request, "web/help.html", context)
