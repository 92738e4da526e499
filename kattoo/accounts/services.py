from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction

from kattoo.audit.services import audit_record
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.people.services import person_refresh

from .models import STAFF_ROLES, ApiToken, Role, User, token_digest


def applicant_for_pin(*, pin: str, actor: Actor, language: str | None = None) -> User:
    """The applicant's account, created on first sign-in after the registry confirms the PIN
    (§7: verified through Tunduk, never typed in by hand), in ``language`` when given."""
    person = person_refresh(pin=pin, actor=actor, applicant=True)
    defaults: dict[str, Any] = {"role": Role.APPLICANT, "person": person}
    if language:
        defaults["language"] = language
    with transaction.atomic():
        user, created = User.objects.get_or_create(username=pin, defaults=defaults)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            audit_record(actor=actor, action="user.create", obj=user, data={"role": Role.APPLICANT})
    return user


@transaction.atomic
def token_issue(
    *, user: User, actor: Actor, label: str = "", ttl: dt.timedelta | None = None
) -> str:
    """A new bearer token; the raw value is returned once and stored only as a digest. Every
    token expires (ADR 0021): by default after the lifetime of the user's kind of account."""
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    expires_at = now + (ttl if ttl is not None else token_lifetime(user))
    token = ApiToken.objects.create(
        user=user, digest=token_digest(raw), label=label, created_at=now, expires_at=expires_at
    )
    audit_record(
        actor=actor,
        action="token.issue",
        obj=token,
        data={"user": user.pk, "label": label, "expires_at": expires_at.isoformat()},
    )
    return raw


def token_lifetime(user: User) -> dt.timedelta:
    """Staff tokens live hours, applicants' days (``KATTOO_STAFF`` / ``KATTOO_LOGIN``)."""
    if user.role in STAFF_ROLES:
        return dt.timedelta(hours=settings.KATTOO_STAFF["TOKEN_HOURS"])
    return dt.timedelta(days=settings.KATTOO_LOGIN["TOKEN_DAYS"])


# Every API request authenticates: one small statement, prepared once per connection, no ORM
# compilation (measured: compiling the select_related query cost more than running it). The
# person is read only when a caller needs it.
def _token_valid(digest: str, now: str) -> str:
    """The rules of a valid token, with the placeholders of its digest and of now."""
    return (
        f" FROM {ApiToken._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id"
        f" WHERE t.digest = {digest} AND t.revoked_at IS NULL AND u.is_active"
        f" AND t.expires_at > {now}"
    )


_TOKEN_VALID = _token_valid("%s", "%s")
_TOKEN_USER = "SELECT u.*" + _TOKEN_VALID
# The slim submit handler's (kattoo/api/hot.py): the same rules, only the four columns the
# submit reads, with named parameters ``%(digest)s`` and ``%(now)s``: a part of the statement
# that reads the holder together with their draft (``enrollment.fastpath.token_draft_facts``:
# one round trip, not two, for the opening-minute submit).
TOKEN_HOLDER_NAMED = "SELECT u.id, u.role, u.person_id, u.language" + _token_valid(
    "%(digest)s", "%(now)s"
)


def user_for_token(raw: str) -> User | None:
    for user in User.objects.raw(_TOKEN_USER, [token_digest(raw), clock.now()]):
        return user
    return None


@transaction.atomic
def staff_user_upsert(
    *, username: str, role: str, actor: Actor, password: str | None = None, **scope: Any
) -> User:
    """Create or update a staff account with its scope (school or district, RULES.md §1)."""
    if role == Role.APPLICANT:
        raise ValueError("applicants are created from the registry, not as staff")
    user, created = User.objects.update_or_create(
        username=username,
        # Django admin (with its second factor) is for the operator and the ministry administrator.
        defaults={"role": role, "is_staff": role in (Role.OPERATOR, Role.MINISTRY_ADMIN), **scope},
    )
    if password is not None:
        user.set_password(password)
        user.save(update_fields=["password"])
    audit_record(
        actor=actor,
        action="user.create" if created else "user.update",
        obj=user,
        data={"role": role, **{k: getattr(v, "pk", v) for k, v in scope.items()}},
    )
    return user


def user_language_set(*, user: User, language: str, actor: Actor) -> User:
    """The language of pages and of SMS for this user (ky, ru, uz or en)."""
    if user.language != language:
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(language=language)
            user.language = language
            audit_record(actor=actor, action="user.language", obj=user, data={"language": language})
    return user
