"""The SMS gateway over HTTP against a stub provider started by the test (127.0.0.1, a random
port): sending, the idempotent retry, transient errors then success, a permanent refusal.
Backoff is proven by the recorded attempts, never by timing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kattoo.accounts.models import Role
from kattoo.integrations.sms.gateway import HttpSmsGateway
from kattoo.notifications.backends import DeliveryError, PermanentDeliveryError
from kattoo.notifications.models import REDACTED, DeliveryStatus, Notification
from kattoo.notifications.services import notification_queue
from kattoo.notifications.tasks import notification_deliver

from ...factories import UserFactory

PHONE = "+996700123456"


@dataclass
class Provider:
    """A provider's HTTP API: keeps our id, answers a repeated one with the first message id."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[str, str] = field(default_factory=dict)  # our id -> its message id
    # What the next requests get instead of an answer (status codes), in order.
    faults: list[int] = field(default_factory=list)

    def handle(self, headers: dict[str, str], payload: dict[str, Any]) -> tuple[int, Any]:
        self.requests.append({"headers": headers, "payload": payload})
        if self.faults:
            return self.faults.pop(0), {"error": "fault"}
        if headers.get("authorization") != "Bearer t0ken":
            return 401, {"error": "unauthorised"}
        if payload["id"] in self.messages:
            return 409, {"message_id": self.messages[payload["id"]], "duplicate": True}
        self.messages[payload["id"]] = message_id = f"msg-{len(self.messages) + 1}"
        return 200, {"message_id": message_id}

    @property
    def delivered(self) -> list[dict[str, Any]]:
        return [r["payload"] for r in self.requests if r["payload"]["id"] in self.messages]


@pytest.fixture
def provider(settings) -> Iterator[Provider]:
    stub = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length", "0"))
            payload = json.loads(self.rfile.read(size))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = stub.handle(headers, payload)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/api/v1/sms/send"
    settings.KATTOO_SMS = {
        **settings.KATTOO_SMS,
        "URL": stub.url,
        "TOKEN": "t0ken",
        "SENDER": "Kattoo",
        "RETRIES": 3,
        "BACKOFF_INITIAL": 0.01,
    }
    settings.KATTOO_NOTIFICATIONS = {
        "BACKEND": "kattoo.integrations.sms.gateway.HttpSmsGateway",
        "FILE": "",
    }
    yield stub
    server.shutdown()
    server.server_close()


def gateway(sleeps: list[float] | None = None) -> HttpSmsGateway:
    return HttpSmsGateway(sleep=(sleeps if sleeps is not None else []).append)


def test_a_message_is_sent_with_sender_key_and_token(provider: Provider) -> None:
    message_id = gateway().send(key="k-1", channel="sms", address=PHONE, subject="", body="Salam")
    assert message_id == "msg-1"
    (request,) = provider.requests
    assert request["payload"] == {"id": "k-1", "sender": "Kattoo", "phone": PHONE, "text": "Salam"}
    assert request["headers"]["idempotency-key"] == "k-1"


def test_login_and_password_when_no_token(provider: Provider, settings) -> None:
    settings.KATTOO_SMS = {**settings.KATTOO_SMS, "TOKEN": "", "LOGIN": "kattoo", "PASSWORD": "pw"}
    with pytest.raises(PermanentDeliveryError):  # the stub wants the token: 401 is permanent
        gateway().send(key="k-1", channel="sms", address=PHONE, subject="", body="x")
    payload = provider.requests[0]["payload"]
    assert (payload["login"], payload["password"]) == ("kattoo", "pw")
    assert "authorization" not in provider.requests[0]["headers"]


def test_a_retry_of_the_same_key_is_not_a_second_sms(provider: Provider) -> None:
    first = gateway().send(key="k-1", channel="sms", address=PHONE, subject="", body="x")
    again = gateway().send(key="k-1", channel="sms", address=PHONE, subject="", body="x")
    assert first == again == "msg-1"
    assert list(provider.messages) == ["k-1"] and len(provider.requests) == 2


def test_transient_errors_are_retried_with_backoff_then_succeed(provider: Provider) -> None:
    provider.faults = [503, 429]
    sleeps: list[float] = []
    sms = gateway(sleeps)
    assert sms.send(key="k-1", channel="sms", address=PHONE, subject="", body="x") == "msg-1"
    assert sms.attempts == [1, 2, 3] and len(sleeps) == 2
    assert {r["payload"]["id"] for r in provider.requests} == {"k-1"}  # the same key each time


def test_transient_errors_past_the_retries_leave_it_to_the_task(provider: Provider) -> None:
    provider.faults = [502, 502, 502]
    sms = gateway()
    with pytest.raises(DeliveryError) as raised:
        sms.send(key="k-1", channel="sms", address=PHONE, subject="", body="x")
    assert not isinstance(raised.value, PermanentDeliveryError)
    assert sms.attempts == [1, 2, 3]


def test_an_unreachable_gateway_is_transient_and_names_no_text(settings) -> None:
    settings.KATTOO_SMS = {**settings.KATTOO_SMS, "URL": "http://127.0.0.1:9/", "RETRIES": 2}
    sms = gateway()
    with pytest.raises(DeliveryError) as raised:
        sms.send(key="k-1", channel="sms", address=PHONE, subject="", body="code 123456")
    assert "123456" not in str(raised.value) and sms.attempts == [1, 2]


def test_a_permanent_refusal_is_not_retried(provider: Provider) -> None:
    provider.faults = [400]
    sms = gateway()
    with pytest.raises(PermanentDeliveryError):
        sms.send(key="k-1", channel="sms", address=PHONE, subject="", body="x")
    assert sms.attempts == [1]


def queue_code(user, code: str = "424242") -> Notification:
    notification = notification_queue(
        user=user,
        event="login_code",
        context={"code": code},
        dedupe_key=f"login_code:test-{code}",
        address=PHONE,
    )
    assert notification is not None
    return Notification.objects.get(pk=notification.pk)


def test_the_delivery_task_sends_through_the_gateway_and_blanks_the_code(
    db, provider: Provider
) -> None:
    notification = queue_code(UserFactory(role=Role.OPERATOR))
    assert notification_deliver.call(str(notification.pk)) == "sent"
    (sent,) = provider.delivered
    assert "424242" in sent["text"] and sent["id"] == str(notification.pk)
    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.SENT and notification.provider_id == "msg-1"
    assert (notification.body, notification.secret_body) == (REDACTED, "")


def test_a_permanent_refusal_fails_the_notification_at_once(db, provider: Provider) -> None:
    provider.faults = [400]
    notification = queue_code(UserFactory(role=Role.OPERATOR))
    assert notification_deliver.call(str(notification.pk)) == "failed"
    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.FAILED and notification.attempts == 1
    assert notification.secret_body == ""  # never to be sent: not kept either
