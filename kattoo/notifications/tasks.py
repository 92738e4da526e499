"""Delivery runs in the task worker (``manage.py db_worker``), never in the request."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from concurrent.futures import Executor

from django.db import transaction
from django.db.models import F, Q
from django_tasks import task

from kattoo.core import clock

from .backends import (
    DeliveryError,
    NotificationBackend,
    PermanentDeliveryError,
    backend,
    mask_address,
)
from .messages import SECRET_EVENTS
from .models import DeliveryStatus, Notification

logger = logging.getLogger("kattoo.notifications")

MAX_ATTEMPTS = 5


@task()
def notification_deliver(notification_id: str) -> str:
    """Claim the notification (queued → sending with a fresh claim id, committed), send it,
    record the outcome under that claim.

    A worker killed after the claim leaves it ``sending``; once the lease has expired,
    ``notifications_requeue_stale`` takes it back and sends again. The gateway gets the
    notification id (the same on every attempt) as its idempotency key, so a resend after a
    send whose outcome was lost does not reach the phone twice (ADR 0006)."""
    claim = uuid.uuid4()
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
        notification.claim_id, notification.claimed_at = claim, clock.now()
        notification.save(update_fields=["status", "attempts", "claim_id", "claimed_at"])
    return _send_claimed(notification, claim, retry_by_task=True)


def _attempt(notification: Notification, sender: NotificationBackend) -> str | DeliveryError:
    """Hand the message to the gateway: its message id, or the failure. No database work, so
    the outbox drain runs several side by side (``notifications_drain``'s ``pool``)."""
    try:
        return sender.send(
            key=str(notification.pk),
            channel=notification.channel,
            address=notification.address,
            subject=notification.subject,
            body=notification.text,
        )
    except DeliveryError as exc:
        return exc


def _send_claimed(
    notification: Notification,
    claim: uuid.UUID,
    *,
    retry_by_task: bool,
    outcome: str | DeliveryError | None = None,
) -> str:
    """Send a notification this attempt has claimed (``sending`` under ``claim``) and record
    the outcome under that claim. A failure that may be retried goes back to ``queued``: a
    task is deferred for it (``retry_by_task``) or the outbox drain takes it again after its
    back-off (``retry_backoff``). ``outcome``: the send already made (``_attempt``)."""
    notification_id = str(notification.pk)
    # Only the attempt whose claim still stands records its outcome: a worker that overran
    # its lease must not overwrite what the attempt that took over has recorded.
    mine = Notification.objects.filter(pk=notification.pk, claim_id=claim)
    if outcome is None:
        outcome = _attempt(notification, backend())
    if isinstance(outcome, DeliveryError):
        exc = outcome
        final = isinstance(exc, PermanentDeliveryError) or notification.attempts >= MAX_ATTEMPTS
        if not mine.update(
            status=DeliveryStatus.FAILED if final else DeliveryStatus.QUEUED,
            last_error=str(exc)[:300],
            claim_id=None,
            # A secret that will never be sent is not kept either.
            **({"secret_body": ""} if final else {}),
        ):
            logger.warning("delivery of %s failed after its claim expired", notification_id)
            return "claim-lost"
        if not final and retry_by_task and notification_deliver.get_backend().supports_defer:
            # Back off 2, 4, 8, 16 s; a backend that cannot defer leaves it to the sweeper.
            delay = retry_backoff(notification.attempts)
            notification_deliver.using(run_after=clock.now() + delay).enqueue(notification_id)
        logger.warning(
            "delivery of %s failed (attempt %d): %s", notification_id, notification.attempts, exc
        )
        return "failed"
    if not mine.update(
        status=DeliveryStatus.SENT,
        sent_at=clock.now(),
        provider_id=outcome[:100],
        claim_id=None,
        secret_body="",  # the gateway has it now: a secret text is kept no longer (ADR 0022)
    ):
        # Sent, but another attempt took the row over; it sends with the same idempotency
        # key, so the gateway delivers once, and that attempt records the outcome.
        logger.warning("delivery of %s finished after its claim expired", notification_id)
        return "claim-lost"
    # One line a message at DEBUG (ADR 0043): the opening sends ~1,000 a second, and journald
    # drops a service's lines beyond 10,000 in 30 s — the failures above among them. The row
    # keeps what was sent and when (status, sent_at, provider_id).
    logger.debug(
        "%s %s sent to %s",
        notification.channel,
        notification.event,
        mask_address(notification.address),
    )
    return "sent"


def retry_backoff(attempts: int) -> dt.timedelta:
    """How long a failed notification waits before its next attempt: 2, 4, 8, 16 s."""
    return dt.timedelta(seconds=2**attempts)


def notifications_drain(
    *, batch: int = 50, pool: Executor | None = None, sender: NotificationBackend | None = None
) -> int:
    """Claim up to ``batch`` queued notifications in one short transaction (``SELECT … FOR
    UPDATE SKIP LOCKED``: drains running side by side, and delivery tasks, never claim the same
    row), then send each under that claim. Returns how many were claimed.

    This is how the opening minute's SMS leave (ADR 0015, issue 15): the registration
    statement writes the outbox row in its own transaction and no task row — one commit per
    registration; ``manage.py notifications_drain`` runs this in a loop. A failed attempt is
    taken again after its back-off; a drain killed after its claim leaves the rows
    ``sending`` for ``notifications_requeue_stale`` to take back once the lease expired, and
    the resend carries the same idempotency key (the notification id), so the phone gets the
    message once (ADR 0006).

    ``pool``: threads that hand the claimed messages to the gateway side by side (each send
    waits for the gateway's answer, one at a time ~1 / its latency a second); the outcomes are
    recorded here afterwards, in the claim's order. ``sender``: one backend for every batch (an
    HTTP gateway keeps its connections open) — a new one per call without it."""
    now = clock.now()
    # New, taken back by the sweeper (its claim cleared), or failed and past its back-off.
    due = Q(attempts=0) | Q(claimed_at__isnull=True)
    for attempts in range(1, MAX_ATTEMPTS):
        due |= Q(attempts=attempts, claimed_at__lt=now - retry_backoff(attempts))
    claim = uuid.uuid4()
    with transaction.atomic():
        claimable = Notification.objects.select_for_update(skip_locked=True).filter(
            due, status=DeliveryStatus.QUEUED
        )
        # Sign-in codes first (their own partial index): a parent waits for one now, and
        # behind the opening's registration SMS it would come after its minutes are over.
        codes = claimable.filter(event__in=SECRET_EVENTS).order_by("created_at")
        ids = list(codes.values_list("pk", flat=True)[:batch])
        if len(ids) < batch:
            rest = claimable.exclude(event__in=SECRET_EVENTS).order_by("created_at")
            ids += list(rest.values_list("pk", flat=True)[: batch - len(ids)])
        if not ids:
            return 0
        Notification.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.SENDING,
            attempts=F("attempts") + 1,
            claim_id=claim,
            claimed_at=now,
        )
    order = {pk: i for i, pk in enumerate(ids)}  # the codes first, then by age
    claimed = sorted(
        Notification.objects.filter(pk__in=ids, claim_id=claim), key=lambda n: order[n.pk]
    )
    sender = sender or backend()
    if pool is None or len(claimed) < 2:
        outcomes = [_attempt(n, sender) for n in claimed]
    else:
        outcomes = list(pool.map(lambda n: _attempt(n, sender), claimed))
    for notification, outcome in zip(claimed, outcomes, strict=True):
        _send_claimed(notification, claim, retry_by_task=False, outcome=outcome)
    return len(ids)
