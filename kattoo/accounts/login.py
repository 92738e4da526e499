"""Sign-in for applicants: PIN, then a one-time code by SMS to the phone the registry holds.

Limits (settings ``KATTOO_LOGIN``): codes per PIN and per client address in a window
(cache counters, Redis in production), attempts per code, code lifetime. Every start and
every verification is audited."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from kattoo.audit.services import audit_record
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.notifications.services import notification_queue

from .models import LoginChallenge, User
from .services import applicant_for_pin, token_issue


def _digest(challenge_salt: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{challenge_salt}:{code}".encode(), hashlib.sha256).hexdigest()


def _limit(key: str, *, limit: int, window: int) -> None:
    """A fixed-window counter in the cache; over the limit is ``rate_limited`` (429)."""
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    if count > limit:
        raise RuleViolation("rate_limited")


def _refund(key: str) -> None:
    with contextlib.suppress(ValueError):  # the window expired meanwhile: nothing to give back
        cache.decr(key)


def mask_phone(phone: str) -> str:
    return phone[:4] + " *** ** " + phone[-2:] if len(phone) > 6 else "***"


@dataclass(frozen=True, slots=True)
class ChallengeStarted:
    challenge: LoginChallenge
    phone_masked: str


def login_challenge_start(*, pin: str, client_ip: str | None, actor: Actor) -> ChallengeStarted:
    config = settings.KATTOO_LOGIN
    window = config["WINDOW_SECONDS"]
    _limit(f"login:pin:{pin}", limit=config["CODES_PER_PIN"], window=window)
    if client_ip:
        _limit(f"login:ip:{client_ip}", limit=config["CODES_PER_IP"], window=window)
    try:
        user = applicant_for_pin(pin=pin, actor=actor)  # §7: verified through the registry
    except RuleViolation as exc:
        if exc.code == "registry_unavailable":
            # No code was sent, so the attempt does not count towards the codes-per-PIN limit:
            # a parent who keeps trying through a Tunduk outage can sign in once it is back.
            # The per-address limit still counts it, so one client cannot hammer the registry.
            _refund(f"login:pin:{pin}")
        raise
    assert user.person is not None
    phone = user.person.phone
    if not phone:
        raise RuleViolation("no_phone_on_record")
    code = f"{secrets.randbelow(10**6):06d}"
    now = clock.now()
    with transaction.atomic():
        challenge = LoginChallenge.objects.create(
            user=user,
            code_digest="",
            phone=phone,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=config["CODE_TTL_SECONDS"]),
            client_ip=client_ip,
        )
        challenge.code_digest = _digest(str(challenge.pk), code)
        challenge.save(update_fields=["code_digest"])
        notification_queue(
            user=user,
            event="login_code",
            context={"code": code},
            dedupe_key=f"login_code:{challenge.pk}",
            address=phone,
        )
        audit_record(
            actor=Actor(user=user, channel=actor.channel, request_id=actor.request_id),
            action="login.code_sent",
            obj=challenge,
            data={"ip": client_ip},
        )
    return ChallengeStarted(challenge=challenge, phone_masked=mask_phone(phone))


def login_challenge_verify(*, challenge_id: int, code: str, actor: Actor) -> User:
    """The user, once the code matches; wrong codes count towards a lockout."""
    config = settings.KATTOO_LOGIN
    with transaction.atomic():
        challenge = (
            LoginChallenge.objects.select_for_update(no_key=True, of=("self",))
            .select_related("user")
            .filter(pk=challenge_id)
            .first()
        )
        if challenge is None or challenge.used_at is not None:
            raise RuleViolation("code_expired")
        if challenge.attempts >= config["ATTEMPTS_PER_CODE"]:
            raise RuleViolation("code_locked")
        if clock.now() >= challenge.expires_at:
            raise RuleViolation("code_expired")
        if not hmac.compare_digest(challenge.code_digest, _digest(str(challenge.pk), code.strip())):
            challenge.attempts += 1
            challenge.save(update_fields=["attempts"])
            audit_record(
                actor=Actor(user=challenge.user, channel=actor.channel),
                action="login.code_wrong",
                obj=challenge,
                data={"attempts": challenge.attempts},
            )
            failed = RuleViolation(
                "code_locked"
                if challenge.attempts >= config["ATTEMPTS_PER_CODE"]
                else "code_invalid"
            )
        else:
            challenge.used_at = clock.now()
            challenge.save(update_fields=["used_at"])
            audit_record(
                actor=Actor(user=challenge.user, channel=actor.channel),
                action="login.success",
                obj=challenge,
            )
            return challenge.user
    # Raised after the commit, so the counted attempt stays counted.
    raise failed


def login_token(*, user: User, actor: Actor) -> tuple[str, dt.datetime]:
    days = dt.timedelta(days=settings.KATTOO_LOGIN["TOKEN_DAYS"])
    return token_issue(user=user, actor=actor, label="login", ttl=days), clock.now() + days
