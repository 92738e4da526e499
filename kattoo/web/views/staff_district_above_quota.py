"""The district's check of special-order admissions (§17, §24): every above-quota admission of
its schools with its ground, and the changes its schools made to their frozen teacher rosters
after the quota lock (additions and removals, with the school's ground), which the district
approves or rejects."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kattoo.accounts.models import Role
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.models import AdditionStatus, RosterChangeKind, TeacherAddition
from kattoo.catalog.services import teacher_addition_decide
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment.above_quota import above_quota_rows

from ..access import staff_required
from ..forms_staff import AdditionDecisionForm
from .staff_common import personal_data_read, staff_actor, staff_user, violation_text

district_staff = staff_required(Role.DISTRICT)


@district_staff
def district_above_quota(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    campaign = campaign_active()
    rows = above_quota_rows(user, campaign)
    personal_data_read(request, "applications", obj=user.district, count=len(rows))
    additions = (
        TeacherAddition.objects.filter(school__district=user.district, campaign=campaign)
        .select_related("school", "decided_by")
        .order_by("status", "-requested_at")[:200]
    )
    pending = [a for a in additions if a.status == AdditionStatus.PENDING]
    decided = [a for a in additions if a.status != AdditionStatus.PENDING]
    return render(
        request,
        "staff/district/above_quota.html",
        {
            "rows": rows,
            "pending": pending,
            "decided": decided,
            "form": AdditionDecisionForm(),
        },
    )


def _decide(request: HttpRequest, addition_id: int, *, approve: bool) -> HttpResponse:
    user = staff_user(request)
    addition = get_object_or_404(
        TeacherAddition, pk=addition_id, school__district_id=user.district_id
    )
    form = AdditionDecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        teacher_addition_decide(
            addition=addition, officer=user, approve=approve, note=note, actor=staff_actor(request)
        )
    except FieldError as exc:
        messages.error(request, exc.message)
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
    else:
        if not approve:
            message = _("The change is rejected; the school sees the reason.")
        elif addition.kind == RosterChangeKind.REMOVE:
            message = _("The teacher leaves the roster.")
        else:
            message = _("The teacher joins the roster.")
        messages.success(request, message)
    return redirect("web:staff:district_above_quota")


@district_staff
@require_POST
def district_teacher_approve(request: HttpRequest, addition_id: int) -> HttpResponse:
    return _decide(request, addition_id, approve=True)


@district_staff
@require_POST
def district_teacher_reject(request: HttpRequest, addition_id: int) -> HttpResponse:
    return _decide(request, addition_id, approve=False)
