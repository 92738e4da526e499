"""The outbox: every SMS and e-mail the system sends, written in the transaction of the event
that causes it and delivered by a background task (never inside the request)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from fernet_fields import EncryptedCharField, EncryptedTextField

from kattoo.core.ids import time_ordered_uuid

from .messages import SECRET_EVENTS

# What a secret message's ``body`` holds: its text is only in ``secret_body`` (encrypted) until
# the gateway accepted it, then nowhere (ADR 0022).
REDACTED = "[redacted]"


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("e-mail")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class DeliveryReport(models.TextChoices):
    """What the gateway's delivery report said about the phone (after ``sent``)."""

    DELIVERED = "delivered", _("delivered")
    UNDELIVERED = "undelivered", _("not delivered")


class Notification(models.Model):
    id = models.UUIDField(primary_key=True, default=time_ordered_uuid, editable=False)
    # No database constraint (ADR 0026): the opening minute's statement writes the row;
    # ``manage.py integrity_check`` finds orphans. No index either (issue 15): the one reader
    # by user is the retention purge, a single UPDATE per run that also scans by date; every
    # registration's SMS row would maintain one.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # Encrypted at rest like ``Person.phone``; never looked up (dedupe is by ``dedupe_key``).
    address = EncryptedCharField(max_length=254, help_text=_("Phone number or e-mail address"))
    event = models.CharField(max_length=40)
    language = models.CharField(max_length=2)
    subject = models.CharField(max_length=200, blank=True)
    # A secret message (``messages.SECRET_EVENTS``: the sign-in code) keeps ``REDACTED`` here
    # and its text encrypted in ``secret_body``, blanked once the gateway accepted it.
    body = models.TextField()
    secret_body = EncryptedTextField(blank=True, default="")
    # One notification per event and object: a retried request never sends twice. Unique by a
    # constraint, not ``unique=True``: on PostgreSQL that adds a second, pattern-matching index
    # nothing reads, which every registration would maintain (issue 15).
    dedupe_key = models.CharField(max_length=120)
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # The lease of the delivery attempt that holds the row ``sending`` (ADR 0006): a worker
    # records its outcome only while its claim stands; the sweeper takes back expired ones.
    claim_id = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    report = models.CharField(max_length=12, choices=DeliveryReport.choices, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # The drain claims queued sign-in codes before everything else (ADR 0044): behind
            # the opening's backlog of registration SMS a code would wait past its minutes.
            # Partial: a registration's outbox row adds no entry to it.
            models.Index(
                fields=["created_at"],
                name="notification_queued_secret",
                condition=models.Q(status="queued", event__in=sorted(SECRET_EVENTS)),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="notification_dedupe_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.event} {self.status}"

    @property
    def text(self) -> str:
        """What the phone is to receive."""
        return self.secret_body or self.body
