"""Delivery runs in the task worker (``manage.py db_worker``), never in the request."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django_tasks import task

from kattoo.core import clock

from .backends import DeliveryError, backend
from .models import DeliveryStatus, Notification

logger = logging.getLogger("kattoo.notifications")

MAX_ATTEMPTS = 5


@task()
def notification_deliver(notification_id: str) -> str:
    """Claim the notification (queued → sending, committed), send it, record the outcome.

    A worker killed after the claim leaves it ``sending``; ``notifications_requeue_stale``
    puts it back. The gateway gets the notification id as its idempotency key, so a resend
    after a send whose outcome was lost does not reach the phone twice."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, status=DeliveryStatus.QUEUED)
            .first()
        )
        if notification is None:
            return "not-queued"
        notification.status = DeliveryStatus.SENDING
        notification.attempts += 1
        notification.save(update_fields=["status", "attempts"])
    try:
        provider_id = backend().send(
            key=str(notification.pk),
            channel=notification.channel,
            address=notification.address,
            subject=notification.subject,
            body=notification.body,
        )
    except DeliveryError as exc:
        final = notification.attempts >= MAX_ATTEMPTS
        Notification.objects.filter(pk=notification.pk).update(
            status=DeliveryStatus.FAILED if final else DeliveryStatus.QUEUED,
            last_error=str(exc)[:300],
        )
        if not final and notification_deliver.get_backend().supports_defer:
            # Back off 2, 4, 8, 16 s; a backend that cannot defer leaves it to the sweeper.
            delay = dt.timedelta(seconds=2**notification.attempts)
            notification_deliver.using(run_after=clock.now() + delay).enqueue(notification_id)
        logger.warning(
            "delivery of %s failed (attempt %d): %s", notification_id, notification.attempts, exc
        )
        return "failed"
    Notification.objects.filter(pk=notification.pk).update(
        status=DeliveryStatus.SENT, sent_at=clock.now(), provider_id=provider_id[:100]
    )
    return "sent"
