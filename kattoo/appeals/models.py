"""Applicants' electronic appeals to the district education office (§17): answered within
three working days; overdue ones are visible to the ministry."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kattoo.core.clock import BISHKEK


class Subject(models.TextChoices):
    REFUSAL = "refusal", _("a school's refusal")
    MISSING_ADDRESS = "missing_address", _("my address is missing from a microdistrict")
    LATE_REGISTRATION = "late_registration", _("late registration or no documents (commission)")
    OTHER = "other", _("another question about admission")


class AppealStatus(models.TextChoices):
    OPEN = "open", _("waiting for an answer")
    FORWARDED = "forwarded", _("forwarded to the school")
    ANSWERED = "answered", _("answered")


class AppealDecision(models.TextChoices):
    """What the district decided on the appeal (§17, §22); empty for a plain written answer."""

    ANSWERED = "", _("answered in writing")
    REINSTATED = "reinstated", _("the registration is reinstated")
    COMMISSION = "commission", _("placed by a decision of the Commission on Children's Affairs")
    REJECTED = "rejected", _("the appeal is rejected")


class Appeal(models.Model):
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appeals"
    )
    district = models.ForeignKey(
        "catalog.District", on_delete=models.PROTECT, related_name="appeals"
    )
    school = models.ForeignKey(
        "catalog.School", null=True, blank=True, on_delete=models.PROTECT, related_name="appeals"
    )
    application = models.ForeignKey(
        "enrollment.Application",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    subject = models.CharField(max_length=20, choices=Subject.choices)
    text = models.TextField(max_length=4000)
    status = models.CharField(
        max_length=10, choices=AppealStatus.choices, default=AppealStatus.OPEN
    )
    created_at = models.DateTimeField()
    due_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(
        max_length=12, choices=AppealDecision.choices, blank=True, default="", db_default=""
    )
    commission_decision = models.OneToOneField(
        "commission.CommissionDecision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeal",
    )

    class Meta:
        indexes = [models.Index(fields=["district", "status", "due_at"])]
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return f"appeal {self.pk} {self.subject} {self.status}"

    @property
    def due_day(self) -> dt.date:
        """The last day of the answer period (``due_at`` is the midnight after it)."""
        return (self.due_at - dt.timedelta(seconds=1)).astimezone(BISHKEK).date()
