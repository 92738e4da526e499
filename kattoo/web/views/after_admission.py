"""After admission (§17, §18): the parent withdraws an admitted child (a warning first) and
answers the school's ПМПК proposal; the school proposes; the district transfers a child by a
commission decision and sees the proposals, their answers, transfers and withdrawals. Routes of
this module are in ``parent_patterns`` (web:) and ``patterns`` (web:staff:)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kattoo.accounts.models import Role, User
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.selectors import schools_participating, schools_visible_to
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment.after_admission import (
    application_transfer,
    application_withdraw,
    pmpk_proposal_answer,
    pmpk_proposals_visible_to,
    pmpk_propose,
    transfers_visible_to,
    withdrawals_visible_to,
)
from kattoo.enrollment.models import Application, PmpkAnswer, Status
from kattoo.enrollment.selectors import applications_visible_to

from ..access import applicant_required, staff_required
from ..forms_after_admission import PmpkAnswerForm, PmpkProposeForm, TransferForm, WithdrawForm
from ..problems import problem_of
from .staff_common import staff_actor, staff_user, violation_text


def _user(request: HttpRequest) -> User:
    user: Any = request.user
    return user


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=_user(request), channel="web", request_id=getattr(request, "request_id", ""))


def _application(request: HttpRequest, application_id: str) -> Application:
    visible = applications_visible_to(_user(request)).select_related(
        "campaign", "school", "child", "user"
    )
    return get_object_or_404(visible, pk=application_id)


# ---- the parent ------------------------------------------------------------------------------


@applicant_required
def withdraw_view(request: HttpRequest, application_id: str) -> HttpResponse:
    """A warning page first: the seat goes to the next child and cannot be taken back."""
    application = _application(request, application_id)
    form = WithdrawForm(request.POST or None)
    problem = None
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 422
        else:
            try:
                application_withdraw(
                    application=application,
                    user=_user(request),
                    reason=form.cleaned_data["reason"],
                    actor=_actor(request),
                )
            except RuleViolation as exc:
                problem, status = problem_of(exc), 409
            else:
                messages.success(
                    request, _("The child is withdrawn from the school and the seat is freed.")
                )
                return redirect("web:application", application_id=application.pk)
    return render(
        request,
        "web/withdraw.html",
        {
            "application": application,
            "form": form,
            "problem": problem,
            # Only an admission is withdrawn; a registration is cancelled (§20).
            "admitted": application.status == Status.ADMITTED,
        },
        status=status,
    )


@applicant_required
@require_POST
def pmpk_answer_view(request: HttpRequest, application_id: str) -> HttpResponse:
    application = _application(request, application_id)
    proposal = (
        pmpk_proposals_visible_to(_user(request))
        .filter(application=application, answer=PmpkAnswer.PENDING)
        .first()
    )
    form = PmpkAnswerForm(request.POST)
    if proposal is None or not form.is_valid():
        raise Http404
    agree = form.cleaned_data["answer"] == "agree"
    try:
        pmpk_proposal_answer(
            proposal=proposal, agree=agree, user=_user(request), actor=_actor(request)
        )
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
    else:
        messages.success(
            request,
            _("Your answer is recorded.") if not agree else _("Your agreement is recorded."),
        )
    return redirect("web:application", application_id=application.pk)


# ---- the school ------------------------------------------------------------------------------


@staff_required(Role.SCHOOL)
@require_POST
def pmpk_propose_view(request: HttpRequest, application_id: str) -> HttpResponse:
    application = _application(request, application_id)
    user = staff_user(request)
    if user.school_id != application.school_id:
        raise Http404
    form = PmpkProposeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what the school proposes."))
    else:
        try:
            pmpk_propose(
                application=application,
                kind=form.cleaned_data["kind"],
                note=form.cleaned_data["note"],
                actor=staff_actor(request),
            )
        except RuleViolation as exc:
            messages.error(request, violation_text(exc))
        else:
            messages.success(request, _("The proposal is sent to the parent by SMS."))
    return redirect("web:staff:school_application", application_id=application.pk)


# ---- the district ----------------------------------------------------------------------------


def _district_page(
    request: HttpRequest, form: TransferForm, *, problem: Any = None, status: int = 200
) -> HttpResponse:
    user = staff_user(request)
    return render(
        request,
        "staff/district/after_admission.html",
        {
            "form": form,
            "problem": problem,
            "transfers": list(transfers_visible_to(user).order_by("-recorded_at", "-pk")[:200]),
            "proposals": list(
                pmpk_proposals_visible_to(user).order_by("-proposed_at", "-pk")[:200]
            ),
            "withdrawals": list(
                withdrawals_visible_to(user)
                .prefetch_related("transitions")
                .order_by("-status_changed_at")[:200]
            ),
        },
        status=status,
    )


@staff_required(Role.DISTRICT)
def district_after_admission(request: HttpRequest) -> HttpResponse:
    """Transfers by commission decisions (§17), the schools' ПМПК proposals with the parents'
    answers (§18) and the families' withdrawals of admitted children."""
    user = staff_user(request)
    schools = schools_participating().filter(pk__in=schools_visible_to(user).values("pk"))
    form = TransferForm(request.POST or None, schools=schools.order_by("code"))
    if request.method != "POST":
        return _district_page(request, form)
    if not form.is_valid():
        return _district_page(request, form, status=422)
    data = form.cleaned_data
    application = (
        applications_visible_to(user)
        .filter(campaign=campaign_active(), child__pin=data["child_pin"], status=Status.ADMITTED)
        .select_related("school", "child", "user", "campaign")
        .first()
    )
    if application is None:
        form.add_error("child_pin", _("No admitted child with this PIN in the district."))
        return _district_page(request, form, status=422)
    try:
        record = application_transfer(
            application=application,
            officer=user,
            school=data["school"],
            language=data["language"],
            number=data["number"],
            decided_on=data["decided_on"],
            actor=staff_actor(request),
        )
    except RuleViolation as exc:
        return _district_page(request, form, problem=problem_of(exc), status=409)
    except FieldError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _district_page(request, form, status=422)
    if record.to_application.above_quota:
        text = _("The child is transferred above the quota by the decision (no free seat).")
    else:
        text = _("The child is transferred and takes a free seat.")
    messages.success(request, text)
    return redirect("web:staff:district_after_admission")


parent_patterns: list[URLPattern] = [
    path(
        "applications/<uuid:application_id>/withdraw/",
        withdraw_view,
        name="withdraw",
    ),
    path(
        "applications/<uuid:application_id>/pmpk-answer/",
        pmpk_answer_view,
        name="pmpk_answer",
    ),
]

patterns: list[URLPattern] = [
    path(
        "school/applications/<uuid:application_id>/pmpk/propose/",
        pmpk_propose_view,
        name="school_pmpk_propose",
    ),
    path(
        "district/after-admission/",
        district_after_admission,
        name="district_after_admission",
    ),
]
