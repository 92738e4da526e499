"""The school's registered children (§18, §21, §22, §23): counts and free seats per language,
admission and refusal, medical certificates, document requests, guardian acts, ПМПК."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kattoo.accounts.models import Role
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.models import Language
from kattoo.commission.models import CommissionDecision
from kattoo.core import clock
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import (
    Application,
    ApplicationTransition,
    DocumentKind,
    PmpkOutcome,
    PmpkReferral,
    SeatPool,
    Status,
)
from kattoo.enrollment.schoolwork import (
    application_document_record,
    application_documents_request,
    pmpk_outcome_record,
    pmpk_refer,
)
from kattoo.enrollment.selectors import application_staff_abilities, applications_visible_to
from kattoo.enrollment.services import application_admit, application_refuse
from kattoo.people.models import ActStatus, GuardianAct
from kattoo.people.services import guardian_act_review

from ..access import staff_required
from ..forms_staff import (
    DocumentForm,
    DocumentsRequestForm,
    PmpkOutcomeForm,
    PmpkReferForm,
    RefuseForm,
)
from ..problems import problem_of
from .documents import act_file_format, guardian_act_response
from .staff_common import (
    personal_data_export,
    personal_data_read,
    staff_actor,
    staff_user,
    violation_text,
)

school_staff = staff_required(Role.SCHOOL)
CERTIFICATES = len(DocumentKind.choices)


@school_staff
def school_children(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    campaign = campaign_active()
    mine = applications_visible_to(user).filter(campaign=campaign)
    pools = list(
        SeatPool.objects.filter(campaign=campaign, school=user.school).order_by("language")
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in mine.values("language", "status").annotate(n=Count("id")).order_by():
        counts[row["language"]][row["status"]] = row["n"]
    languages = [
        {
            "code": p.language,
            "label": Language(p.language).label,
            "pool": p,
            "registered": counts[p.language][Status.REGISTERED],
            "admitted": counts[p.language][Status.ADMITTED],
            "refused": counts[p.language][Status.REFUSED],
            "cancelled": counts[p.language][Status.CANCELLED],
        }
        for p in pools
    ]
    status = request.GET.get("status", "active")
    language = request.GET.get("language", "")
    rows = mine.prefetch_related("documents").order_by("language", "position")
    if status == "active":
        rows = rows.filter(status__in=[Status.REGISTERED, Status.ADMITTED])
    elif status in Status.values:
        rows = rows.filter(status=status)
    if language in Language.values:
        rows = rows.filter(language=language)
    items = []
    for application in rows[:1000]:
        kinds = {d.kind for d in application.documents.all()}
        items.append(
            {
                "application": application,
                "abilities": application_staff_abilities(user, application),
                "certificates": len(kinds),
                "certificates_missing": application.status == Status.ADMITTED
                and len(kinds) < CERTIFICATES,
            }
        )
    personal_data_read(
        request,
        "applications",
        obj=user.school,
        school=user.school_id,
        count=len(items),
        filters={"status": status, "language": language},
    )
    return render(
        request,
        "staff/school/children.html",
        {
            "school": user.school,
            "campaign": campaign,
            "languages": languages,
            "items": items,
            "status": status,
            "language": language,
            "statuses": Status.choices,
            "language_choices": [(p.language, Language(p.language).label) for p in pools],
            "certificates_total": CERTIFICATES,
        },
    )


def _application(request: HttpRequest, application_id: str) -> Application:
    """An application of the user's own school, or 404."""
    visible = (
        applications_visible_to(staff_user(request))
        .select_related("campaign", "applicant", "user")
        .prefetch_related(
            "documents",
            "document_requests",
            Prefetch("transitions", queryset=ApplicationTransition.objects.order_by("at", "pk")),
        )
    )
    return get_object_or_404(visible, pk=application_id)


def _application_page(
    request: HttpRequest,
    application: Application,
    *,
    bound: dict[str, forms.Form] | None = None,
    problem: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = staff_user(request)
    campaign = application.campaign
    pmpk = PmpkReferral.objects.filter(application=application).first()
    acts = list(
        GuardianAct.objects.filter(
            link__applicant_id=application.applicant_id, link__child_id=application.child_id
        ).order_by("-uploaded_at")
    )
    documents = {d.kind: d for d in application.documents.all()}
    abilities = application_staff_abilities(user, application)
    abilities.update(
        request_documents=application.status in (Status.REGISTERED, Status.ADMITTED)
        and clock.today() <= campaign.documents_request_until,
        pmpk_refer=application.status == Status.ADMITTED and pmpk is None,
        pmpk_outcome=pmpk is not None and pmpk.outcome == PmpkOutcome.PENDING,
        review_act=any(a.status == ActStatus.PENDING for a in acts),
    )
    forms_on_page: dict[str, forms.Form] = {
        "refuse": RefuseForm(),
        "document": DocumentForm(initial={"received_on": clock.today()}),
        "request": DocumentsRequestForm(),
        "pmpk": PmpkReferForm(),
        "pmpk_outcome": PmpkOutcomeForm(),
    }
    forms_on_page.update(bound or {})
    return render(
        request,
        "staff/school/application.html",
        {
            "application": application,
            "campaign": campaign,
            "child": application.child,
            "abilities": abilities,
            "certificates": [
                (kind, label, documents.get(kind)) for kind, label in DocumentKind.choices
            ],
            "pmpk": pmpk,
            "acts": acts,
            "decision": CommissionDecision.objects.filter(application=application).first(),
            "forms": forms_on_page,
            "problem": problem,
        },
        status=status,
    )


@school_staff
def school_application(request: HttpRequest, application_id: str) -> HttpResponse:
    application = _application(request, application_id)
    personal_data_read(request, "application", obj=application, school=application.school_id)
    return _application_page(request, application)


def _act(
    request: HttpRequest,
    application_id: str,
    *,
    form_class: type[forms.Form] | None,
    key: str,
    do: Callable[[Application, dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """One school act on an application: parse the form, call the service, say what happened.
    The same page comes back with the errors or the domain's refusal."""
    application = _application(request, application_id)
    if staff_user(request).school_id != application.school_id:
        raise Http404
    data: dict[str, Any] = {}
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            return _application_page(request, application, bound={key: form}, status=422)
        data = form.cleaned_data
    try:
        do(application, data)
    except RuleViolation as exc:
        return _application_page(request, application, problem=problem_of(exc), status=409)
    messages.success(request, done)
    if request.POST.get("back") == "children":
        return redirect("web:staff:school_children")
    return redirect("web:staff:school_application", application_id=application.pk)


@school_staff
@require_POST
def application_admit_view(request: HttpRequest, application_id: str) -> HttpResponse:
    return _act(
        request,
        application_id,
        form_class=None,
        key="admit",
        do=lambda a, _d: application_admit(application=a, actor=staff_actor(request)),
        done=_("The child is admitted; the applicant gets the notice by SMS."),
    )


@school_staff
@require_POST
def application_refuse_view(request: HttpRequest, application_id: str) -> HttpResponse:
    def refuse(application: Application, data: dict[str, Any]) -> object:
        return application_refuse(
            application=application,
            reason_code=data["reason"],
            reason=data["text"],
            actor=staff_actor(request),
        )

    return _act(
        request,
        application_id,
        form_class=RefuseForm,
        key="refuse",
        do=refuse,
        done=_("The registration is refused; the seat is free again and the district sees it."),
    )


@school_staff
@require_POST
def application_document_view(request: HttpRequest, application_id: str) -> HttpResponse:
    return _act(
        request,
        application_id,
        form_class=DocumentForm,
        key="document",
        do=lambda a, d: application_document_record(
            application=a, kind=d["kind"], received_on=d["received_on"], actor=staff_actor(request)
        ),
        done=_("The certificate is recorded as received."),
    )


@school_staff
@require_POST
def application_request_view(request: HttpRequest, application_id: str) -> HttpResponse:
    return _act(
        request,
        application_id,
        form_class=DocumentsRequestForm,
        key="request",
        do=lambda a, d: application_documents_request(
            application=a, text=d["text"], actor=staff_actor(request)
        ),
        done=_("The request is sent to the applicant."),
    )


@school_staff
@require_POST
def application_pmpk_view(request: HttpRequest, application_id: str) -> HttpResponse:
    return _act(
        request,
        application_id,
        form_class=PmpkReferForm,
        key="pmpk",
        do=lambda a, d: pmpk_refer(application=a, note=d["note"], actor=staff_actor(request)),
        done=_("The referral to the ПМПК is recorded."),
    )


@school_staff
@require_POST
def application_pmpk_outcome_view(request: HttpRequest, application_id: str) -> HttpResponse:
    def outcome(application: Application, data: dict[str, Any]) -> object:
        referral = PmpkReferral.objects.filter(application=application).first()
        if referral is None:
            raise RuleViolation("invalid_status_transition")
        return pmpk_outcome_record(
            referral=referral, outcome=data["outcome"], actor=staff_actor(request)
        )

    return _act(
        request,
        application_id,
        form_class=PmpkOutcomeForm,
        key="pmpk_outcome",
        do=outcome,
        done=_("The outcome of the ПМПК is recorded."),
    )


def _act_of(request: HttpRequest, application_id: str, act_id: int) -> GuardianAct:
    application = _application(request, application_id)
    return get_object_or_404(
        GuardianAct,
        pk=act_id,
        link__applicant_id=application.applicant_id,
        link__child_id=application.child_id,
    )


@school_staff
@require_POST
def application_act_review_view(
    request: HttpRequest, application_id: str, act_id: int
) -> HttpResponse:
    """§18: the school checks the representative's act."""
    act = _act_of(request, application_id, act_id)
    decision = request.POST.get("decision")
    if decision not in ("accept", "reject"):
        messages.error(request, _("Choose whether to accept or reject the act."))
        return redirect("web:staff:school_application", application_id=application_id)
    accept = decision == "accept"
    try:
        guardian_act_review(
            act=act,
            accept=accept,
            note=request.POST.get("note", "").strip()[:300],
            actor=staff_actor(request),
        )
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
    else:
        messages.success(request, _("The act is checked."))
    return redirect("web:staff:school_application", application_id=application_id)


@school_staff
def application_act_file(request: HttpRequest, application_id: str, act_id: int) -> HttpResponse:
    act = _act_of(request, application_id, act_id)
    response = guardian_act_response(act)
    personal_data_export(
        request,
        "guardian_act",
        act_file_format(response),
        obj=act,
        school=staff_user(request).school_id,
    )
    return response
