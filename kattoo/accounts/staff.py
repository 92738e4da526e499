"""Staff accounts: who creates whom, the one-time enrolment link, deactivation, a lost phone
(ADR 0018, issue 11).

The ministry administrator creates district officers, analysts and other administrators; a
district officer creates the directors (``school`` users) of its own district's schools; the
operator on the server (``manage.py create_staff``) creates anyone, which is how the first
ministry administrator comes to exist. Nobody ever chooses or sees another person's password:
a new account gets an unusable password and a one-time enrolment link, with which the person
chooses a password and enrols an authenticator app; only a correct code from that app confirms
the device and spends the link.

Staff sign-in failures are counted per (username, client address) and per client address in
the cache, never per username alone: a stranger who guesses a username (``director``) locks
only their own address, and the real person signs in from theirs with the right password and
code (issue 13 item 9, ADR 0021). The web sign-in (kattoo.web.views.staff_auth) and the API's
staff token share these counters."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from base64 import b32encode
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.audit.services import audit_record
from kattoo.catalog.models import District, School
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation

from .models import (
    STAFF_ROLES,
    EnrolmentReason,
    Role,
    StaffEnrolment,
    User,
    token_digest,
)
from .services import token_issue
from .sessions import credentials_revoke

# Who each creator may create. The operator acts only on the server (channel "cli").
ROLES_CREATED_BY: dict[str, frozenset[str]] = {
    Role.MINISTRY_ADMIN: frozenset({Role.DISTRICT, Role.MINISTRY_ANALYST, Role.MINISTRY_ADMIN}),
    Role.DISTRICT: frozenset({Role.SCHOOL}),
}
# A letter first: applicants' usernames are their 14-digit PINs, and a staff name must never
# be one (the applicant sign-in finds its account by username).
USERNAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{2,39}$")
DEVICE_NAME = "kattoo"
OTP_ISSUER = "Kattoo"

# Failed sign-ins tolerated in the window before the door stays shut until it passes: for one
# username from one client address, and for all usernames from one client address.
FAILURES_PER_USERNAME_AND_ADDRESS = 5
FAILURES_PER_ADDRESS = 30


# --- who may act on whom -------------------------------------------------------------------


def _is_cli(actor_user: User | None, actor: Actor) -> bool:
    return actor_user is None and actor.channel == "cli"


def staff_creatable_roles(actor_user: User | None, actor: Actor) -> frozenset[str]:
    """The roles this actor may create (an empty set: the actor creates nobody)."""
    if _is_cli(actor_user, actor):
        return frozenset(STAFF_ROLES)
    if actor_user is None or not actor_user.is_active:
        return frozenset()
    return ROLES_CREATED_BY.get(actor_user.role, frozenset())


def staff_manageable_by(actor_user: User | None, actor: Actor) -> QuerySet[User]:
    """The staff accounts this actor may deactivate or give a new enrolment link."""
    staff = User.objects.filter(role__in=STAFF_ROLES)
    if _is_cli(actor_user, actor):
        return staff
    roles = staff_creatable_roles(actor_user, actor)
    if not roles or actor_user is None:
        return staff.none()
    staff = staff.filter(role__in=roles)
    if actor_user.role == Role.DISTRICT:
        if actor_user.district_id is None:
            return staff.none()
        staff = staff.filter(school__district_id=actor_user.district_id)
    return staff


def staff_visible_to(user: User) -> QuerySet[User]:
    """The staff list of a creator: the ministry administrator sees every staff account, a
    district officer the accounts of its own schools; anyone else sees none."""
    staff = User.objects.filter(role__in=STAFF_ROLES)
    if not user.is_active:
        return staff.none()
    if user.role == Role.MINISTRY_ADMIN:
        return staff
    if user.role == Role.DISTRICT and user.district_id is not None:
        return staff.filter(role=Role.SCHOOL, school__district_id=user.district_id)
    return staff.none()


def staff_enrolled_ids(users: QuerySet[User] | list[User]) -> set[int]:
    """Which of these users have a confirmed authenticator (one query)."""
    ids = [u.pk for u in users]
    return set(
        TOTPDevice.objects.filter(user_id__in=ids, confirmed=True).values_list("user_id", flat=True)
    )


def staff_abilities(
    people: list[User], *, actor_user: User, actor: Actor
) -> dict[int, dict[str, bool]]:
    """What the actor may do with each of these accounts, by id (one query); the page and the
    API show the same buttons the services accept."""
    manageable = set(
        staff_manageable_by(actor_user, actor)
        .filter(pk__in=[p.pk for p in people])
        .exclude(pk=actor_user.pk)
        .values_list("pk", flat=True)
    )
    return {
        p.pk: {
            "deactivate": p.pk in manageable and p.is_active,
            "reset_second_factor": p.pk in manageable and p.is_active,
        }
        for p in people
    }


def _require_manageable(*, user: User, actor_user: User | None, actor: Actor) -> User:
    if not _is_cli(actor_user, actor) and not staff_creatable_roles(actor_user, actor):
        raise RuleViolation("forbidden")
    if actor_user is not None and user.pk == actor_user.pk:
        raise RuleViolation("forbidden", _("Ask another administrator to change your own account."))
    locked = (
        staff_manageable_by(actor_user, actor)
        .select_for_update(of=("self",))
        .filter(pk=user.pk)
        .first()
    )
    if locked is None:
        if actor_user is not None and staff_visible_to(actor_user).filter(pk=user.pk).exists():
            raise RuleViolation("forbidden", _("You may not change an account of this role."))
        raise RuleViolation("not_found")
    return locked


# --- creation --------------------------------------------------------------------------------


def _clean_username(username: str) -> str:
    username = username.strip()
    if not USERNAME_PATTERN.match(username):
        raise FieldError(
            "username",
            "invalid_username",
            _(
                "A username is 3 to 40 Latin letters, digits, dots, hyphens or underscores, "
                "starting with a letter."
            ),
        )
    return username


def _clean_full_name(full_name: str) -> str:
    full_name = " ".join(full_name.split())
    if not full_name:
        raise FieldError("full_name", "required", _("Enter the person's full name."))
    if len(full_name) > 200:
        raise FieldError("full_name", "too_long", _("The value is too long."))
    return full_name


def _scope(
    *,
    role: str,
    school: str | None,
    district: str | None,
    actor_user: User | None,
    actor: Actor,
) -> dict[str, Any]:
    """The school or district an account of this role is tied to (RULES.md §1)."""
    school = (school or "").strip() or None
    district = (district or "").strip() or None
    if role == Role.SCHOOL:
        if district:
            raise FieldError(
                "district", "not_allowed", _("A school's account is tied to its school only.")
            )
        if not school:
            raise FieldError("school", "required", _("Choose the school by its code."))
        schools = School.objects.all()
        if actor_user is not None and actor_user.role == Role.DISTRICT:
            # Another district's school is not found, as if it did not exist.
            schools = schools.filter(district_id=actor_user.district_id or 0)
        found = schools.filter(code=school).first()
        if found is None:
            if _is_cli(actor_user, actor):
                raise FieldError("school", "unknown_school", _("No school has this code."))
            raise RuleViolation("not_found", _("No school of your district has this code."))
        return {"school": found}
    if school:
        raise FieldError("school", "not_allowed", _("Only a school's account is tied to a school."))
    if role == Role.DISTRICT:
        if not district:
            raise FieldError("district", "required", _("Choose the district by its SOATE code."))
        found_district = District.objects.filter(soate=district).first()
        if found_district is None:
            raise FieldError("district", "unknown_district", _("No district has this SOATE code."))
        return {"district": found_district}
    if district:
        raise FieldError(
            "district",
            "not_allowed",
            _("Only a district officer's account is tied to a district."),
        )
    return {}


def _enrolment_issue(
    *, user: User, reason: str, actor_user: User | None, actor: Actor
) -> tuple[StaffEnrolment, str]:
    """A new one-time link; earlier links of the same person that were not used stop working."""
    now = clock.now()
    StaffEnrolment.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    raw = secrets.token_urlsafe(32)
    enrolment = StaffEnrolment.objects.create(
        user=user,
        digest=token_digest(raw),
        reason=reason,
        created_by=actor_user,
        created_at=now,
        expires_at=now + dt.timedelta(hours=settings.KATTOO_STAFF["ENROLMENT_HOURS"]),
    )
    audit_record(
        actor=actor,
        action="staff.enrolment_issue",
        obj=enrolment,
        data={"user": user.pk, "reason": reason, "expires_at": enrolment.expires_at.isoformat()},
    )
    return enrolment, raw


def enrolment_url(raw_token: str) -> str:
    return f"{settings.KATTOO_PUBLIC_URL}/staff/enrol/{raw_token}/"


@transaction.atomic
def staff_create(
    *,
    username: str,
    role: str,
    full_name: str,
    actor_user: User | None,
    actor: Actor,
    school: str | None = None,
    district: str | None = None,
) -> tuple[User, str]:
    """A new staff account with no usable password, and its one-time enrolment token (raw,
    returned once). ``school`` is a catalog code, ``district`` a SOATE code."""
    creatable = staff_creatable_roles(actor_user, actor)
    if not creatable:
        raise RuleViolation("forbidden")
    if role not in STAFF_ROLES:
        raise FieldError("role", "invalid_role", _("Choose one of the staff roles."))
    if role not in creatable:
        raise RuleViolation("forbidden", _("You may not create an account of this role."))
    username = _clean_username(username)
    full_name = _clean_full_name(full_name)
    scope = _scope(role=role, school=school, district=district, actor_user=actor_user, actor=actor)
    if User.objects.filter(username__iexact=username).exists():
        raise RuleViolation("username_taken")
    user = User(
        username=username,
        role=role,
        full_name=full_name,
        # Django admin (with its second factor) is for the operator and the ministry admin.
        is_staff=role in (Role.OPERATOR, Role.MINISTRY_ADMIN),
        # The technical operator (created only on the server) keeps the whole admin site.
        is_superuser=role == Role.OPERATOR,
        **scope,
    )
    user.set_unusable_password()
    user.save()
    audit_record(
        actor=actor,
        action="staff.create",
        obj=user,
        data={
            "username": username,
            "role": role,
            "school": scope["school"].code if "school" in scope else None,
            "district": scope["district"].soate if "district" in scope else None,
        },
    )
    _enrolment, raw = _enrolment_issue(
        user=user, reason=EnrolmentReason.NEW, actor_user=actor_user, actor=actor
    )
    return user, raw


def _tokens_revoke(user: User) -> int:
    """Every token revoked and every web session ended (kattoo.accounts.sessions)."""
    return credentials_revoke(user).tokens


@transaction.atomic
def staff_deactivate(*, user: User, actor_user: User | None, actor: Actor) -> User:
    """The account stops working: no sign-in, every API token revoked, and signed-in
    sessions end (Django's session backend refuses an inactive user)."""
    user = _require_manageable(user=user, actor_user=actor_user, actor=actor)
    revoked = _tokens_revoke(user)
    StaffEnrolment.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )
    changed = user.is_active
    if changed:
        user.is_active = False
        user.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="staff.deactivate",
        obj=user,
        data={"tokens_revoked": revoked, "was_active": changed},
    )
    return user


@transaction.atomic
def staff_second_factor_reset(
    *, user: User, actor_user: User | None, actor: Actor
) -> tuple[User, str]:
    """A lost phone: the authenticators are deleted, tokens revoked, the password made
    unusable (so signed-in sessions end too), and a new one-time enrolment link issued with
    which the person chooses a new password and enrols the new phone."""
    user = _require_manageable(user=user, actor_user=actor_user, actor=actor)
    if not user.is_active:
        raise RuleViolation(
            "invalid_status_transition", _("The account is deactivated; create a new one.")
        )
    devices, _deleted = TOTPDevice.objects.filter(user=user).delete()
    revoked = _tokens_revoke(user)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    audit_record(
        actor=actor,
        action="staff.second_factor_reset",
        obj=user,
        data={"devices_deleted": devices, "tokens_revoked": revoked},
    )
    _enrolment, raw = _enrolment_issue(
        user=user, reason=EnrolmentReason.RESET, actor_user=actor_user, actor=actor
    )
    return user, raw


# --- the enrolment link ----------------------------------------------------------------------


def staff_enrolment_for_token(raw: str, *, for_update: bool = False) -> StaffEnrolment:
    """The enrolment a link names, if it can still be used; otherwise the reason why not."""
    enrolments = StaffEnrolment.objects.select_related("user", "device")
    if for_update:
        enrolments = enrolments.select_for_update(of=("self",))
    enrolment = enrolments.filter(digest=token_digest(raw.strip())).first() if raw else None
    if enrolment is None:
        raise RuleViolation("enrolment_invalid")
    if (
        enrolment.used_at is not None
        or enrolment.revoked_at is not None
        or not enrolment.user.is_active
    ):
        raise RuleViolation("enrolment_used")
    if clock.now() >= enrolment.expires_at:
        raise RuleViolation("enrolment_expired")
    return enrolment


@dataclass(frozen=True, slots=True)
class EnrolmentStarted:
    enrolment: StaffEnrolment
    device: TOTPDevice

    @property
    def otpauth_uri(self) -> str:
        """The key URI an authenticator app scans, with "Kattoo" as the issuer it shows."""
        label = quote(f"{OTP_ISSUER}:{self.enrolment.user.get_username()}")
        params = urlencode(
            {
                "secret": self.secret,
                "algorithm": "SHA1",
                "digits": self.device.digits,
                "period": self.device.step,
                "issuer": OTP_ISSUER,
            }
        )
        return f"otpauth://totp/{label}?{params}"

    @property
    def secret(self) -> str:
        return b32encode(self.device.bin_key).decode()


def enrolment_device(enrolment: StaffEnrolment) -> EnrolmentStarted | None:
    """The authenticator waiting for its first code, once the password was chosen."""
    if enrolment.device is None or not enrolment.password_hash:
        return None
    return EnrolmentStarted(enrolment=enrolment, device=enrolment.device)


@transaction.atomic
def staff_enrolment_start(*, token: str, password: str, actor: Actor) -> EnrolmentStarted:
    """Step 1: the person chooses a password (Django's validators). It is kept as a hash on
    the enrolment and becomes the account's password only when step 2 succeeds. The pending
    authenticator is created once; choosing the password again keeps the same secret, so a
    phone that already scanned it still works."""
    enrolment = staff_enrolment_for_token(token, for_update=True)
    user = enrolment.user
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise FieldError("password", "password_invalid", " ".join(exc.messages)) from exc
    enrolment.password_hash = make_password(password)
    if enrolment.device is None:
        enrolment.device = TOTPDevice.objects.create(
            user=user, name=f"{DEVICE_NAME}-enrolment", confirmed=False
        )
    enrolment.save(update_fields=["password_hash", "device"])
    audit_record(
        actor=Actor(user=None, channel=actor.channel, request_id=actor.request_id),
        action="staff.enrolment_start",
        obj=enrolment,
        data={"user": user.pk},
    )
    return EnrolmentStarted(enrolment=enrolment, device=enrolment.device)


def staff_enrolment_complete(*, token: str, code: str, actor: Actor) -> User:
    """Step 2: a correct code from the new authenticator confirms the device, sets the
    chosen password and spends the link. A wrong code changes nothing but the device's
    throttle (django-otp doubles the wait after each failure)."""
    with transaction.atomic():
        enrolment = staff_enrolment_for_token(token, for_update=True)
        started = enrolment_device(enrolment)
        if started is None:
            raise RuleViolation("enrolment_not_started")
        device = started.device
        user = enrolment.user
        if device.verify_token(code.strip()):
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            device.name = DEVICE_NAME
            device.confirmed = True
            device.save(update_fields=["name", "confirmed"])
            user.password = enrolment.password_hash
            user.save(update_fields=["password"])
            enrolment.used_at = clock.now()
            enrolment.password_hash = ""
            enrolment.save(update_fields=["used_at", "password_hash"])
            audit_record(
                actor=Actor(user=user, channel=actor.channel, request_id=actor.request_id),
                action="staff.enrolment_complete",
                obj=enrolment,
                data={"user": user.pk, "reason": enrolment.reason},
            )
            return user
        audit_record(
            actor=Actor(user=None, channel=actor.channel, request_id=actor.request_id),
            action="staff.enrolment_code_wrong",
            obj=enrolment,
            data={"user": user.pk},
        )
    # Raised after the commit, so the device's throttle keeps counting.
    raise RuleViolation("totp_invalid")


# --- sign-in counters and the staff API token ------------------------------------------------


def _window() -> int:
    return int(settings.KATTOO_LOGIN["WINDOW_SECONDS"])


def staff_login_keys(username: str, address: str | None) -> list[tuple[str, int]]:
    """The counters one attempt adds to: (username, client) first, then the client. The
    address is ``REMOTE_ADDR`` as kattoo.core.proxy sets it behind trusted proxies."""
    # Hashed: any text may be typed as a username, and a cache key must stay short and plain.
    pair = token_digest(f"{username.lower()}\n{address or '-'}")[:32]
    keys = [(f"staff-login:user-ip:{pair}", FAILURES_PER_USERNAME_AND_ADDRESS)]
    if address:
        keys.append((f"staff-login:ip:{address}", FAILURES_PER_ADDRESS))
    return keys


def staff_login_retry_after(keys: list[tuple[str, int]]) -> int:
    """Seconds until the locked door opens again; 0 when it is open."""
    locked = [key for key, limit in keys if int(cache.get(key, 0)) >= limit]
    if not locked:
        return 0
    now = clock.now().timestamp()
    waits = [float(cache.get(f"{key}:until", now + _window())) - now for key in locked]
    return max(1, int(max(waits) + 0.999))


def staff_login_locked_out(keys: list[tuple[str, int]]) -> bool:
    return staff_login_retry_after(keys) > 0


def staff_login_refusal(retry_after: int) -> RuleViolation:
    """The refusal that tells the person how long to wait (web message and API problem with
    ``Retry-After``)."""
    minutes = max(1, (retry_after + 59) // 60)
    detail = ngettext(
        "Too many failed sign-ins from your address. Wait %(minutes)d minute and try again.",
        "Too many failed sign-ins from your address. Wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}
    return RuleViolation("rate_limited", detail, retry_after=retry_after)


def staff_login_failure_count(keys: list[tuple[str, int]]) -> None:
    window = _window()
    for key, _limit in keys:
        if cache.add(key, 0, timeout=window):
            # The window is fixed from the first failure; the lock tells how long is left.
            cache.set(f"{key}:until", clock.now().timestamp() + window, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)


def staff_credentials_check(
    request: HttpRequest | None, *, username: str, password: str, code: str
) -> tuple[User, TOTPDevice] | None:
    """The staff user and the confirmed device whose code matched, or None."""
    found = authenticate(request, username=username, password=password)
    if not isinstance(found, User) or found.role not in STAFF_ROLES:
        return None
    device = TOTPDevice.objects.devices_for_user(found, confirmed=True).order_by("pk").first()
    if device is None:
        return None
    verified = verify_token(found, device.persistent_id, code.strip())
    if not isinstance(verified, TOTPDevice):
        return None
    return found, verified


def staff_needs_enrolment(request: HttpRequest | None, *, username: str, password: str) -> bool:
    """The password is right but the account has no confirmed authenticator: the sign-in page
    tells this person to use (or ask for) an enrolment link. Asked only with the right
    password, so it tells a stranger nothing about which usernames exist."""
    found = authenticate(request, username=username, password=password)
    return (
        isinstance(found, User)
        and found.role in STAFF_ROLES
        and not TOTPDevice.objects.filter(user=found, confirmed=True).exists()
    )


def staff_token_issue(
    *, username: str, password: str, code: str, client_ip: str | None, actor: Actor
) -> tuple[str, dt.datetime]:
    """A staff API token without a shell: username, password and a TOTP code, rate-limited
    like the web sign-in. Tokens live ``KATTOO_STAFF["TOKEN_HOURS"]``."""
    keys = staff_login_keys(username, client_ip)
    retry_after = staff_login_retry_after(keys)
    if retry_after:
        raise staff_login_refusal(retry_after)
    signed_in = staff_credentials_check(None, username=username, password=password, code=code)
    if signed_in is None:
        staff_login_failure_count(keys)
        with transaction.atomic():
            audit_record(
                actor=Actor(user=None, channel=actor.channel, request_id=actor.request_id),
                action="staff.login_failed",
                object_type="accounts.user",
                data={"username": username[:150], "ip": client_ip, "via": "api"},
            )
        raise RuleViolation("credentials_invalid")
    user, _device = signed_in
    cache.delete(keys[0][0])
    ttl = dt.timedelta(hours=settings.KATTOO_STAFF["TOKEN_HOURS"])
    user_actor = Actor(user=user, channel=actor.channel, request_id=actor.request_id)
    with transaction.atomic():
        raw = token_issue(user=user, actor=user_actor, label="staff", ttl=ttl)
        audit_record(actor=user_actor, action="staff.login", obj=user, data={"ip": client_ip})
    return raw, clock.now() + ttl
