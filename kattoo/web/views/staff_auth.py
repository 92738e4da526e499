"""Staff sign-in: username, password and a TOTP code from an authenticator app (django-otp).

Repeated failures lock the username from one client address (and, more loosely, the client
address) for a window, counted in the cache (kattoo.accounts.staff); a stranger's failures
elsewhere never lock the real person out. A staff session lasts
``KATTOO_STAFF["SESSION_HOURS"]``, shorter than the applicants' (ADR 0021)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import Role, User
from kattoo.accounts.staff import (
    staff_credentials_check,
    staff_login_failure_count,
    staff_login_keys,
    staff_login_refusal,
    staff_login_retry_after,
    staff_needs_enrolment,
)
from kattoo.audit.services import audit_record
from kattoo.core.actors import Actor

from ..access import public, staff_required
from ..forms_staff import StaffLoginForm
from ..problems import problem_of
from .sessions import session_end_here, session_record
from .staff_common import staff_user

HOME_OF_ROLE: dict[str, str] = {
    Role.SCHOOL: "web:staff:school",
    Role.DISTRICT: "web:staff:district",
    Role.MINISTRY_ANALYST: "web:staff:ministry",
    Role.MINISTRY_ADMIN: "web:staff:ministry",
}


# The counters are shared with the API's staff token (kattoo.accounts.staff).
_failure_keys = staff_login_keys
_failure_count = staff_login_failure_count


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/staff/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return reverse("web:staff:home")


def _staff_with_code(
    request: HttpRequest, username: str, password: str, code: str
) -> tuple[User, TOTPDevice] | None:
    return staff_credentials_check(request, username=username, password=password, code=code)


@public
def staff_login(request: HttpRequest) -> HttpResponse:
    form = StaffLoginForm(request.POST or None)
    problem = None
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        address = request.META.get("REMOTE_ADDR")
        keys = _failure_keys(username, address)
        signed_in = None
        retry_after = staff_login_retry_after(keys)
        if retry_after:
            problem = problem_of(staff_login_refusal(retry_after))
        else:
            signed_in = _staff_with_code(
                request, username, form.cleaned_data["password"], form.cleaned_data["code"]
            )
        if signed_in is not None:
            user, device = signed_in
            login(request, user)
            otp_login(request, device)
            request.session.set_expiry(int(settings.KATTOO_STAFF["SESSION_HOURS"]) * 3600)
            session_record(request, user)
            cache.delete(keys[0][0])
            with transaction.atomic():
                audit_record(
                    actor=Actor(user=user, channel="web"),
                    action="staff.login",
                    obj=user,
                    data={"ip": address},
                )
            return redirect(_next(request))
        if problem is None:
            _failure_count(keys)
            with transaction.atomic():
                audit_record(
                    actor=Actor(user=None, channel="web"),
                    action="staff.login_failed",
                    object_type="accounts.user",
                    data={"username": username[:150], "ip": address},
                )
            if staff_needs_enrolment(
                request, username=username, password=form.cleaned_data["password"]
            ):
                form.add_error(
                    None,
                    _(
                        "Your account has no authenticator app enrolled yet, so there is no code "
                        "to sign in with. Ask your administrator for an enrolment link."
                    ),
                )
            else:
                form.add_error(None, _("The username, the password or the code is wrong."))
                form.add_error(
                    None,
                    _(
                        "New here? Open the one-time enrolment link you were given first; if "
                        "it has expired, ask your administrator for a new one."
                    ),
                )
    return render(
        request, "staff/login.html", {"form": form, "problem": problem, "next": _next(request)}
    )


@public
@require_POST
def staff_logout(request: HttpRequest) -> HttpResponse:
    session_end_here(request)
    return redirect("web:staff:login")


@staff_required()
def staff_home(request: HttpRequest) -> HttpResponse:
    """Each role has its own start page; the operator's work is in Django admin."""
    target = HOME_OF_ROLE.get(staff_user(request).role)
    if target is not None:
        return redirect(target)
    return render(request, "staff/home.html")
