"""Staff people pages (issue 11, ADR 0018): the ministry administrator's and the district
officer's lists of accounts, creation with a one-time enrolment link, deactivation, a new
link after a lost phone; and the public enrolment page the link opens.

Routes of this module are in ``patterns``, added to web:staff."""

from __future__ import annotations

import datetime as dt
from typing import Any

import segno
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kattoo.accounts.models import Role, StaffEnrolment, User
from kattoo.accounts.staff import (
    enrolment_device,
    enrolment_url,
    staff_abilities,
    staff_create,
    staff_deactivate,
    staff_enrolled_ids,
    staff_enrolment_complete,
    staff_enrolment_for_token,
    staff_enrolment_start,
    staff_second_factor_reset,
    staff_visible_to,
)
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation

from ..access import public, staff_required
from ..forms_people import EnrolCodeForm, EnrolPasswordForm, StaffCreateForm, schools_for_form
from ..problems import problem_of
from .staff_common import staff_actor, staff_user, violation_text

PEOPLE_PAGE: dict[str, str] = {
    Role.MINISTRY_ADMIN: "web:staff:ministry_people",
    Role.DISTRICT: "web:staff:district_people",
}
# The link of a just-created account waits in the session for the next page view, once.
LINK_SESSION_KEY = "kattoo_enrolment_link"


def _form(request: HttpRequest, user: User, data: Any = None) -> StaffCreateForm:
    schools = schools_for_form(user.district_id) if user.role == Role.DISTRICT else None
    return StaffCreateForm(data, creator_role=user.role, schools=schools)


def _people_page(request: HttpRequest, template: str) -> HttpResponse:
    user = staff_user(request)
    actor = staff_actor(request)
    form = _form(request, user, request.POST or None)
    problem = None
    if request.method == "POST" and form.is_valid():
        try:
            created, token = staff_create(**form.service_arguments(), actor_user=user, actor=actor)
        except FieldError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        except RuleViolation as exc:
            problem = {**problem_of(exc), "status": exc.status}
        else:
            _remember_link(request, created, token)
            messages.success(
                request, _("The account %(name)s is created.") % {"name": created.username}
            )
            return redirect(PEOPLE_PAGE[user.role])
    people = list(
        staff_visible_to(user).select_related("school", "district").order_by("role", "username")
    )
    enrolled = staff_enrolled_ids(people)
    abilities = staff_abilities(people, actor_user=user, actor=actor)
    rows = [
        {
            "person": p,
            "enrolled": p.pk in enrolled,
            "abilities": abilities[p.pk],
        }
        for p in people
    ]
    return render(
        request,
        template,
        {
            "form": form,
            "problem": problem,
            "rows": rows,
            "link": _link_once(request),
            "district": user.district,
        },
        status=(problem["status"] if problem else 422) if request.method == "POST" else 200,
    )


def _link_once(request: HttpRequest) -> dict[str, Any] | None:
    link = request.session.pop(LINK_SESSION_KEY, None)
    if link:
        link["expires_at"] = dt.datetime.fromisoformat(link["expires_at"])
    return link


def _remember_link(request: HttpRequest, user: User, token: str) -> None:
    enrolment = StaffEnrolment.objects.filter(user=user).latest("created_at")
    request.session[LINK_SESSION_KEY] = {
        "username": user.username,
        "full_name": user.full_name,
        "url": enrolment_url(token),
        "expires_at": enrolment.expires_at.isoformat(),
    }


@never_cache
@staff_required(Role.MINISTRY_ADMIN)
def ministry_people(request: HttpRequest) -> HttpResponse:
    """District officers, analysts and administrators; every staff account is listed."""
    return _people_page(request, "staff/people.html")


@never_cache
@staff_required(Role.DISTRICT)
def district_people(request: HttpRequest) -> HttpResponse:
    """The directors of the district's schools."""
    return _people_page(request, "staff/people.html")


def _target(request: HttpRequest, username: str) -> User:
    found = staff_visible_to(staff_user(request)).filter(username=username).first()
    if found is None:
        raise Http404
    return found


@staff_required(Role.MINISTRY_ADMIN, Role.DISTRICT)
@require_POST
def people_deactivate(request: HttpRequest, username: str) -> HttpResponse:
    user = staff_user(request)
    target = _target(request, username)
    try:
        staff_deactivate(user=target, actor_user=user, actor=staff_actor(request))
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
    else:
        messages.success(
            request,
            _("The account %(name)s is deactivated; its tokens and sessions no longer work.")
            % {"name": target.username},
        )
    return redirect(PEOPLE_PAGE[user.role])


@staff_required(Role.MINISTRY_ADMIN, Role.DISTRICT)
@require_POST
def people_second_factor_reset(request: HttpRequest, username: str) -> HttpResponse:
    user = staff_user(request)
    target = _target(request, username)
    try:
        target, token = staff_second_factor_reset(
            user=target, actor_user=user, actor=staff_actor(request)
        )
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
    else:
        _remember_link(request, target, token)
        messages.success(
            request,
            _("The authenticator of %(name)s is removed and a new enrolment link issued.")
            % {"name": target.username},
        )
    return redirect(PEOPLE_PAGE[user.role])


# --- the enrolment page (public: the link's token is the credential) -----------------------


def _qr_svg(uri: str) -> str:
    # segno writes the SVG itself (no external resource, no inline style: CSP-safe); the
    # content is our own otpauth URI.
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, light="#fff", title=_("QR code for the authenticator app")
    )
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S308


@public
@never_cache
def enrol(request: HttpRequest, token: str) -> HttpResponse:
    """Step 1: choose a password. Step 2: scan the QR code (or type the secret) and enter the
    code the app shows; only a correct code finishes the enrolment."""
    actor = Actor(user=None, channel="web", request_id=getattr(request, "request_id", ""))
    try:
        enrolment = staff_enrolment_for_token(token)
    except RuleViolation as exc:
        return render(
            request, "staff/enrol_invalid.html", {"problem": problem_of(exc)}, status=exc.status
        )
    started = enrolment_device(enrolment)
    step = request.POST.get("step") if request.method == "POST" else request.GET.get("step")
    password_form = EnrolPasswordForm(request.POST if step == "password" else None)
    code_form = EnrolCodeForm(request.POST if step == "code" else None)
    problem = None
    status = 200
    if request.method == "POST" and step == "password":
        if password_form.is_valid():
            try:
                staff_enrolment_start(
                    token=token, password=password_form.cleaned_data["password1"], actor=actor
                )
            except FieldError as exc:
                password_form.add_error("password1", str(exc.message))
            except RuleViolation as exc:
                problem = problem_of(exc)
            else:
                return redirect("web:staff:enrol", token=token)
        status = 422
    elif request.method == "POST" and step == "code" and started is not None:
        if code_form.is_valid():
            try:
                staff_enrolment_complete(
                    token=token, code=code_form.cleaned_data["code"], actor=actor
                )
            except RuleViolation as exc:
                problem = problem_of(exc)
            else:
                messages.success(
                    request,
                    _(
                        "Your authenticator app is enrolled. Sign in with your username, your "
                        "new password and a code from the app."
                    ),
                )
                return redirect("web:staff:login")
        status = 422
    show_code = started is not None and step != "password"
    context: dict[str, Any] = {
        "enrolment": enrolment,
        "person": enrolment.user,
        "password_form": password_form,
        "code_form": code_form,
        "problem": problem,
        "show_code": show_code,
    }
    if show_code and started is not None:
        context.update(
            {
                "qr": _qr_svg(started.otpauth_uri),
                "secret": started.secret,
                "uri": started.otpauth_uri,
            }
        )
    return render(request, "staff/enrol.html", context, status=status)


patterns: list[URLPattern] = [
    path("ministry/people/", ministry_people, name="ministry_people"),
    path("district/people/", district_people, name="district_people"),
    path("people/<str:username>/deactivate/", people_deactivate, name="people_deactivate"),
    path(
        "people/<str:username>/second-factor/reset/",
        people_second_factor_reset,
        name="people_second_factor_reset",
    ),
    path("enrol/<str:token>/", enrol, name="enrol"),
]
