"""POST /api/v1/notifications/delivery-reports: the SMS gateway's report, authenticated by the
shared secret header (ADR 0022)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.audit.models import AuditEvent
from kattoo.notifications.models import DeliveryReport, Notification
from kattoo.notifications.services import notification_queue
from kattoo.notifications.tasks import notification_deliver

from ..factories import UserFactory

URL = "/api/v1/notifications/delivery-reports"
SECRET = "gateway-shared-secret"


@pytest.fixture(autouse=True)
def _secret(settings) -> None:
    settings.KATTOO_SMS = {**settings.KATTOO_SMS, "REPORT_SECRET": SECRET}


@pytest.fixture
def sent(db) -> Notification:
    user = UserFactory(role=Role.OPERATOR)
    queued = notification_queue(
        user=user,
        event="login_code",
        context={"code": "123456"},
        dedupe_key="login_code:report-test",
        address="+996700123456",
    )
    assert queued is not None
    assert notification_deliver.call(str(queued.pk)) == "sent"
    return Notification.objects.get(pk=queued.pk)


def report(client: Client, payload: dict[str, str], secret: str | None = SECRET):
    headers = {"X-Kattoo-Sms-Secret": secret} if secret is not None else {}
    return client.post(URL, json.dumps(payload), content_type="application/json", headers=headers)


def test_a_delivered_report_is_recorded_and_audited(client: Client, sent: Notification) -> None:
    response = report(client, {"id": str(sent.pk), "status": "delivered"})
    assert response.status_code == 204, response.content
    sent.refresh_from_db()
    assert sent.report == DeliveryReport.DELIVERED and sent.reported_at is not None
    assert AuditEvent.objects.filter(
        action="notification.delivery_report", object_id=str(sent.pk)
    ).exists()


def test_a_failed_report_by_the_gateways_message_id(client: Client, sent: Notification) -> None:
    response = report(client, {"message_id": sent.provider_id, "status": "failed"})
    assert response.status_code == 204, response.content
    sent.refresh_from_db()
    assert sent.report == DeliveryReport.UNDELIVERED


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_a_bad_secret_is_refused_and_changes_nothing(
    client: Client, sent: Notification, secret: str | None
) -> None:
    response = report(client, {"id": str(sent.pk), "status": "delivered"}, secret)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    sent.refresh_from_db()
    assert sent.report == "" and sent.reported_at is None


def test_no_configured_secret_refuses_every_report(
    client: Client, sent: Notification, settings
) -> None:
    settings.KATTOO_SMS = {**settings.KATTOO_SMS, "REPORT_SECRET": ""}
    assert report(client, {"id": str(sent.pk), "status": "delivered"}, "").status_code == 401


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "00000000-0000-0000-0000-000000000000", "status": "delivered"},
        {"id": "not-a-uuid", "status": "delivered"},
        {"message_id": "msg-unknown", "status": "delivered"},
        {"status": "delivered"},
    ],
)
def test_an_unknown_message_is_not_found(
    client: Client, sent: Notification, payload: dict[str, str]
) -> None:
    assert report(client, payload).status_code == 404
    sent.refresh_from_db()
    assert sent.report == ""


def test_a_nul_in_the_message_id_is_refused(client: Client, sent: Notification) -> None:
    response = report(client, {"message_id": "msg\u0000nul", "status": "delivered"})
    assert response.status_code in {400, 404}  # never a 500 from PostgreSQL's text
    sent.refresh_from_db()
    assert sent.report == ""


def test_an_unknown_status_is_a_validation_problem(client: Client, sent: Notification) -> None:
    assert report(client, {"id": str(sent.pk), "status": "lost"}).status_code == 422
