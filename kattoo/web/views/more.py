"""More of the parent's journeys: drafts, missing addresses, guardian acts, appeals."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kattoo.appeals.models import Subject
from kattoo.appeals.selectors import appeals_visible_to
from kattoo.appeals.services import appeal_file
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.selectors import localized_name, schools_participating
from kattoo.catalog.services import microdistrict_request_file
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment.models import Draft
from kattoo.enrollment.selectors import applications_visible_to
from kattoo.enrollment.services import draft_delete, draft_save, draft_submit
from kattoo.people.models import ActKind, GuardianAct
from kattoo.people.services import guardian_act_upload

from ..access import applicant_required
from ..problems import problem_of
from .applicant import _actor, _choice, _link, _registered, _schools_refused, _user


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
        messages.error(request, f"{exc.title} {exc.detail or ''}".strip())
        return redirect("web:children")
    return _registered(request, application)


@applicant_required
@require_POST
def draft_delete_view(request: HttpRequest, child_id: int) -> HttpResponse:
    draft_delete(draft=_draft(request, child_id), actor=_actor(request))
    return redirect("web:children")


@applicant_required
@require_POST
def request_address(request: HttpRequest, child_id: int, school_id: int) -> HttpResponse:
    link = _link(request, child_id)
    school = get_object_or_404(schools_participating(), pk=school_id)
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
    kind = forms.ChoiceField(label=gettext_lazy("Kind of act"), choices=ActKind.choices)
    number = forms.CharField(label=gettext_lazy("Number of the act"), max_length=64, required=False)
    issued_on = forms.DateField(label=gettext_lazy("Date of the act (YYYY-MM-DD)"), required=False)
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


@applicant_required
def appeals(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = AppealForm(request.POST or None, initial={"subject": request.GET.get("subject")})
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
    return render(request, "web/appeals.html", {"form": form, "appeals": rows, "problem": problem})
