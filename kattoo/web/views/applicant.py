"""The parent's journeys: children, schools open to a child, check your answers, register,
status, cancel."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Case, Q, QuerySet, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kattoo.accounts.models import User
from kattoo.appeals.selectors import appeals_visible_to
from kattoo.campaigns.selectors import Stage, campaign_active, campaign_stage
from kattoo.catalog.models import MicrodistrictRequest, School, Settlement
from kattoo.catalog.selectors import nearby_district_ids, schools_participating
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation, refusal_message
from kattoo.enrollment.abilities import application_abilities
from kattoo.enrollment.models import ACTIVE_STATUSES, Application, Draft, Status
from kattoo.enrollment.receipts import application_number
from kattoo.enrollment.review import registration_review
from kattoo.enrollment.selectors import (
    applications_visible_to,
    children_standings,
    pools_of,
    schools_open_to_child,
)
from kattoo.enrollment.services import application_cancel, application_register
from kattoo.people.models import ChildLink, Person
from kattoo.people.selectors import child_links_of
from kattoo.people.services import applicant_children_sync, child_link_by_certificate

from ..access import applicant_required
from ..forms import LinkChildForm, RegisterForm
from ..problems import problem_of, reason_of, refusal_audit


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
    # After a refusal the card is no dead end: the appeal and another school (issue 14).
    refused: dict[int, Application] = {}
    for app in (
        Application.objects.filter(
            campaign=campaign, child_id__in=[li.child_id for li in links], status=Status.REFUSED
        )
        .select_related("school")
        .order_by("status_changed_at")
    ):
        refused[app.child_id] = app  # the latest refusal of each child
    return render(
        request,
        "web/children.html",
        {
            "rows": [
                (
                    st,
                    drafts.get(st.link.child_id),
                    [reason_of(r) for r in st.refusals],
                    None if st.active_application else refused.get(st.link.child_id),
                )
                for st in standings
            ],
            "campaign": campaign,
            "form": form,
            "problem": problem,
            "contact": settings.KATTOO_CONTACT,
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
    not_offered_total = 0
    show_all = request.GET.get("all") == "1"
    if stage in (Stage.BEFORE, Stage.STAGE1):
        # Schools near the family that stage 1 does not offer, each with its reason (§21). The
        # catalog has no coordinates: the schools of the family's own settlement come first,
        # and only a handful unless the parent asks for all of the district's.
        districts = nearby_district_ids(link.child, link.applicant)
        nearby = (
            schools_participating()
            .filter(district_id__in=districts)
            .exclude(pk__in=[s.pk for s in schools])
            .annotate(
                elsewhere=Case(
                    When(
                        settlement_id__in=family_settlement_ids(link.child, link.applicant), then=0
                    ),
                    default=1,
                )
            )
            .order_by("elsewhere", "code")
        )
        not_offered_total = nearby.count()
        not_offered = list(nearby if show_all else nearby[:NEARBY_SCHOOLS])
    requests = MicrodistrictRequest.objects.filter(child=link.child).select_related("school")
    # One active registration per child: while it is held the list offers no registering.
    active = (
        Application.objects.filter(campaign=campaign, child=link.child, status__in=ACTIVE_STATUSES)
        .select_related("school")
        .first()
    )
    return {
        "link": link,
        "child": link.child,
        "active_application": active,
        "rows": rows,
        "not_offered": not_offered,
        "not_offered_total": not_offered_total,
        "not_offered_more": not_offered_total - len(not_offered),
        "address_requests": list(requests.order_by("-created_at")[:10]),
        "campaign": campaign,
        "stage": str(stage),
        "open": stage in (Stage.STAGE1, Stage.STAGE2),
        "server_time": clock.now(),
    }


@applicant_required
def register_check(request: HttpRequest, child_id: int, school_id: int) -> HttpResponse:
    """Check your answers (issue 14): the child, the school, the class's language, the address
    that opened the school to the child and what cancelling costs, read with the rule that
    registers; the parent confirms with a plain POST to ``register`` (or, before the opening,
    to ``draft_save``). Nothing is written here. The opening minute's one-tap submit of a
    prepared draft does not come here: the draft was checked on this page when prepared."""
    link = _link(request, child_id)
    school = get_object_or_404(schools_participating(), pk=school_id)
    campaign = campaign_active()
    language = request.GET.get("language", "")
    context: dict[str, Any] = {
        "link": link,
        "child": link.child,
        "school": school,
        "language": language,
        "campaign": campaign,
        "back": f"{_schools_url(link.child_id)}#school-{school.pk}",
    }
    pools = pools_of(campaign=campaign, school_ids=[school.pk]).get(school.pk, [])
    if language not in {p.language for p in pools}:
        # No class chosen (or one the school does not teach): the school's classes to choose.
        context.update(pools=pools, stage=str(campaign_stage(campaign)))
        return render(request, "web/register_check.html", context)
    try:
        review = registration_review(
            campaign=campaign,
            user=_user(request),
            child=link.child,
            school=school,
            language=language,
        )
    except RuleViolation as exc:
        context.update(problem=problem_of(exc), problem_school=school)
        return render(request, "web/register_check.html", context)
    left = review.cancellations_left
    context.update(
        review=review,
        pool=review.plan.pool,
        left=left,
        # Cancelling a registration made now leaves one fewer (§20); with none left it is final.
        left_after=max(left - 1, 0),
    )
    return render(request, "web/register_check.html", context)


def _schools_url(child_id: int) -> str:
    return reverse("web:child_schools", kwargs={"child_id": child_id})


# How many schools that stage 1 does not offer the list shows before "show all".
NEARBY_SCHOOLS = 5


def family_settlement_ids(*people: Person) -> QuerySet[Settlement, Any]:
    """The settlements where these people are registered (by the settlement's code, or by the
    street's), as a subquery."""
    codes = {p.address_settlement_code for p in people if p.address_settlement_code}
    streets = {p.address_street_code for p in people if p.address_street_code}
    return Settlement.objects.filter(Q(soate__in=codes) | Q(streets__code__in=streets)).values("pk")


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
        refusal_audit(
            request, exc, "register", child=link.child_id, school=school.pk, language=language
        )
        return _schools_refused(request, link, school, exc)
    return _registered(request, application)


def _application(request: HttpRequest, application_id: str) -> Application:
    visible = applications_visible_to(_user(request)).select_related("campaign", "school", "child")
    return get_object_or_404(visible.prefetch_related("transitions"), pk=application_id)


@applicant_required
def applications(request: HttpRequest) -> HttpResponse:
    rows = applications_visible_to(_user(request)).order_by("-created_at")[:50]
    return render(request, "web/applications.html", {"applications": rows})


def _refusal_reason(app: Application) -> str:
    """The school's stated reason (§22) from the history the page shows anyway."""
    refusals = [t for t in app.transitions.all() if t.to_status == Status.REFUSED]
    return refusals[-1].reason if refusals else ""


@applicant_required
def application(request: HttpRequest, application_id: str) -> HttpResponse:
    """A registration's page — and, right after registering, its confirmation: the number, the
    place in the queue, what to bring and when, the receipt, and from any registration (a
    refused one first of all) the appeal to the district office."""
    app = _application(request, application_id)
    abilities = application_abilities(_user(request), app)
    appeals = appeals_visible_to(_user(request)).filter(application=app).order_by("-created_at")
    return render(
        request,
        "web/application.html",
        {
            "application": app,
            "number": application_number(app),
            "refusal_reason": _refusal_reason(app) if app.status == Status.REFUSED else "",
            "appeals": list(appeals),
            "abilities": abilities,
            "cancellations_left": abilities.cancellations_left,
            "campaign": app.campaign,
            "can_cancel": abilities.cancel,
            # Why not, in the words the cancel service would answer (§20, §21).
            "cancel_refusal": refusal_message(abilities.cancel_refusal)
            if abilities.cancel_refusal
            else "",
        },
    )


@applicant_required
def application_cancel_view(request: HttpRequest, application_id: str) -> HttpResponse:
    """A confirmation page first: how many cancellations remain, and that the last one blocks
    any further cancelling (§20)."""
    app = _application(request, application_id)
    abilities = application_abilities(_user(request), app)
    left = abilities.cancellations_left
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
            "abilities": abilities,
            "left": left,
            "left_after": left - 1,
            "problem": problem,
        },
    )
