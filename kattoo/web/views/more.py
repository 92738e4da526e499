"""More of the parent's journeys: drafts, missing addresses, guardian acts, appeals."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kattoo.accounts.models import User
from kattoo.appeals.models import Appeal, Subject
from kattoo.appeals.selectors import appeals_visible_to
from kattoo.appeals.services import appeal_due_at, appeal_file
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.models import School
from kattoo.catalog.selectors import (
    child_family_addresses,
    localized_name,
    microdistrict_school_ids,
    nearby_district_ids,
    schools_participating,
)
from kattoo.catalog.services import microdistrict_request_file
from kattoo.core import clock
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment.abilities import application_abilities
from kattoo.enrollment.models import Draft, Status
from kattoo.enrollment.review import family_addresses
from kattoo.enrollment.selectors import applications_visible_to
from kattoo.enrollment.services import draft_delete, draft_save, draft_submit
from kattoo.people.models import UPLOADED_ACT_KINDS, GuardianAct
from kattoo.people.selectors import child_links_of
from kattoo.people.services import guardian_act_upload

from ..access import applicant_required
from ..forms import DayMonthYearField
from ..problems import problem_of, refusal_audit
from .applicant import (
    _actor,
    _application,
    _choice,
    _link,
    _refusal_reason,
    _registered,
    _schools_refused,
    _user,
)


@applicant_required
@require_POST
def draft_save_view(request: HttpRequest) -> HttpResponse:
    link, school, language = _choice(request, schools_participating())
    try:
        draft_save(
            campaign=campaign_active(),
            user=_user(request),
            child=link.child,
            school=school,
            language=language,
            actor=_actor(request),
        )
    except RuleViolation as exc:
        refusal_audit(
            request, exc, "draft_save", child=link.child_id, school=school.pk, language=language
        )
        return _schools_refused(request, link, school, exc)
    messages.success(
        request, _("Your choice is checked and saved. Submit it when registration opens.")
    )
    return redirect("web:children")


def _draft(request: HttpRequest, child_id: int) -> Draft:
    link = _link(request, child_id)
    draft = (
        Draft.objects.select_related("campaign", "school", "child", "user")
        .filter(user=_user(request), child=link.child, campaign=campaign_active())
        .first()
    )
    if draft is None:
        raise Http404
    return draft


@applicant_required
@require_POST
def draft_submit_view(request: HttpRequest, child_id: int) -> HttpResponse:
    draft = _draft(request, child_id)
    try:
        application = draft_submit(draft=draft, actor=_actor(request))
    except RuleViolation as exc:
        refusal_audit(
            request,
            exc,
            "draft_submit",
            child=draft.child_id,
            school=draft.school_id,
            language=draft.language,
        )
        messages.error(request, f"{exc.title} {exc.detail or ''}".strip())
        return redirect("web:children")
    return _registered(request, application)


@applicant_required
@require_POST
def draft_delete_view(request: HttpRequest, child_id: int) -> HttpResponse:
    draft_delete(draft=_draft(request, child_id), actor=_actor(request))
    return redirect("web:children")


@applicant_required
def request_address(request: HttpRequest, child_id: int, school_id: int) -> HttpResponse:
    """My address belongs to this school" (§19, §21): first the registered addresses the
    registry holds for the family — exactly what the request sends — and a confirmation; the
    POST sends them."""
    link = _link(request, child_id)
    school = get_object_or_404(schools_participating(), pk=school_id)
    if request.method != "POST":
        applicant = _user(request).person
        addresses = (
            family_addresses(child=link.child, applicant=applicant) if applicant is not None else []
        )
        return render(
            request,
            "web/request_address.html",
            {"link": link, "child": link.child, "school": school, "addresses": addresses},
        )
    try:
        microdistrict_request_file(
            user=_user(request), child=link.child, school=school, actor=_actor(request)
        )
    except RuleViolation as exc:
        messages.error(request, exc.title)
    else:
        messages.success(
            request,
            _(
                "The school received your request to add your address to its "
                "microdistrict. You will see the answer here."
            ),
        )
    return redirect("web:child_schools", child_id=child_id)


class ActForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of act"),
        choices=[(kind.value, kind.label) for kind in UPLOADED_ACT_KINDS],
    )
    number = forms.CharField(label=gettext_lazy("Number of the act"), max_length=64, required=False)
    issued_on = DayMonthYearField(
        label=gettext_lazy("Date of the act"),
        help_text=gettext_lazy("Day, month and year, for example 31 08 2020"),
        required=False,
    )
    file = forms.FileField(label=gettext_lazy("The act (PDF, JPEG or PNG, up to 5 MB)"))


@applicant_required
def guardian_act(request: HttpRequest, child_id: int) -> HttpResponse:
    link = _link(request, child_id)
    form = ActForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            guardian_act_upload(
                link=link,
                kind=form.cleaned_data["kind"],
                number=form.cleaned_data["number"],
                issued_on=form.cleaned_data["issued_on"],
                file=form.cleaned_data["file"],
                actor=_actor(request),
            )
        except FieldError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        except RuleViolation as exc:
            form.add_error(None, exc.title)
        else:
            messages.success(request, _("The act is uploaded; the school will check it."))
            return redirect("web:children")
    acts = GuardianAct.objects.filter(link=link).order_by("-uploaded_at")
    return render(request, "web/guardian_act.html", {"form": form, "link": link, "acts": acts})


def appeal_due_day(campaign: Campaign) -> dt.date:
    """The last day of the answer period of an appeal sent now (§17: the campaign's working
    days, counted on its working calendar by ``appeal_due_at``)."""
    return Appeal(due_at=appeal_due_at(campaign, clock.now())).due_day


def _appeal_schools(user: User) -> QuerySet[School]:
    """The schools a general appeal may be about: those of the family's registrations and
    those of the districts where the family is registered — never every school of the
    country (issue 14). Only a family the registry places nowhere gets the whole list."""
    person = user.person
    children = [link.child for link in child_links_of(person)] if person is not None else []
    districts = nearby_district_ids(person, *children)
    registered = applications_visible_to(user).values("school_id")
    # §10: the schools whose microdistricts hold a family address, wherever their district.
    microdistrict = set().union(
        *(microdistrict_school_ids(child_family_addresses(c, person)) for c in children)
    )
    schools = schools_participating().filter(
        Q(district_id__in=districts) | Q(pk__in=registered) | Q(pk__in=microdistrict)
    )
    if not schools.exists():
        schools = schools_participating()
    return schools.select_related("settlement").order_by("district_id", "code")


class SchoolChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: object) -> str:
        return f"{localized_name(obj)} ({getattr(obj, 'code', '')})"


class AppealForm(forms.Form):
    subject = forms.ChoiceField(label=gettext_lazy("What is it about?"), choices=Subject.choices)
    school = SchoolChoiceField(
        label=gettext_lazy("School"),
        queryset=schools_participating().order_by("code"),
        required=False,
    )
    text = forms.CharField(
        label=gettext_lazy("Your appeal"),
        min_length=10,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class RegistrationAppealForm(forms.Form):
    """An appeal about one registration: its school and district are the registration's."""

    subject = forms.ChoiceField(label=gettext_lazy("What is it about?"), choices=Subject.choices)
    text = forms.CharField(
        label=gettext_lazy("Your appeal"),
        help_text=gettext_lazy("What happened, and what you ask the district office to do."),
        min_length=10,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


@applicant_required
def application_appeal(request: HttpRequest, application_id: str) -> HttpResponse:
    """One action from any registration (a refused one first of all): the appeal to the
    district office about it, the school fixed, with what happens next and by when (§17)."""
    application = _application(request, application_id)
    user = _user(request)
    abilities = application_abilities(user, application)
    if not abilities.appeal:
        raise Http404
    subject = Subject.REFUSAL if application.status == Status.REFUSED else Subject.OTHER
    form = RegistrationAppealForm(request.POST or None, initial={"subject": subject})
    problem = None
    if request.method == "POST" and form.is_valid():
        try:
            appeal = appeal_file(
                campaign=application.campaign,
                user=user,
                subject=form.cleaned_data["subject"],
                text=form.cleaned_data["text"],
                school=application.school,
                application=application,
                actor=_actor(request),
            )
        except FieldError as exc:
            form.add_error(None, str(exc.message))
        except RuleViolation as exc:
            problem = problem_of(exc)
        else:
            messages.success(
                request,
                _(
                    "Your appeal No. %(number)s is sent to the district education office. "
                    "The answer is due by %(date)s."
                )
                % {"number": appeal.pk, "date": date_format(appeal.due_day, "d.m.Y")},
            )
            return redirect("web:application", application_id=application.pk)
    return render(
        request,
        "web/application_appeal.html",
        {
            "application": application,
            "form": form,
            "problem": problem,
            "refusal_reason": _refusal_reason(application)
            if application.status == Status.REFUSED
            else "",
            "due_day": appeal_due_day(application.campaign),
            "working_days": application.campaign.appeal_due_working_days,
        },
    )


@applicant_required
def appeals(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = AppealForm(request.POST or None, initial={"subject": request.GET.get("subject")})
    form.fields["school"].queryset = _appeal_schools(user)  # type: ignore[attr-defined]
    problem = None
    if request.method == "POST" and form.is_valid():
        application = (
            applications_visible_to(user).filter(school=form.cleaned_data["school"]).first()
            if form.cleaned_data["school"]
            else None
        )
        try:
            appeal_file(
                campaign=campaign_active(),
                user=user,
                subject=form.cleaned_data["subject"],
                text=form.cleaned_data["text"],
                school=form.cleaned_data["school"],
                application=application,
                actor=_actor(request),
            )
        except FieldError as exc:
            form.add_error("school", str(exc.message))
        except RuleViolation as exc:
            problem = problem_of(exc)
        else:
            messages.success(request, _("Your appeal is sent to the district education office."))
            return redirect("web:appeals")
    rows = appeals_visible_to(user).order_by("-created_at")
    campaign = campaign_active()
    registrations = (
        applications_visible_to(user)
        .filter(campaign=campaign)
        .select_related("school", "child")
        .order_by("-created_at")[:10]
    )
    return render(
        request,
        "web/appeals.html",
        {
            "form": form,
            "appeals": rows,
            "problem": problem,
            "registrations": registrations,
            "due_day": appeal_due_day(campaign),
            "working_days": campaign.appeal_due_working_days,
        },
    )
