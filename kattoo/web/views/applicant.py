"""The parent's journeys: children, schools open to a child, register, status, cancel."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kattoo.accounts.models import User
from kattoo.campaigns.selectors import Stage, campaign_active, campaign_stage
from kattoo.catalog.models import MicrodistrictRequest, School
from kattoo.catalog.selectors import nearby_district_ids, schools_participating
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import Application, Draft, Status
from kattoo.enrollment.selectors import (
    applications_visible_to,
    children_standings,
    pools_of,
    schools_open_to_child,
)
from kattoo.enrollment.services import (
    application_cancel,
    application_cancellations,
    application_register,
)
from kattoo.people.models import ChildLink
from kattoo.people.selectors import child_links_of
from kattoo.people.services import applicant_children_sync, child_link_by_certificate

from ..access import applicant_required
from ..forms import LinkChildForm, RegisterForm
from ..problems import problem_of


def _user(request: HttpRequest) -> User:
    user: Any = request.user
    return user


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=_user(request), channel="web", request_id=getattr(request, "request_id", ""))


def _link(request: HttpRequest, child_id: int) -> ChildLink:
    link = (
        ChildLink.objects.select_related("child", "applicant")
        .filter(applicant_id=_user(request).person_id, child_id=child_id)
        .first()
    )
    if link is None:
        raise Http404
    return link


def _choice(request: HttpRequest, schools: Any = None) -> tuple[ChildLink, School, str]:
    """The child (one of the applicant's), school and language a choice form posted; a
    malformed post or an unknown school is 404."""
    form = RegisterForm(request.POST)
    if not form.is_valid():
        raise Http404
    link = _link(request, form.cleaned_data["child"])
    school = get_object_or_404(
        School if schools is None else schools, pk=form.cleaned_data["school"]
    )
    return link, school, form.cleaned_data["language"]


@applicant_required
def children(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    assert user.person is not None
    problem = None
    links = list(child_links_of(user.person))
    if not links or request.GET.get("refresh"):
        try:
            applicant_children_sync(applicant=user.person, actor=_actor(request))
        except RuleViolation as exc:
            problem = problem_of(exc)
        links = list(child_links_of(user.person))
    campaign = campaign_active()
    form = LinkChildForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            child_link_by_certificate(
                applicant=user.person,
                pin=form.cleaned_data["pin"],
                certificate_series=form.cleaned_data["series"],
                certificate_number=form.cleaned_data["number"],
                actor=_actor(request),
            )
        except RuleViolation as exc:
            problem = problem_of(exc)
        else:
            messages.success(request, _("The child is linked to your account."))
            return redirect("web:children")
    drafts = {
        d.child_id: d
        for d in Draft.objects.select_related("school").filter(user=user, campaign=campaign)
    }
    standings = children_standings(campaign=campaign, links=links)
    return render(
        request,
        "web/children.html",
        {
            "rows": [(st, drafts.get(st.link.child_id)) for st in standings],
            "campaign": campaign,
            "form": form,
            "problem": problem,
            "stage": str(campaign_stage(campaign)),
        },
    )


def _schools_context(request: HttpRequest, link: ChildLink) -> dict[str, Any]:
    campaign = campaign_active()
    stage = campaign_stage(campaign)
    schools = list(
        schools_open_to_child(
            campaign=campaign, child=link.child, applicant=link.applicant, stage=stage
        )
        .select_related("district")
        .order_by("code")
    )
    pools = pools_of(campaign=campaign, school_ids=[s.pk for s in schools])
    rows = [{"school": s, "pools": pools.get(s.pk, [])} for s in schools]
    not_offered: list[School] = []
    if stage in (Stage.BEFORE, Stage.STAGE1):
        # Schools near the family that stage 1 does not offer, each with its reason (§21).
        districts = nearby_district_ids(link.child, link.applicant)
        not_offered = list(
            schools_participating()
            .filter(district_id__in=districts)
            .exclude(pk__in=[s.pk for s in schools])
            .order_by("code")[:30]
        )
    requests = MicrodistrictRequest.objects.filter(child=link.child).select_related("school")
    return {
        "link": link,
        "child": link.child,
        "rows": rows,
        "not_offered": not_offered,
        "address_requests": list(requests.order_by("-created_at")[:10]),
        "campaign": campaign,
        "stage": str(stage),
        "open": stage in (Stage.STAGE1, Stage.STAGE2),
        "server_time": clock.now(),
    }


def _schools_refused(
    request: HttpRequest, link: ChildLink, school: School, exc: RuleViolation
) -> HttpResponse:
    """The child's schools again, with why the chosen school refused (409)."""
    context = _schools_context(request, link)
    context["problem"] = problem_of(exc)
    context["problem_school"] = school
    return render(request, "web/schools.html", context, status=409)


def _registered(request: HttpRequest, application: Application) -> HttpResponse:
    """A registration made (directly, from a draft or from a waitlist offer): its page."""
    messages.success(
        request,
        _("Registered. Your place in the queue is %(position)d.")
        % {"position": application.position},
    )
    return redirect("web:application", application_id=application.pk)


@applicant_required
def child_schools(request: HttpRequest, child_id: int) -> HttpResponse:
    context = _schools_context(request, _link(request, child_id))
    template = "web/_school_rows.html" if request.headers.get("HX-Request") else "web/schools.html"
    return render(request, template, context)


@applicant_required
@require_POST
def register(request: HttpRequest) -> HttpResponse:
    link, school, language = _choice(request)
    try:
        application = application_register(
            campaign=campaign_active(),
            user=_user(request),
            child=link.child,
            school=school,
            language=language,
            actor=_actor(request),
        )
    except RuleViolation as exc:
        return _schools_refused(request, link, school, exc)
    return _registered(request, application)


def _application(request: HttpRequest, application_id: str) -> Application:
    visible = applications_visible_to(_user(request)).select_related("campaign", "school", "child")
    return get_object_or_404(visible.prefetch_related("transitions"), pk=application_id)


@applicant_required
def applications(request: HttpRequest) -> HttpResponse:
    rows = applications_visible_to(_user(request)).order_by("-created_at")[:50]
    return render(request, "web/applications.html", {"applications": rows})


@applicant_required
def application(request: HttpRequest, application_id: str) -> HttpResponse:
    app = _application(request, application_id)
    left = app.campaign.cancel_limit - application_cancellations(
        campaign=app.campaign, child=app.child
    )
    return render(
        request,
        "web/application.html",
        {
            "application": app,
            "cancellations_left": left,
            "campaign": app.campaign,
            "can_cancel": app.status == Status.REGISTERED and left > 0,
        },
    )


@applicant_required
def application_cancel_view(request: HttpRequest, application_id: str) -> HttpResponse:
    """A confirmation page first: how many cancellations remain, and that the last one blocks
    any further cancelling (§20)."""
    app = _application(request, application_id)
    left = app.campaign.cancel_limit - application_cancellations(
        campaign=app.campaign, child=app.child
    )
    problem = None
    if request.method == "POST":
        try:
            application_cancel(application=app, actor=_actor(request))
        except RuleViolation as exc:
            problem = problem_of(exc)
        else:
            messages.success(request, _("The registration is cancelled and the seat is freed."))
            return redirect("web:child_schools", child_id=app.child_id)
    return render(
        request,
        "web/cancel.html",
        {
            "application": app,
            "left": left,
            "left_after": left - 1,
            "problem": problem,
        },
    )
