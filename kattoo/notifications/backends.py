"""Where messages go. The demo and development write them to a file and the console; a real
SMS or e-mail gateway is another backend behind the same two methods (settings
``KATTOO_NOTIFICATIONS["BACKEND"]``). A backend receives the notification id as an
idempotency key, so a gateway that honours it never delivers one message twice."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("kattoo.notifications")


class DeliveryError(Exception):
    """The gateway refused or failed; the task retries later."""


class PermanentDeliveryError(DeliveryError):
    """The gateway refused for good (a wrong number, a refused sender): no retry."""


def mask_address(address: str) -> str:
    """What a log line may say about a phone number or e-mail address."""
    if "@" in address:
        name, _, domain = address.partition("@")
        return name[:1] + "***@" + domain
    return address[:4] + "***" + address[-2:] if len(address) > 6 else "***"


class NotificationBackend(Protocol):
    def send(self, *, key: str, channel: str, address: str, subject: str, body: str) -> str:
        """Deliver; return the provider's message id."""
        ...


class FileBackend:
    """Appends each message as a JSON line to a file (the demo's "phone"); logs only the event
    and a masked address, never the text (ADR 0022)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, *, key: str, channel: str, address: str, subject: str, body: str) -> str:
        record = {"id": key, "channel": channel, "to": address, "subject": subject, "body": body}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        # The event, never the text: it may be a sign-in code (ADR 0022).
        logger.info("%s %s written to the outbox file for %s", channel, key, mask_address(address))
        return key


class MemoryBackend:
    """Keeps messages in a list: the tests' phone (``tests/notifications/phone.py`` reads it)."""

    outbox: list[dict[str, Any]] = []
    fail_next: int = 0

    def send(self, *, key: str, channel: str, address: str, subject: str, body: str) -> str:
        if MemoryBackend.fail_next > 0:
            MemoryBackend.fail_next -= 1
            raise DeliveryError("simulated gateway failure")
        MemoryBackend.outbox.append(
            {"id": key, "channel": channel, "to": address, "subject": subject, "body": body}
        )
        return key


def backend() -> NotificationBackend:
    config = settings.KATTOO_NOTIFICATIONS
    cls = import_string(config["BACKEND"])
    if cls is FileBackend:
        return FileBackend(config["FILE"])
    instance: NotificationBackend = cls()
    return instance
