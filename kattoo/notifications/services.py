"""Queue a message in the transaction of the event; deliver after commit (zulip's habit)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q

from kattoo.audit.services import audit_record
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation

from .messages import SECRET_EVENTS, render
from .models import REDACTED, Channel, DeliveryReport, DeliveryStatus, Notification
from .tasks import notification_deliver

if TYPE_CHECKING:  # the addressee only; accounts builds on notifications (sign-in codes)
    from kattoo.accounts.models import User

logger = logging.getLogger("kattoo.notifications")


def notification_deliver_after_commit(notification_id: str) -> None:
    """Deliver an outbox row once the transaction that wrote it commits (at once in
    autocommit): for a writer that inserts the row itself, as the opening minute's statement
    does (enrollment/fastpath.py)."""
    transaction.on_commit(functools.partial(notification_deliver.enqueue, notification_id))


def notification_queue(
    *,
    user: User | None,
    event: str,
    context: dict[str, Any],
    dedupe_key: str,
    channel: str = Channel.SMS,
    address: str | None = None,
    language: str | None = None,
) -> Notification | None:
    """Write the message to the outbox now (same transaction as the event) and deliver it after
    commit. Nothing is sent if the person has no phone (or e-mail) on record. Without a user
    (a sign-in code before the account exists) the address and language are given."""
    person = user.person if user is not None else None
    language = language or (user.language if user is not None else "ky")
    if address is None:
        address = (person.phone if channel == Channel.SMS else person.email) if person else ""
    if not address:
        logger.info("no %s address for user %s; %s not sent", channel, user and user.pk, event)
        return None
    text = render(event, context, language)
    secret = event in SECRET_EVENTS
    notification = Notification(
        user=user,
        channel=channel,
        address=address,
        event=event,
        language=language,
        # A secret text is only kept encrypted, and blanked once sent (ADR 0022).
        body=REDACTED if secret else text,
        secret_body=text if secret else "",
        created_at=clock.now(),
        dedupe_key=dedupe_key,
    )
    # One INSERT … ON CONFLICT DO NOTHING (no read first): a repeated event is ignored by the
    # unique dedupe key. Its task is enqueued anyway; a delivery task only ever sends a
    # notification it claims while still queued, so a second task is a no-op.
    Notification.objects.bulk_create([notification], ignore_conflicts=True)
    notification_deliver_after_commit(str(notification.pk))
    return notification


# A delivery attempt holds its row this long: longer than any gateway call can take.
CLAIM_LEASE = dt.timedelta(minutes=5)


def notifications_requeue_stale(*, older_than: dt.timedelta = CLAIM_LEASE) -> int:
    """Take back what a dead worker left claimed after its lease expired, and re-enqueue what
    was queued but whose task never ran (a crash between commit and enqueue). Run by a timer
    (cron, systemd) every minute or so; each notification is then sent again under its own
    id as the gateway's idempotency key (ADR 0006)."""
    cutoff = clock.now() - older_than
    with transaction.atomic():
        expired = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.SENDING)
            .filter(Q(claimed_at__lt=cutoff) | Q(claimed_at__isnull=True))
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=expired).update(
            status=DeliveryStatus.QUEUED, claim_id=None, claimed_at=None
        )
    forgotten = Notification.objects.filter(
        status=DeliveryStatus.QUEUED, created_at__lt=cutoff
    ).exclude(pk__in=expired)
    ids = [str(pk) for pk in [*expired, *forgotten.values_list("pk", flat=True)]]
    if expired:
        logger.warning("took back %d expired delivery claims", len(expired))
    for notification_id in ids:
        notification_deliver.enqueue(notification_id)
    return len(ids)


def notification_report_record(
    *, key: str = "", message_id: str = "", delivered: bool, actor: Actor
) -> Notification:
    """Record the gateway's delivery report on the notification it names: by our key (the
    notification id the gateway was given) or else by the gateway's message id. A report for
    a message we do not know is refused (``not_found``); a repeated report only updates."""
    with transaction.atomic():
        rows = Notification.objects.select_for_update()
        try:
            if key:
                notification = rows.get(pk=uuid.UUID(key))
            elif message_id and "\x00" not in message_id:
                notification = rows.get(provider_id=message_id[:100])
            else:
                raise Notification.DoesNotExist
        except (Notification.DoesNotExist, Notification.MultipleObjectsReturned, ValueError):
            raise RuleViolation("not_found") from None
        notification.report = DeliveryReport.DELIVERED if delivered else DeliveryReport.UNDELIVERED
        notification.reported_at = clock.now()
        notification.save(update_fields=["report", "reported_at"])
        audit_record(
            actor=actor,
            action="notification.delivery_report",
            obj=notification,
            data={"report": notification.report, "event": notification.event},
        )
    # DEBUG: one a message; the report is on the row and in the audit trail (ADR 0043).
    logger.debug("%s %s: %s", notification.channel, notification.pk, notification.report)
    return notification
