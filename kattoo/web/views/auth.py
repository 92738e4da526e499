"""Sign-in for applicants: PIN, then the code from the SMS (as national e-services do)."""

from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from kattoo.accounts.login import login_challenge_start, login_challenge_verify
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation

from ..access import public
from ..forms import CodeForm, PinForm
from ..problems import problem_of
from .sessions import session_end_here, session_record

SESSION_CHALLENGE = "kattoo_login_challenge"


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/children/"


@public
def login_pin(request: HttpRequest) -> HttpResponse:
    form = PinForm(request.POST or None)
    problem = None
    if request.method == "POST" and form.is_valid():
        try:
            started = login_challenge_start(
                pin=form.cleaned_data["pin"],
                client_ip=request.META.get("REMOTE_ADDR"),
                actor=Actor(user=None, channel="web"),
                language=get_language() or "ky",
            )
        except RuleViolation as exc:
            problem = problem_of(exc)
        else:
            # The handle is the challenge's only key and lives in this browser's session:
            # nobody else can address it (ADR 0023).
            request.session[SESSION_CHALLENGE] = started.handle
            return redirect(f"/login/code/?next={_next(request)}")
    return render(
        request, "web/login.html", {"form": form, "problem": problem, "next": _next(request)}
    )


@public
def login_code(request: HttpRequest) -> HttpResponse:
    challenge = request.session.get(SESSION_CHALLENGE)
    if not challenge:
        return redirect("web:login")
    form = CodeForm(request.POST or None)
    problem = None
    if request.method == "POST" and form.is_valid():
        try:
            user = login_challenge_verify(
                challenge=str(challenge),
                code=form.cleaned_data["code"],
                actor=Actor(user=None, channel="web"),
                client_ip=request.META.get("REMOTE_ADDR"),
            )
        except RuleViolation as exc:
            problem = problem_of(exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            session_record(request, user)
            return redirect(_next(request))
    return render(
        request,
        "web/login_code.html",
        {
            "form": form,
            "problem": problem,
            "next": _next(request),
        },
    )


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    session_end_here(request)
    return redirect("web:home")
