"""What the phone received: the one supported way for tests to read a sent SMS (ADR 0022).

A secret message (the sign-in code) is not readable in the outbox table; the tests read it
where a person would, on the phone — the memory backend of the test settings. A message still
queued (its delivery task runs after commit, which a test inside a transaction never reaches)
is delivered first."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

from kattoo.accounts.models import LoginChallenge, token_digest
from kattoo.accounts.tasks import login_code_send
from kattoo.core.limits import pseudonym
from kattoo.notifications.backends import MemoryBackend
from kattoo.notifications.models import DeliveryStatus, Notification
from kattoo.notifications.tasks import notification_deliver


def received(dedupe_key: str) -> str:
    """The text the phone received for the notification of ``dedupe_key``."""
    notification = Notification.objects.get(dedupe_key=dedupe_key)
    key = str(notification.pk)
    if notification.status == DeliveryStatus.QUEUED:
        notification_deliver.call(key)
    texts = [m["body"] for m in MemoryBackend.outbox if m["id"] == key]
    assert texts, f"{dedupe_key} never reached the phone"
    return texts[-1]


def _challenge(challenge: object) -> LoginChallenge:
    if isinstance(challenge, LoginChallenge):
        return challenge
    if isinstance(challenge, int):
        return LoginChallenge.objects.get(pk=challenge)
    return LoginChallenge.objects.get(handle_digest=token_digest(str(challenge)))


def sign_in_code(challenge: object) -> str:
    """The six digits of the sign-in SMS of ``challenge``: the handle the client holds, the
    challenge or its id. Its background lookup runs first if the worker has not yet (a task
    enqueued in a test's transaction runs at once under the test settings' immediate backend)."""
    found = _challenge(challenge)
    if not found.code_digest:
        login_code_send.call(found.pk)
    match = re.search(r"\b(\d{6})\b", received(f"login_code:{found.pk}"))
    assert match, "no code in the sign-in SMS"
    return match.group(1)


def latest_challenge(pin: str) -> LoginChallenge:
    """The newest sign-in challenge for ``pin`` (found by its keyed hash: the PIN is encrypted)."""
    return LoginChallenge.objects.filter(pin_key=pseudonym("pin", pin)).latest("pk")


def window_start(seconds: int = 900) -> dt.datetime:
    """The start of the current sign-in limit window (kattoo.core.limits aligns windows on the
    clock): tests of limits pin the clock here."""
    stamp = int(timezone.now().timestamp()) // seconds * seconds + 1
    return dt.datetime.fromtimestamp(stamp, tz=dt.UTC)
