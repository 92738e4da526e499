"""What the phone received: the one supported way for tests to read a sent SMS (ADR 0022).

A secret message (the sign-in code) is not readable in the outbox table; the tests read it
where a person would, on the phone — the memory backend of the test settings. A message still
queued (its delivery task runs after commit, which a test inside a transaction never reaches)
is delivered first."""

from __future__ import annotations

import re

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


def sign_in_code(challenge: object) -> str:
    """The six digits of the sign-in SMS of ``challenge`` (its id)."""
    match = re.search(r"\b(\d{6})\b", received(f"login_code:{challenge}"))
    assert match, "no code in the sign-in SMS"
    return match.group(1)
