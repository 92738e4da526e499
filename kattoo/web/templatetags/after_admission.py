"""The after-admission parts of the parent's and the school's application pages: what the
person may do now (``enrollment.after_admission``'s abilities) and the ПМПК proposals."""

from __future__ import annotations

from typing import Any

from django import template

from kattoo.enrollment.after_admission import (
    application_after_admission_abilities,
    pmpk_proposals_visible_to,
)
from kattoo.enrollment.models import Application

from ..forms_after_admission import PmpkProposeForm

register = template.Library()


def _context(user: Any, application: Application) -> dict[str, Any]:
    proposals = list(
        pmpk_proposals_visible_to(user).filter(application=application).order_by("-pk")
    )
    return {
        "application": application,
        "abilities": application_after_admission_abilities(user, application),
        "proposals": proposals,
        "pending": next((p for p in proposals if p.is_pending), None),
    }


@register.inclusion_tag("web/_after_admission.html", takes_context=True)
def parent_after_admission(context: Any, application: Application) -> dict[str, Any]:
    data = _context(context["user"], application)
    # The parent's page shows the one abilities object the API sends (enrollment.abilities).
    if context.get("abilities") is not None:
        data["abilities"] = context["abilities"]
    data["csrf_token"] = context.get("csrf_token")
    return data


@register.inclusion_tag("staff/school/_pmpk_proposals.html", takes_context=True)
def school_pmpk_proposals(context: Any, application: Application) -> dict[str, Any]:
    data = _context(context["user"], application)
    data["form"] = PmpkProposeForm()
    data["csrf_token"] = context.get("csrf_token")
    return data
