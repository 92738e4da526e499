"""API v1: the SMS gateway's delivery reports (ADR 0022). Public in the OpenAPI sense (no
bearer token): the gateway proves itself by the shared secret ``KATTOO_SMS["REPORT_SECRET"]``
in ``X-Kattoo-Sms-Secret``; without a configured secret every report is refused."""

from __future__ import annotations

import hmac
from typing import Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema

from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.notifications.services import notification_report_record

from .routes import PROBLEMS

router = Router(tags=["notifications"])

SECRET_HEADER = "X-Kattoo-Sms-Secret"  # noqa: S105 (a header name)


class DeliveryReportIn(Schema):
    id: str = ""  # our key: the notification id the gateway was given
    message_id: str = ""  # the gateway's own id, when it does not echo ours
    status: Literal["delivered", "failed", "undelivered", "rejected", "expired"]


def _gateway_authenticated(request: HttpRequest) -> bool:
    secret = str(settings.KATTOO_SMS["REPORT_SECRET"])
    given = request.headers.get(SECRET_HEADER, "")
    return bool(secret) and hmac.compare_digest(given.encode(), secret.encode())


@router.post(
    "/notifications/delivery-reports",
    auth=None,
    response={204: None, **PROBLEMS},
    summary="A delivery report from the SMS gateway (shared-secret header)",
)
def delivery_report(request: HttpRequest, payload: DeliveryReportIn) -> tuple[int, None]:
    if not _gateway_authenticated(request):
        raise RuleViolation("unauthorized")
    notification_report_record(
        key=payload.id[:64],
        message_id=payload.message_id,
        delivered=payload.status == "delivered",
        actor=Actor(user=None, channel="api", request_id=getattr(request, "request_id", "")),
    )
    return 204, None
