"""The district education office's pages (§9, §17, §22, §26): the district's schools and their
quotas, commission decisions, the appeals inbox and the schools' refusals."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.db import IntegrityError
from django.db.models import Case, IntegerField, Prefetch, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kattoo.accounts.models import Role
from kattoo.appeals.models import Appeal, AppealStatus
from kattoo.appeals.selectors import appeals_overdue, appeals_visible_to
from kattoo.appeals.services import appeal_answer, appeal_commission_place, appeal_forward
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.models import MicrodistrictAddress, School, SchoolVerification
from kattoo.catalog.selectors import schools_participating, schools_visible_to
from kattoo.catalog.services import school_verify
from kattoo.commission.models import CommissionDecision
from kattoo.commission.services import GROUND_REFUSALS, commission_place
from kattoo.core import clock
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment.models import ApplicationTransition, SeatPool, Status
from kattoo.enrollment.selectors import applications_visible_to
from kattoo.people.services import person_refresh
from kattoo.quotas.models import Quota
from kattoo.quotas.selectors import QuotaState, quota_abilities, quota_of, quota_state
from kattoo.quotas.services import quota_approve

from ..access import staff_required
from ..forms_catalog import QuotaRecomputeForm
from ..forms_staff import AppealAnswerForm, CommissionForm
from ..problems import problem_of
from .staff_common import (
    lock_context,
    personal_data_read,
    staff_actor,
    staff_user,
    violation_text,
)
from .staff_district_appeals import commission_initial
from .staff_district_commission import unregistered_child_of
from .staff_school import quota_history

district_staff = staff_required(Role.DISTRICT)


@district_staff
def district_schools(request: HttpRequest) -> HttpResponse:
    """Every school of the district with its quota state; who has not confirmed yet and will
    be confirmed automatically at the lock (§17)."""
    user = staff_user(request)
    campaign = campaign_active()
    lock = lock_context(campaign)
    schools = list(schools_visible_to(user).select_related("settlement").order_by("code"))
    quotas = {
        q.school_id: q
        for q in Quota.objects.filter(campaign=campaign, school__in=schools)
        .select_related("school", "campaign")
        .prefetch_related("class_sets")
    }
    rows = []
    for school in schools:
        quota = quotas.get(school.pk)
        state = quota_state(quota, lock_at=lock["lock_at"]) if quota else None
        rows.append(
            {
                "school": school,
                "quota": quota,
                "state": str(state) if state else "",
                "seats": sum(c.seats for c in quota.class_sets.all()) if quota else 0,
                "abilities": quota_abilities(user, quota, state)
                if quota and state
                else {"approve": False},
            }
        )
    return render(
        request,
        "staff/district/schools.html",
        {
            "district": user.district,
            "rows": rows,
            "unconfirmed": [r for r in rows if r["state"] == QuotaState.DRAFT or not r["quota"]],
            "counts": {
                "draft": sum(1 for r in rows if r["state"] == QuotaState.DRAFT),
                "confirmed": sum(1 for r in rows if r["state"] == QuotaState.CONFIRMED),
                "auto_confirmed": sum(1 for r in rows if r["state"] == QuotaState.AUTO_CONFIRMED),
                "approved": sum(1 for q in quotas.values() if q.approved_at),
            },
            "recompute_form": None
            if lock["locked_by_time"]
            else QuotaRecomputeForm(district=user.district, initial={"next": request.path}),
            **lock,
        },
    )


def _district_school(request: HttpRequest, school_id: int) -> School:
    return get_object_or_404(schools_visible_to(staff_user(request)), pk=school_id)


@district_staff
def district_school(request: HttpRequest, school_id: int) -> HttpResponse:
    """One school as the office verifies it: name, address, microdistrict, quota (§17)."""
    user = staff_user(request)
    school = _district_school(request, school_id)
    campaign = campaign_active()
    lock = lock_context(campaign)
    quota = quota_of(school.pk, campaign)
    state = quota_state(quota, lock_at=lock["lock_at"]) if quota else None
    return render(
        request,
        "staff/district/school.html",
        {
            "school": School.objects.select_related("district", "settlement").get(pk=school.pk),
            "participates": schools_participating().filter(pk=school.pk).exists(),
            "lines": MicrodistrictAddress.objects.filter(school=school)
            .select_related("street__settlement")
            .order_by("street__name_ky", "house_from"),
            "quota": quota,
            "state": str(state) if state else "",
            "class_sets": sorted(quota.class_sets.all(), key=lambda c: c.number) if quota else [],
            "history": quota_history(quota) if quota else [],
            "abilities": quota_abilities(user, quota, state) if quota and state else {},
            "pools": SeatPool.objects.filter(campaign=campaign, school=school).order_by("language"),
            "verification": SchoolVerification.objects.filter(school=school, campaign=campaign)
            .select_related("verified_by")
            .first(),
            **lock,
        },
    )


@district_staff
@require_POST
def district_school_verify(request: HttpRequest, school_id: int) -> HttpResponse:
    """§17: the officer confirms the school's name, address and microdistrict are right."""
    school = _district_school(request, school_id)
    school_verify(
        school=school,
        campaign=campaign_active(),
        note=request.POST.get("note", ""),
        actor=staff_actor(request),
    )
    messages.success(request, _("The school's name, address and microdistrict are verified."))
    return redirect("web:staff:district_school", school_id=school.pk)


@district_staff
@require_POST
def district_quota_approve(request: HttpRequest, school_id: int) -> HttpResponse:
    school = _district_school(request, school_id)
    quota = quota_of(school.pk, campaign_active())
    if quota is None:
        raise Http404
    if request.POST.get("confirm") != "on":  # §17: approved knowingly, never by a stray tap
        messages.error(request, _("Tick the confirmation to approve the quota."))
        return redirect("web:staff:district_school", school_id=school.pk)
    try:
        quota_approve(quota=quota, actor=staff_actor(request))
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
    else:
        messages.success(request, _("The quota of %(code)s is approved.") % {"code": school.code})
    if request.POST.get("back") == "school":
        return redirect("web:staff:district_school", school_id=school.pk)
    return redirect("web:staff:district")


# ---- commission decisions (§9, §26) ----------------------------------------------------------


def _commission_page(
    request: HttpRequest,
    form: CommissionForm,
    *,
    problem: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = staff_user(request)
    decisions = list(
        CommissionDecision.objects.filter(district=user.district, campaign=campaign_active())
        .select_related("school", "child", "application")
        .order_by("-recorded_at")[:100]
    )
    if request.method == "GET":  # the list as read; a decision posted is audited as written
        personal_data_read(request, "commission_decisions", obj=user.district, count=len(decisions))
    return render(
        request,
        "staff/district/commission.html",
        {"form": form, "decisions": decisions, "problem": problem},
        status=status,
    )


@district_staff
def district_commission(request: HttpRequest) -> HttpResponse:
    """Place a child by decision of the Commission on Children's Affairs — in a free seat, or
    above the quota by the decision when none is free."""
    user = staff_user(request)
    # §31: only schools that take part are offered (the service refuses any other).
    schools = schools_visible_to(user).filter(pk__in=schools_participating()).order_by("code")
    appeal = _appeal_of(request)
    initial = commission_initial(appeal) if appeal is not None else None
    form = CommissionForm(request.POST or None, schools=schools, initial=initial)
    if request.method != "POST":
        return _commission_page(request, form)
    if not form.is_valid():
        return _commission_page(request, form, status=422)
    data = form.cleaned_data
    actor = staff_actor(request)
    # §17: placed in answer to an appeal, the placement and the answer are one transaction.
    place: Any = commission_place
    if appeal is not None:
        place = functools.partial(appeal_commission_place, appeal=appeal)
    try:
        # Registry calls first, outside any transaction, as the API does.
        child = person_refresh(pin=data["child_pin"], actor=actor) if data["child_pin"] else None
        applicant = person_refresh(pin=data["applicant_pin"], actor=actor, applicant=True)
        decision = place(
            campaign=campaign_active(),
            officer=user,
            child=child,
            unregistered=None if child is not None else unregistered_child_of(data),
            applicant=applicant,
            school=data["school"],
            language=data["language"],
            number=data["number"],
            decided_on=data["decided_on"],
            ground=data["ground"],
            documents_checked=data["documents_checked"],
            actor=actor,
        )
    except RuleViolation as exc:
        if exc.code in GROUND_REFUSALS:
            # §9, §26: the ground does not fit the child's facts — said at the ground field.
            form.add_error("ground", exc.title)
            return _commission_page(request, form, status=409)
        return _commission_page(request, form, problem=problem_of(exc), status=409)
    except FieldError as exc:
        # A decision dated later than today — said at its field, as the transfer page does.
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _commission_page(request, form, status=422)
    except IntegrityError:
        # The database keeps decision numbers unique per district; the service does not say so.
        form.add_error("number", _("A decision with this number is already recorded."))
        return _commission_page(request, form, status=409)
    application = decision.application
    if application.above_quota:
        text = _("The decision is recorded: the child is placed above the quota (no free seat).")
    else:
        text = _("The decision is recorded: the child takes a free seat, place %(position)d.") % {
            "position": application.position
        }
    messages.success(request, text)
    if appeal is not None:
        messages.info(
            request,
            _("Appeal № %(number)d is answered; the applicant gets an SMS.")
            % {"number": appeal.pk},
        )
    if decision.temporary_id:
        messages.info(
            request,
            _(
                "The registry does not know the child yet: temporary identifier %(id)s. Link "
                "the child's PIN here once the registry has it."
            )
            % {"id": decision.temporary_id},
        )
    return redirect("web:staff:district_commission")


# ---- appeals (§17) ---------------------------------------------------------------------------


def _appeal_of(request: HttpRequest) -> Appeal | None:
    """The appeal a commission placement answers (``?appeal=`` or the form's hidden field), in
    the officer's scope and still open; else 404."""
    raw = request.POST.get("appeal") or request.GET.get("appeal") or ""
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 19):
        raise Http404
    return get_object_or_404(
        appeals_visible_to(staff_user(request))
        .exclude(status=AppealStatus.ANSWERED)
        .select_related("application__child", "application__applicant", "user__person"),
        pk=int(raw),
    )


@district_staff
def district_appeals(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    now = clock.now()
    visible = appeals_visible_to(user)
    overdue_ids = set(appeals_overdue(visible).values_list("pk", flat=True))
    appeals = (
        visible.select_related("user", "school", "answered_by")
        .annotate(
            order=Case(
                When(status=AppealStatus.ANSWERED, then=Value(2)),
                When(due_at__lt=now, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("order", "due_at", "pk")[:300]
    )
    rows = [
        {
            "appeal": a,
            "overdue": a.pk in overdue_ids,
            "form": AppealAnswerForm(prefix=f"a{a.pk}")
            if a.status != AppealStatus.ANSWERED
            else None,
        }
        for a in appeals
    ]
    if rows:
        personal_data_read(request, "appeals", count=len(rows))
    return render(
        request,
        "staff/district/appeals.html",
        {
            "rows": rows,
            "overdue": len(overdue_ids),
            "server_time": now,
            "due_days": campaign_active().appeal_due_working_days,
            "schools": schools_visible_to(user).order_by("code"),
        },
    )


@district_staff
@require_POST
def district_appeal_forward(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """§17: pass an appeal to the school that must act; the answer stays due by the same day."""
    user = staff_user(request)
    appeal = get_object_or_404(appeals_visible_to(user), pk=appeal_id)
    school_id = request.POST.get("school", "")
    schools = schools_visible_to(user)
    valid = school_id.isascii() and school_id.isdigit() and len(school_id) < 19
    school = schools.filter(pk=int(school_id)).first() if valid else None
    if school is None:
        messages.error(request, _("Choose a school of the district."))
        return redirect("web:staff:district_appeals")
    try:
        appeal_forward(appeal=appeal, school=school, note="", actor=staff_actor(request))
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
    else:
        messages.success(request, _("The appeal is forwarded to the school."))
    return redirect("web:staff:district_appeals")


@district_staff
@require_POST
def district_appeal_answer(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal: Appeal = get_object_or_404(appeals_visible_to(staff_user(request)), pk=appeal_id)
    form = AppealAnswerForm(request.POST, prefix=f"a{appeal.pk}")
    if not form.is_valid():
        messages.error(
            request,
            _("Appeal № %(number)d: the answer needs at least 5 characters.")
            % {"number": appeal.pk},
        )
        return redirect("web:staff:district_appeals")
    try:
        appeal_answer(appeal=appeal, text=form.cleaned_data["text"], actor=staff_actor(request))
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
    else:
        messages.success(
            request,
            _("Appeal № %(number)d is answered; the applicant gets an SMS.")
            % {"number": appeal.pk},
        )
    return redirect("web:staff:district_appeals")


# ---- refusals (§22) --------------------------------------------------------------------------


@district_staff
def district_refusals(request: HttpRequest) -> HttpResponse:
    """Every refusal made by the district's schools, with its stated reason."""
    refusals = ApplicationTransition.objects.filter(to_status=Status.REFUSED).select_related(
        "actor"
    )
    rows = list(
        applications_visible_to(staff_user(request))
        .filter(campaign=campaign_active(), status=Status.REFUSED)
        .prefetch_related(Prefetch("transitions", queryset=refusals, to_attr="refusals"))
        .order_by("-status_changed_at")[:500]
    )
    personal_data_read(request, "refusals", obj=staff_user(request).district, count=len(rows))
    return render(
        request,
        "staff/district/refusals.html",
        {
            "rows": [
                {"application": a, "refusal": a.refusals[0] if a.refusals else None} for a in rows
            ]
        },
    )
