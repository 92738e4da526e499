"""Exports of the admitted children: to Kundoluk, the school information system that takes
over after the campaign (§30), and the school's admission order. Format documented in
docs/data-formats.md ("kattoo-kundoluk/1")."""

from __future__ import annotations

from typing import Any

from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import School
from kattoo.enrollment.models import Application, Status

KUNDOLUK_FORMAT = "kattoo-kundoluk/1"
COLUMNS = [
    "application",
    "pin",
    "surname",
    "name",
    "patronymic",
    "sex",
    "birth_date",
    "language",
    "class",
    "route",
    "admitted_at",
]


def admitted_children(*, campaign: Campaign, school: School) -> list[dict[str, Any]]:
    """The school's admitted children in the order of admission (the admission order)."""
    rows = (
        Application.objects.filter(campaign=campaign, school=school, status=Status.ADMITTED)
        .select_related("child", "class_membership__formed_class")
        .order_by("status_changed_at", "position")
    )
    out = []
    for a in rows:
        membership = getattr(a, "class_membership", None)
        out.append(
            {
                "application": str(a.pk),
                "pin": a.child.pin,
                "surname": a.child.surname,
                "name": a.child.name,
                "patronymic": a.child.patronymic,
                "sex": a.child.sex,
                "birth_date": a.child.birth_date.isoformat(),
                "language": a.language,
                "class": f"1{membership.formed_class.letter}" if membership else "",
                "route": a.route,
                "admitted_at": a.status_changed_at.isoformat(),
            }
        )
    return out


def kundoluk_document(*, campaign: Campaign, school: School) -> dict[str, Any]:
    return {
        "format": KUNDOLUK_FORMAT,
        "academic_year": campaign.academic_year,
        "school": {"code": school.code, "name_ky": school.name_ky, "name_ru": school.name_ru},
        "children": admitted_children(campaign=campaign, school=school),
    }
