"""§17: the district checks every special-order admission — the above-quota registrations and
admissions of its schools (teachers' children §24, co-twins §25, commission decisions §9, §26)
— each with the ground it rests on."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _

from kattoo.accounts.models import User
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import Teacher

from .models import ACTIVE_STATUSES, Application, Route
from .selectors import applications_visible_to

LIST_LIMIT = 1000


@dataclass(slots=True)
class AboveQuotaRow:
    application: Application
    ground: str  # the route's label: teacher, twin, commission
    detail: str  # what the ground rests on


def _detail(application: Application, teachers: dict[tuple[int, str], Teacher]) -> str:
    if application.route == Route.TEACHER:
        child = application.child
        for pin in (application.applicant.pin, child.mother_pin, child.father_pin):
            teacher = teachers.get((application.school_id, pin))
            if teacher is not None:
                return _("teacher %(name)s, on the roster since %(date)s") % {
                    "name": teacher.full_name,
                    "date": teacher.added_at.date().isoformat(),
                }
        return _("no teacher of this school on the roster now")
    if application.route == Route.COMMISSION:
        decision = getattr(application, "commission_decision", None)
        if decision is not None:
            return _("decision No. %(number)s of %(date)s") % {
                "number": decision.number,
                "date": decision.decided_on.isoformat(),
            }
    return ""


def above_quota_rows(user: User, campaign: Campaign) -> list[AboveQuotaRow]:
    """Every active above-quota registration or admission in the user's scope, with its ground.
    Three queries whatever the number of rows."""
    applications = list(
        applications_visible_to(user)
        .filter(campaign=campaign, above_quota=True, status__in=ACTIVE_STATUSES)
        .select_related("applicant", "commission_decision")
        .order_by("school__code", "created_at")[:LIST_LIMIT]
    )
    pins: dict[int, set[str]] = defaultdict(set)
    for a in applications:
        if a.route == Route.TEACHER:
            pins[a.school_id] |= {
                p for p in (a.applicant.pin, a.child.mother_pin, a.child.father_pin) if p
            }
    teachers = {
        (t.school_id, t.pin): t
        for t in Teacher.objects.filter(
            school_id__in=list(pins), pin__in={p for group in pins.values() for p in group}
        )
    }
    return [AboveQuotaRow(a, a.get_route_display(), _detail(a, teachers)) for a in applications]
