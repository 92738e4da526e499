"""Where a person is signed in, and signing out (ADR 0021, issue 13 item 5).

Two kinds of credentials: API bearer tokens (``ApiToken``, each with an expiry) and web
sessions (Django's database sessions, indexed per user by ``UserSession`` at sign-in). A person
sees both on one page and may end any of them, or all at once ("sign out everywhere").
Deactivating a staff account and resetting its second factor end both as well
(``credentials_revoke``, called inside those services' transactions)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import QuerySet

from kattoo.audit.services import audit_record
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation

from .models import ApiToken, User, UserSession, token_digest

USER_AGENT_LENGTH = 120


def _session_store(session_key: str) -> SessionBase:
    engine: Any = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(session_key=session_key)
    return store


# --- reads -----------------------------------------------------------------------------------


def tokens_active(user: User) -> QuerySet[ApiToken]:
    """The user's tokens that still work, newest first (never their secrets: only digests
    are stored)."""
    return ApiToken.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=clock.now()
    ).order_by("-created_at", "-pk")


def web_sessions_active(user: User) -> list[UserSession]:
    """The user's web sessions that have not expired, newest first."""
    return list(
        UserSession.objects.filter(user=user, expires_at__gt=clock.now()).order_by(
            "-created_at", "-pk"
        )
    )


# --- writes ----------------------------------------------------------------------------------


@transaction.atomic
def web_session_record(
    *,
    user: User,
    session_key: str,
    expires_at: dt.datetime,
    user_agent: str,
    ip: str | None,
    actor: Actor,
) -> UserSession:
    """Called right after a web sign-in: the session joins the user's list. Rows of sessions
    that expired are dropped on the way."""
    UserSession.objects.filter(user=user, expires_at__lte=clock.now()).delete()
    row = UserSession.objects.create(
        user=user,
        session_key=session_key,
        created_at=clock.now(),
        expires_at=expires_at,
        user_agent=" ".join(user_agent.split())[:USER_AGENT_LENGTH],
        ip=ip or None,
    )
    audit_record(actor=actor, action="session.start", obj=row, data={"user": user.pk, "ip": ip})
    return row


@transaction.atomic
def web_session_forget(*, user: User, session_key: str, actor: Actor) -> int:
    """Signing out of this browser: the session's row goes (the session itself is flushed by
    Django's ``logout``)."""
    ended = [
        row.pk for row in UserSession.objects.filter(user=user) if row.session_key == session_key
    ]
    if ended:
        UserSession.objects.filter(pk__in=ended).delete()
        audit_record(
            actor=actor,
            action="session.end",
            object_type="accounts.usersession",
            object_id=str(ended[0]),
            data={"user": user.pk, "reason": "logout"},
        )
    return len(ended)


@transaction.atomic
def web_session_end(*, user: User, session_id: int, actor: Actor) -> None:
    """Ending one of one's own web sessions from the list; another person's is not found."""
    row = UserSession.objects.select_for_update().filter(user=user, pk=session_id).first()
    if row is None:
        raise RuleViolation("not_found")
    _session_store(row.session_key).delete()
    row.delete()
    audit_record(
        actor=actor,
        action="session.end",
        object_type="accounts.usersession",
        object_id=str(session_id),
        data={"user": user.pk, "reason": "revoked"},
    )


@transaction.atomic
def token_revoke(*, user: User, token_id: int, actor: Actor) -> ApiToken:
    """Revoking one of one's own tokens; another person's token is not found."""
    token = (
        ApiToken.objects.select_for_update()
        .filter(user=user, pk=token_id, revoked_at__isnull=True)
        .first()
    )
    if token is None:
        raise RuleViolation("not_found")
    token.revoked_at = clock.now()
    token.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="token.revoke", obj=token, data={"user": user.pk})
    return token


@transaction.atomic
def token_revoke_raw(*, raw: str, actor: Actor) -> int:
    """API logout: the token the request came with stops working."""
    now = clock.now()
    token = ApiToken.objects.filter(digest=token_digest(raw), revoked_at__isnull=True).first()
    if token is None:
        return 0
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=now)
    audit_record(
        actor=actor, action="token.revoke", obj=token, data={"user": token.user_id, "via": "logout"}
    )
    return 1


@dataclass(frozen=True, slots=True)
class SignedOut:
    tokens: int
    sessions: int


def credentials_revoke(user: User) -> SignedOut:
    """Every token revoked and every recorded web session ended. Call inside the caller's
    transaction; the caller writes the audit record."""
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )
    rows = list(UserSession.objects.filter(user=user))
    for row in rows:
        _session_store(row.session_key).delete()
    UserSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return SignedOut(tokens=tokens, sessions=len(rows))


@transaction.atomic
def user_sign_out_everywhere(*, user: User, actor: Actor) -> SignedOut:
    """Sign out everywhere: all the user's tokens and web sessions, this one included."""
    signed_out = credentials_revoke(user)
    audit_record(
        actor=actor,
        action="user.sign_out_everywhere",
        obj=user,
        data={"tokens_revoked": signed_out.tokens, "sessions_ended": signed_out.sessions},
    )
    return signed_out
