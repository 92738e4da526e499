"""Fraud signals are computed, never stored (kattoo/fraud/selectors.py); what is kept is the
district officer's review of a signal. A signal never refuses anyone by itself."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SignalKind(models.TextChoices):
    MANY_CHILDREN = "many_children", _("one applicant, many children")
    CROWDED_ADDRESS = "crowded_address", _("many children at one address")
    RECENT_ADDRESS = "recent_address", _("address registered shortly before the campaign")
    REUSED_ACT = "reused_act", _("guardian act used for children of different guardians")
    LATE_TEACHER = "late_teacher", _("teacher added shortly before their child's registration")


class ReviewStatus(models.TextChoices):
    LEGITIMATE = "legitimate", _("reviewed: legitimate")
    REFERRED = "referred", _("reviewed: referred")


class SignalReview(models.Model):
    """A district officer's (or the ministry's) conclusion on one signal of a campaign; a later
    review replaces it, and every review is in the audit trail."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=SignalKind.choices)
    # What the signal is about: an applicant's person id, an address, a child, an act number
    # or file hash (selectors.py builds it).
    key = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=ReviewStatus.choices)
    note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "kind", "key"], name="one_review_per_signal"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: {self.status}"
