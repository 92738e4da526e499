"""Sign-in for applicants: PIN, then a one-time code by SMS to the phone the registry holds.

What a stranger can learn or break is kept to nothing (issue 13, ADR 0023):

- **One answer for every well-formed PIN.** Asking for a code records a challenge and hands
  back a random handle, the same for a parent, a child, a PIN the registry does not know and
  an adult without a phone. The request asks the registry nothing and creates no account: a
  background task looks up only the phone (``contacts``) and sends the SMS when the PIN is an
  adult's with a phone on record. The account is created, and the person's data pulled from
  the registry, only after the code is verified.
- **Challenges cannot be addressed by strangers.** The handle is 256 random bits, kept by the
  browser's session (web) or returned once to the client (API); only its SHA-256 is stored.
  Wrong codes count per challenge (a lock after ``ATTEMPTS_PER_CODE``) and per client address
  (``WRONG_CODES_PER_CLIENT``, the code endpoint's own limit).
- **Limits nobody can turn against everybody** (``KATTOO_LOGIN``): codes per (PIN, client), per
  PIN (a phone is never bombed), per client, and a country-wide budget a minute that sheds load
  with ``503`` + ``Retry-After`` instead of locking anyone out. The client is the address
  ``kattoo.core.proxy`` takes from trusted proxies, so behind the balancer each parent counts
  on their own. A refusal says how long to wait.

Every request, verification and sent code is audited (without the PIN in the row).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from kattoo.audit.services import audit_record
from kattoo.core import clock, limits
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.integrations.registry.pin import InvalidPin, pin_parse

from .models import LoginChallenge, User, token_digest
from .services import applicant_for_pin, token_issue, user_language_set

logger = logging.getLogger("kattoo.accounts")

ADULT_AGE = 18  # only an adult applies for a child (§20); a child's PIN gets no SMS


def _code_digest(challenge: LoginChallenge, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{challenge.handle_digest}:{code}".encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    return phone[:4] + " *** ** " + phone[-2:] if len(phone) > 6 else "***"


def _config() -> dict[str, int]:
    return settings.KATTOO_LOGIN


def _window(name: str, setting: str, seconds: int | None = None) -> limits.Limit:
    config = _config()
    return limits.Limit(name, config[setting], seconds or config["WINDOW_SECONDS"])


def _pin_limits(pin: str, client: str | None) -> list[tuple[limits.Limit, str]]:
    return [
        (_window("codes-pin-client", "CODES_PER_PIN_CLIENT"), limits.pseudonym(pin, client)),
        (_window("codes-pin", "CODES_PER_PIN"), limits.pseudonym(pin)),
    ]


def _code_limits(pin: str, client: str | None) -> None:
    """Count one code request against each limit, the client's first (so a client over its own
    limit spends nobody else's budget); raise the first refusal."""
    checks = [(_window("codes-client", "CODES_PER_CLIENT"), client or "-")] if client else []
    checks += _pin_limits(pin, client)
    for limit, key in checks:
        wait = limits.hit(limit, key)
        if wait:
            raise limits.too_many(wait)
    # The whole country's budget a minute (the SMS gateway's capacity): past it the request is
    # shed, not counted against the person; they come back in the next minute.
    wait = limits.hit(_window("codes-country", "CODES_PER_MINUTE", 60), "all")
    if wait:
        raise limits.busy(wait)


@dataclass(frozen=True, slots=True)
class ChallengeStarted:
    handle: str  # the secret the client presents with the code; never stored
    expires_at: dt.datetime


def login_challenge_start(
    *, pin: str, client_ip: str | None, actor: Actor, language: str = ""
) -> ChallengeStarted:
    """Record a challenge for a well-formed ``pin`` and have its code sent in the background.
    The same work, and the same answer, whoever the PIN belongs to. ``language``: the one the
    person chose where the PIN was typed ("" when the client did not say)."""
    pin_parse(pin)  # the channels validated it; a malformed PIN is a programming error here
    _code_limits(pin, client_ip)
    handle = secrets.token_urlsafe(32)
    now = clock.now()
    with transaction.atomic():
        challenge = LoginChallenge.objects.create(
            handle_digest=token_digest(handle),
            pin=pin,
            pin_key=limits.pseudonym("pin", pin),
            language=language,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=_config()["CODE_TTL_SECONDS"]),
            client_ip=client_ip,
        )
        audit_record(
            actor=actor, action="login.code_requested", obj=challenge, data={"ip": client_ip}
        )
        # In the same transaction: the task row commits with the challenge, or neither does.
        from .tasks import login_code_send  # the task module imports this one

        login_code_send.enqueue(challenge.pk)
    return ChallengeStarted(handle=handle, expires_at=challenge.expires_at)


def _adult(pin: str, today: dt.date) -> bool:
    try:
        born = pin_parse(pin)[1]
    except InvalidPin:
        return False
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return years >= ADULT_AGE


def login_code_deliver(challenge_id: int) -> str:
    """The background half of a code request: find the phone the registry holds for the PIN
    and send the code to it. What happened is audited; the requester learns nothing of it."""
    from kattoo.integrations.registry.client import registry
    from kattoo.integrations.registry.errors import RegistryError, RegistryNotFound
    from kattoo.integrations.registry.types import RequestContext
    from kattoo.notifications.services import notification_queue

    challenge = LoginChallenge.objects.filter(
        pk=challenge_id, code_digest="", used_at__isnull=True
    ).first()
    if challenge is None or clock.now() >= challenge.expires_at:
        return "gone"
    outcome, phone = "not_adult", ""
    if _adult(challenge.pin, clock.today()):
        try:
            ctx = RequestContext(user_pin="", issue=f"login-{challenge.pk}")
            phone = registry().contacts(challenge.pin, ctx).value.phone
            outcome = "sent" if phone else "no_phone"
        except RegistryNotFound:
            outcome = "unknown"
        except RegistryError as exc:  # already retried by the client; the parent asks again
            logger.warning("sign-in code for challenge %s not sent: %s", challenge.pk, exc)
            outcome = "registry_unavailable"
            # No code was sent, so the request does not count towards the PIN's limits: a
            # parent who keeps asking through a Tunduk outage can sign in once it is back. The
            # per-address limit still counts it, so one client cannot hammer the registry.
            for limit, key in _pin_limits(challenge.pin, challenge.client_ip):
                limits.refund(limit, key, at=challenge.created_at.timestamp())
    with transaction.atomic():
        if outcome == "sent":
            code = f"{secrets.randbelow(10**6):06d}"
            challenge.code_digest = _code_digest(challenge, code)
            challenge.phone = phone
            challenge.sent_at = clock.now()
            challenge.save(update_fields=["code_digest", "phone", "sent_at"])
            known = User.objects.filter(username=challenge.pin).only("language").first()
            notification_queue(
                user=None,
                language=challenge.language or (known.language if known else "ky"),
                event="login_code",
                context={"code": code},
                dedupe_key=f"login_code:{challenge.pk}",
                address=phone,
            )
        audit_record(
            actor=Actor.system(),
            action="login.code_sent" if outcome == "sent" else "login.code_not_sent",
            obj=challenge,
            data={"outcome": outcome, **({"phone": mask_phone(phone)} if phone else {})},
        )
    return outcome


def _wrong_code_limit() -> limits.Limit:
    return _window("wrong-codes-client", "WRONG_CODES_PER_CLIENT")


def login_challenge_verify(
    *, challenge: str, code: str, actor: Actor, client_ip: str | None = None
) -> User:
    """The user, once the code matches. Wrong codes count per challenge and per client; the
    account is created (and the registry asked for the person) only now."""
    config = _config()
    if client_ip:
        wait = limits.over(_wrong_code_limit(), client_ip)
        if wait:
            raise limits.too_many(wait)
    failed: RuleViolation | None = None
    with transaction.atomic():
        found = (
            LoginChallenge.objects.select_for_update(no_key=True, of=("self",))
            .filter(handle_digest=token_digest(challenge))
            .first()
        )
        if found is None:
            failed = RuleViolation("code_expired")  # never issued: tells nothing more
        elif found.used_at is not None:
            raise RuleViolation("code_expired")
        elif found.attempts >= config["ATTEMPTS_PER_CODE"]:
            raise RuleViolation("code_locked")
        elif clock.now() >= found.expires_at:
            raise RuleViolation("code_expired")
        elif not found.code_digest or not hmac.compare_digest(
            found.code_digest, _code_digest(found, code.strip())
        ):
            found.attempts += 1
            found.save(update_fields=["attempts"])
            audit_record(
                actor=actor,
                action="login.code_wrong",
                obj=found,
                data={"attempts": found.attempts, "ip": client_ip},
            )
            locked = found.attempts >= config["ATTEMPTS_PER_CODE"]
            failed = RuleViolation("code_locked" if locked else "code_invalid")
        else:
            found.used_at = clock.now()
            found.save(update_fields=["used_at"])
    if failed is not None:
        # Counted after the commit, so the counted attempt stays counted.
        if client_ip:
            limits.hit(_wrong_code_limit(), client_ip)
        raise failed
    assert found is not None
    try:
        # §7: verified through the registry; the language chosen where the PIN was typed
        # becomes a new account's language (its SMS speak it).
        user = applicant_for_pin(pin=found.pin, actor=actor, language=found.language or None)
    except RuleViolation:
        # The registry did not answer (or refused): the code stays good until it expires.
        LoginChallenge.objects.filter(pk=found.pk).update(used_at=None)
        raise
    with transaction.atomic():
        LoginChallenge.objects.filter(pk=found.pk).update(user=user)
        # The language of the page where the PIN was typed is the account's from now on:
        # the SMS that follow speak it (issue 14); the language switcher changes it later.
        if found.language:
            user_language_set(user=user, language=found.language, actor=actor)
        audit_record(
            actor=Actor(user=user, channel=actor.channel, request_id=actor.request_id),
            action="login.success",
            obj=found,
        )
    return user


def login_token(*, user: User, actor: Actor) -> tuple[str, dt.datetime]:
    days = dt.timedelta(days=settings.KATTOO_LOGIN["TOKEN_DAYS"])
    return token_issue(user=user, actor=actor, label="login", ttl=days), clock.now() + days
