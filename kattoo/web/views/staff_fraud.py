"""Fraud signals for district officers (and the ministry): a list to review, never a refusal.
Each signal says why (its numbers), links the registrations concerned in the officer's scope
and takes a review — legitimate or referred — that is audited (kattoo/fraud)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kattoo.accounts.models import Role
from kattoo.campaigns.selectors import campaign_active
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment.selectors import applications_visible_to
from kattoo.fraud.models import SignalKind
from kattoo.fraud.selectors import signal_visible, signals_visible_to, thresholds
from kattoo.fraud.services import signal_review

from ..access import staff_required
from ..forms_oversight import SignalReviewForm
from .staff_common import (
    form_errors_text,
    personal_data_read,
    staff_actor,
    staff_user,
    violation_text,
)

oversight_staff = staff_required(Role.DISTRICT, Role.MINISTRY_ANALYST, Role.MINISTRY_ADMIN)


@oversight_staff
def fraud_signals(request: HttpRequest) -> HttpResponse:
    campaign = campaign_active()
    signals = signals_visible_to(staff_user(request), campaign)
    groups = [
        {
            "kind": kind,
            "label": kind.label,
            "signals": [
                {
                    "signal": s,
                    "form": SignalReviewForm(
                        initial={
                            "kind": s.kind,
                            "key": s.key,
                            "status": s.review.status if s.review else None,
                            "note": s.review.note if s.review else "",
                        },
                        auto_id=f"s{i}_%s",
                    ),
                }
                for i, s in enumerate(signals)
                if s.kind == kind
            ],
        }
        for kind in SignalKind
    ]
    if signals:
        personal_data_read(request, "fraud_signals", count=len(signals))
    return render(
        request,
        "staff/fraud/signals.html",
        {"campaign": campaign, "groups": groups, "thresholds": thresholds()},
    )


@oversight_staff
@require_POST
def fraud_review(request: HttpRequest) -> HttpResponse:
    form = SignalReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("web:staff:fraud_signals")
    campaign = campaign_active()
    kind, key = form.cleaned_data["kind"], form.cleaned_data["key"]
    if signal_visible(staff_user(request), campaign, kind=kind, key=key) is None:
        raise Http404
    try:
        signal_review(
            campaign=campaign,
            kind=kind,
            key=key,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
            actor=staff_actor(request),
        )
    except FieldError as exc:
        messages.error(request, str(exc.message))
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
    else:
        messages.success(request, _("The review is recorded."))
    return redirect("web:staff:fraud_signals")


@oversight_staff
def fraud_application(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """A registration a signal points at, read-only, with its history; out of scope is 404."""
    application = (
        applications_visible_to(staff_user(request))
        .select_related("applicant", "school__district")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise Http404
    personal_data_read(request, "fraud_application", obj=application, school=application.school_id)
    return render(
        request,
        "staff/fraud/application.html",
        {
            "a": application,
            "transitions": application.transitions.select_related("actor"),
        },
    )
