"""Where am I signed in (ADR 0021): one's web sessions and API tokens, each with a button that
ends it, and "sign out everywhere". Applicants at /account/sessions/, staff at
/staff/sessions/; the same services (kattoo.accounts.sessions) behind both."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kattoo.accounts.models import User
from kattoo.accounts.sessions import (
    token_revoke,
    tokens_active,
    user_sign_out_everywhere,
    web_session_end,
    web_session_forget,
    web_session_record,
    web_sessions_active,
)
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation

from ..access import applicant_required, staff_required


def _actor(request: HttpRequest, user: User | None) -> Actor:
    return Actor(user=user, channel="web", request_id=getattr(request, "request_id", ""))


def session_record(request: HttpRequest, user: User) -> None:
    """After a sign-in: this browser's session joins the person's list."""
    if request.session.session_key is None:
        request.session.save()
    key = request.session.session_key
    assert key is not None
    web_session_record(
        user=user,
        session_key=key,
        expires_at=request.session.get_expiry_date(),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        ip=request.META.get("REMOTE_ADDR") or None,
        actor=_actor(request, user),
    )


def session_end_here(request: HttpRequest) -> None:
    """Sign out of this browser: the session ends and leaves the person's list."""
    user: Any = request.user
    key = request.session.session_key
    if isinstance(user, User) and user.is_authenticated and key:
        web_session_forget(user=user, session_key=key, actor=_actor(request, user))
    logout(request)


def _sessions_page(request: HttpRequest, template: str, sign_in: str) -> HttpResponse:
    user: Any = request.user
    assert isinstance(user, User)
    if request.method == "POST":
        action = request.POST.get("action", "")
        target = request.POST.get("id", "")
        actor = _actor(request, user)
        if action == "everywhere":
            user_sign_out_everywhere(user=user, actor=actor)
            logout(request)
            return redirect(sign_in)
        if action in ("revoke_token", "end_session") and target.isascii() and target.isdigit():
            try:
                if action == "revoke_token":
                    token_revoke(user=user, token_id=int(target[:18]), actor=actor)
                    messages.success(request, _("The token is revoked."))
                else:
                    web_session_end(user=user, session_id=int(target[:18]), actor=actor)
                    messages.success(request, _("The session is ended."))
            except RuleViolation:
                messages.error(request, _("This session or token was not found; nothing changed."))
        else:
            messages.error(request, _("The request could not be read; nothing changed."))
        return redirect(request.path)
    here = request.session.session_key
    sessions = [
        {"row": row, "current": row.session_key == here} for row in web_sessions_active(user)
    ]
    return render(request, template, {"sessions": sessions, "tokens": list(tokens_active(user))})


@applicant_required
def account_sessions(request: HttpRequest) -> HttpResponse:
    return _sessions_page(request, "web/sessions.html", "web:login")


@staff_required()
def staff_sessions(request: HttpRequest) -> HttpResponse:
    return _sessions_page(request, "staff/sessions.html", "web:staff:login")
