"""ADR 0022: a sign-in code never reaches a log line or a table; addresses are encrypted at
rest; the phone (the backend) is the only place a sent code is read."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from kattoo.accounts.models import LoginChallenge, Role, token_digest
from kattoo.core import clock
from kattoo.notifications.backends import MemoryBackend, mask_address
from kattoo.notifications.messages import SECRET_EVENTS
from kattoo.notifications.models import REDACTED, DeliveryStatus, Notification
from kattoo.notifications.services import notification_queue
from kattoo.notifications.tasks import notification_deliver

from ..api.test_applicant_api import Api
from ..conftest import World
from ..factories import UserFactory
from .phone import sign_in_code

PHONE = "+996700123456"


@pytest.fixture(autouse=True)
def _clean():
    cache.clear()
    MemoryBackend.outbox.clear()
    MemoryBackend.fail_next = 0
    yield
    cache.clear()
    MemoryBackend.outbox.clear()


def raw(notification: Notification, column: str) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM notifications_notification WHERE id = %s",
            [notification.pk.hex if connection.vendor == "sqlite" else notification.pk],
        )
        value = cursor.fetchone()[0]
    return bytes(value) if not isinstance(value, str) else value.encode()


def queue(event: str, context: dict[str, str], key: str) -> Notification:
    queued = notification_queue(
        user=UserFactory(role=Role.OPERATOR),
        event=event,
        context=context,
        dedupe_key=key,
        address=PHONE,
    )
    assert queued is not None
    return Notification.objects.get(pk=queued.pk)


def test_the_sign_in_code_is_a_secret_message() -> None:
    assert "login_code" in SECRET_EVENTS


def test_a_code_is_not_readable_at_rest_and_blanked_once_sent(db) -> None:
    notification = queue("login_code", {"code": "987654"}, "login_code:at-rest")
    assert notification.body == REDACTED and "987654" in notification.secret_body
    for column in ("body", "secret_body", "address"):
        stored = raw(notification, column)
        assert b"987654" not in stored and PHONE.encode() not in stored, column
    assert notification_deliver.call(str(notification.pk)) == "sent"
    assert MemoryBackend.outbox[-1]["body"].count("987654") == 1
    assert MemoryBackend.outbox[-1]["to"] == PHONE
    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.SENT
    assert (notification.body, notification.secret_body, notification.address) == (
        REDACTED,
        "",
        PHONE,
    )


def test_a_code_that_fails_for_good_is_not_kept(db, settings) -> None:
    notification = queue("login_code", {"code": "987654"}, "login_code:fails")
    Notification.objects.filter(pk=notification.pk).update(attempts=4)
    MemoryBackend.fail_next = 1
    assert notification_deliver.call(str(notification.pk)) == "failed"
    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.FAILED and notification.secret_body == ""


def test_an_ordinary_message_keeps_its_text_until_the_retention_purge(db) -> None:
    notification = queue("appeal_answered", {"number": "12"}, "appeal_answered:12")
    assert "12" in notification.body and notification.secret_body == ""
    assert notification_deliver.call(str(notification.pk)) == "sent"
    notification.refresh_from_db()
    assert "12" in notification.body


def test_no_log_line_carries_the_code_or_the_number(
    client: Client, world: World, caplog, settings, tmp_path: Path
) -> None:
    """The whole sign-in through the file backend (the demo's phone): the file has the code,
    the log only the event and a masked number."""
    outbox = tmp_path / "outbox.jsonl"
    settings.KATTOO_NOTIFICATIONS = {
        "BACKEND": "kattoo.notifications.backends.FileBackend",
        "FILE": str(outbox),
    }
    family = world.family()
    caplog.set_level(logging.DEBUG)
    started = Api(client).post("/auth/code", {"pin": family.parent.person.pin})
    assert started.status_code == 202, started.content
    challenge = started.json()["challenge"]
    found = LoginChallenge.objects.get(handle_digest=token_digest(challenge))
    notification = Notification.objects.get(dedupe_key=f"login_code:{found.pk}")
    assert notification_deliver.call(str(notification.pk)) == "sent"
    (line,) = [json.loads(x) for x in outbox.read_text().splitlines()]
    code = next(word for word in line["body"].replace(".", " ").split() if word.isdigit())
    phone = family.parent.person.phone
    assert line["to"] == phone and len(code) == 6
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "sms" in logged and mask_address(phone) in logged
    assert code not in logged and phone not in logged


def test_tests_read_the_code_from_the_phone(client: Client, world: World) -> None:
    family = world.family()
    started = Api(client).post("/auth/code", {"pin": family.parent.person.pin})
    challenge = started.json()["challenge"]
    code = sign_in_code(challenge)
    assert len(code) == 6 and code.isdigit()
    token = Api(client).post("/auth/token", {"challenge": challenge, "code": code})
    assert token.status_code == 201, token.content


@pytest.mark.parametrize(
    ("address", "masked"),
    [("+996700123456", "+996***56"), ("ata@mail.kg", "a***@mail.kg"), ("12", "***")],
)
def test_addresses_are_masked_in_logs(address: str, masked: str) -> None:
    assert mask_address(address) == masked


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_addresses_and_redacts_stored_codes() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("notifications", "0002_delivery_claim_lease")])
    rows = [("login_code", "Kattoo: your sign-in code is 123456."), ("appeal_answered", "No. 5")]
    with connection.cursor() as cursor:
        for event, body in rows:
            cursor.execute(
                "INSERT INTO notifications_notification (id, channel, address, event, language,"
                " subject, body, dedupe_key, status, attempts, last_error, provider_id,"
                " created_at) VALUES (%s, 'sms', %s, %s, 'ky', '', %s, %s, 'sent', 1, '', '', %s)",
                [uuid.uuid4().hex, PHONE, event, body, f"{event}:m", clock.now()],
            )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    code = Notification.objects.get(event="login_code")
    answer = Notification.objects.get(event="appeal_answered")
    assert (code.address, code.body, code.secret_body) == (PHONE, REDACTED, "")
    assert (answer.address, answer.body) == (PHONE, "No. 5")
    assert PHONE.encode() not in raw(code, "address")
