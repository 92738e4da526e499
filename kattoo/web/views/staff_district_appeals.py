"""The district officer's appeal card (§17, §22): the child, the applicant, the registration,
the school's reason and the history, and the decisions — reinstate the registration, place the
child by a commission decision, reject with a reason. The inbox, the written answer and the
forwarding are ``staff_district``'s."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kattoo.accounts.models import Role
from kattoo.appeals.models import Appeal, AppealStatus
from kattoo.appeals.selectors import appeals_overdue, appeals_visible_to
from kattoo.appeals.services import appeal_reinstate, appeal_reject, refusal_of
from kattoo.catalog.selectors import schools_visible_to
from kattoo.commission.models import Ground
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment.models import Application, Status

from ..access import staff_required
from ..forms_staff import AppealAnswerForm, AppealReinstateForm, AppealRejectForm
from .staff_common import personal_data_read, staff_actor, staff_user, violation_text

district_staff = staff_required(Role.DISTRICT)


def _appeal(request: HttpRequest, appeal_id: int) -> Appeal:
    visible = appeals_visible_to(staff_user(request)).select_related(
        "user__person", "answered_by", "commission_decision"
    )
    return get_object_or_404(visible, pk=appeal_id)


def _card(
    request: HttpRequest,
    appeal: Appeal,
    *,
    reject_form: AppealRejectForm | None = None,
    reinstate_form: AppealReinstateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    application: Application | None = None
    if appeal.application_id is not None:
        application = (
            Application.objects.select_related("school", "child", "applicant", "user")
            .prefetch_related("transitions__actor")
            .get(pk=appeal.application_id)
        )
    refusal = refusal_of(application) if application is not None else None
    open_ = appeal.status != AppealStatus.ANSWERED
    refused = application is not None and application.status == Status.REFUSED
    if request.method == "GET":
        personal_data_read(request, "appeal", obj=appeal)
    return render(
        request,
        "staff/district/appeal.html",
        {
            "appeal": appeal,
            "overdue": appeals_overdue(Appeal.objects.filter(pk=appeal.pk)).exists(),
            "applicant": appeal.user.person,
            "application": application,
            "child": application.child if application else None,
            "refusal": refusal,
            "can": {
                "reinstate": open_ and refused,
                "commission": open_ and (application is None or not application.is_active),
                "reject": open_,
                "answer": open_,
                "forward": appeal.status == AppealStatus.OPEN,
            },
            "reinstate_form": reinstate_form or AppealReinstateForm(),
            "reject_form": reject_form or AppealRejectForm(),
            "answer_form": AppealAnswerForm(prefix=f"a{appeal.pk}"),
            "schools": schools_visible_to(staff_user(request)).order_by("code"),
        },
        status=status,
    )


@district_staff
def district_appeal(request: HttpRequest, appeal_id: int) -> HttpResponse:
    return _card(request, _appeal(request, appeal_id))


@district_staff
@require_POST
def district_appeal_reinstate(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """§17, §22: the refusal was unlawful; the registration is back, with its place."""
    appeal = _appeal(request, appeal_id)
    form = AppealReinstateForm(request.POST)
    if not form.is_valid():
        return _card(request, appeal, reinstate_form=form, status=422)
    try:
        application = appeal_reinstate(
            appeal=appeal, text=form.cleaned_data["text"], actor=staff_actor(request)
        )
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
        return redirect("web:staff:district_appeal", appeal_id=appeal.pk)
    messages.success(
        request,
        _(
            "Appeal № %(number)d: the registration is reinstated (place %(position)d); the "
            "applicant gets an SMS."
        )
        % {"number": appeal.pk, "position": application.position},
    )
    return redirect("web:staff:district_appeal", appeal_id=appeal.pk)


@district_staff
@require_POST
def district_appeal_reject(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = _appeal(request, appeal_id)
    form = AppealRejectForm(request.POST)
    if not form.is_valid():
        return _card(request, appeal, reject_form=form, status=422)
    try:
        appeal_reject(appeal=appeal, text=form.cleaned_data["text"], actor=staff_actor(request))
    except FieldError as exc:
        form.add_error("text", exc.message)
        return _card(request, appeal, reject_form=form, status=422)
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
        return redirect("web:staff:district_appeal", appeal_id=appeal.pk)
    messages.success(
        request,
        _("Appeal № %(number)d is rejected; the applicant gets an SMS with the reason.")
        % {"number": appeal.pk},
    )
    return redirect("web:staff:district_appeal", appeal_id=appeal.pk)


def commission_initial(appeal: Appeal) -> dict[str, Any]:
    """The commission placement form prefilled from the appeal: the child, the applicant, the
    refused registration's school and language."""
    initial: dict[str, Any] = {"appeal": appeal.pk, "ground": Ground.OTHER}
    application = appeal.application
    if application is not None:
        initial.update(
            child_pin=application.child.pin,
            applicant_pin=application.applicant.pin,
            school=application.school_id,
            language=application.language,
        )
    else:
        person = appeal.user.person
        if person is not None:
            initial["applicant_pin"] = person.pin
        if appeal.school_id is not None:
            initial["school"] = appeal.school_id
    return initial
