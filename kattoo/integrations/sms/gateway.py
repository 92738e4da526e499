"""The SMS gateway over HTTP, in the shape Kyrgyz providers' APIs share (ADR 0022).

One request a message: ``POST {URL}`` with JSON ``{"id", "sender", "phone", "text"}`` and
either ``Authorization: Bearer {TOKEN}`` or ``"login"``/``"password"`` in the body. The
gateway answers ``{"message_id": ...}``; it keeps our ``id`` (the notification's key, the
same on every attempt) and answers a repeated one with the first message's id (200 or 409)
instead of sending a second SMS. 429, 5xx and network failures are transient: retried here
a few times with backoff, then left to the delivery task's own retries; any other 4xx is
permanent (a wrong number, a refused sender) and is not retried.

Delivery reports come back to ``POST /api/v1/notifications/delivery-reports``
(``kattoo.notifications.reports``). Neither the text nor the full number reaches a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import tenacity
from django.conf import settings

from kattoo.notifications.backends import DeliveryError, PermanentDeliveryError, mask_address

logger = logging.getLogger("kattoo.notifications")


class _Transient(DeliveryError):
    pass


class HttpSmsGateway:
    def __init__(
        self,
        *,
        config: dict[str, Any] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = tenacity.nap.sleep,
    ) -> None:
        self.config = {**settings.KATTOO_SMS, **(config or {})}
        if not self.config["URL"]:
            raise DeliveryError("KATTOO_SMS_URL is not set")
        self.client = httpx.Client(timeout=self.config["TIMEOUT"], transport=transport)
        initial = float(self.config["BACKOFF_INITIAL"])
        self.attempts: list[int] = []  # the attempt numbers made for the last message (tests)
        self._retrying = tenacity.Retrying(
            sleep=sleep,
            stop=tenacity.stop_after_attempt(int(self.config["RETRIES"])),
            wait=tenacity.wait_exponential(multiplier=initial, max=initial * 8)
            + tenacity.wait_random(0, initial),
            retry=tenacity.retry_if_exception_type(_Transient),
            reraise=True,
        )

    def send(self, *, key: str, channel: str, address: str, subject: str, body: str) -> str:
        if channel != "sms":
            raise PermanentDeliveryError(f"the SMS gateway cannot send {channel}")
        self.attempts = []
        try:
            provider_id: str = self._retrying(self._post, key, address, body)
        except _Transient as exc:
            raise DeliveryError(str(exc)) from None
        # DEBUG: one a message (ADR 0043); a refusal or an outage is a warning of its own.
        logger.debug("sms %s accepted by the gateway for %s", key, mask_address(address))
        return provider_id

    def _post(self, key: str, address: str, text: str) -> str:
        self.attempts.append(len(self.attempts) + 1)
        payload: dict[str, str] = {
            "id": key,
            "sender": self.config["SENDER"],
            "phone": address,
            "text": text,
        }
        headers = {"Idempotency-Key": key}
        if self.config["TOKEN"]:
            headers["Authorization"] = f"Bearer {self.config['TOKEN']}"
        else:
            payload |= {"login": self.config["LOGIN"], "password": self.config["PASSWORD"]}
        try:
            response = self.client.post(self.config["URL"], json=payload, headers=headers)
        except httpx.HTTPError as exc:
            # The exception names the URL only, never the payload.
            raise _Transient(f"gateway unreachable: {type(exc).__name__}") from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Transient(f"gateway answered {status}")
        if status >= 400 and status != 409:
            raise PermanentDeliveryError(f"gateway refused the message: {status}")
        try:
            message_id = str(response.json()["message_id"])
        except (ValueError, KeyError, TypeError):
            raise _Transient(f"gateway answered {status} without a message id") from None
        return message_id
