"""The numbered waitlist of a full (school, language) pool, its offers and their deadlines.

A freed seat is *held* for the first waiting child (``SeatPool.held``): neither free for new
registrations nor taken until the parent accepts (a registration through the enrollment
path), declines, or lets the deadline pass. ADR 0013 explains the choices.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EntryStatus(models.TextChoices):
    WAITING = "waiting", _("waiting")
    OFFERED = "offered", _("a seat is offered")
    ACCEPTED = "accepted", _("offer accepted")
    DECLINED = "declined", _("offer declined")
    EXPIRED = "expired", _("offer expired")
    LEFT = "left", _("left the waitlist")


ACTIVE_ENTRY_STATUSES = (EntryStatus.WAITING, EntryStatus.OFFERED)


class WaitlistTerms(models.Model):
    """The waitlist's numbers for one campaign (campaign data, editable in the admin). A
    campaign without its own row uses the field defaults."""

    campaign = models.OneToOneField(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="waitlist_terms"
    )
    # An offer is held until the end of this many working days after the day it is made
    # (Asia/Bishkek, the campaign's working-day calendar), and never past the registration.
    offer_working_days = models.PositiveSmallIntegerField(default=2)

    class Meta:
        verbose_name = _("waitlist terms")
        verbose_name_plural = _("waitlist terms")

    def __str__(self) -> str:
        return f"waitlist terms of {self.campaign_id}"


class WaitlistEntry(models.Model):
    """A child waiting for a seat in one pool. Its number is derived (the waiting entries ahead
    of it, by the order of joining), so it moves up as others get offers or leave."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="+")
    pool = models.ForeignKey(
        "enrollment.SeatPool", on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    child = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    applicant = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=EntryStatus.choices, default=EntryStatus.WAITING
    )
    joined_at = models.DateTimeField()
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    application = models.OneToOneField(
        "enrollment.Application",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="waitlist_entry",
    )

    class Meta:
        constraints = [
            # ADR 0013: one place in one waitlist per child at a time.
            models.UniqueConstraint(
                fields=["campaign", "child"],
                condition=Q(status__in=["waiting", "offered"]),
                name="one_active_waitlist_entry_per_child",
            ),
            models.CheckConstraint(
                condition=~Q(status="offered") | Q(offer_expires_at__isnull=False),
                name="offer_has_deadline",
            ),
        ]
        indexes = [
            models.Index(fields=["pool", "status", "id"]),
            models.Index(fields=["status", "offer_expires_at"]),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"waitlist entry {self.pk} {self.status}"
