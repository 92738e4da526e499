"""The quota of a school: class-sets with language and seats (§11, §17)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kattoo.catalog.models import Language


class QuotaStatus(models.TextChoices):
    DRAFT = "draft", _("computed, not confirmed")
    CONFIRMED = "confirmed", _("confirmed by the school")


class Quota(models.Model):
    school = models.ForeignKey("catalog.School", on_delete=models.CASCADE, related_name="quotas")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="+")
    # Only DRAFT or CONFIRMED is stored; "confirmed automatically at the lock" is derived from
    # the time (quotas.selectors.quota_state), so no scheduled job is needed (§17).
    status = models.CharField(max_length=12, choices=QuotaStatus.choices, default=QuotaStatus.DRAFT)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # §11: the number of Kyrgyz class-sets may never fall below last year's.
    kyrgyz_floor = models.PositiveSmallIntegerField(default=0)
    basis = models.CharField(max_length=16, blank=True)  # "fourth_grade", "new_school" or "none"
    computed_at = models.DateTimeField()
    # What the computation read (the school's class-sets of the campaign and the campaign's
    # class-size limits), hashed: a draft is recomputed automatically only when these change,
    # so a director's changes are not thrown away for nothing (ADR 0017).
    inputs_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "campaign"], name="one_quota_per_campaign")
        ]

    def __str__(self) -> str:
        return f"quota {self.school_id}/{self.campaign_id} {self.status}"


class ClassSetSource(models.TextChoices):
    FOURTH_GRADE = "fourth_grade", _("from last year's 4th grade")
    FIRST_GRADE = "first_grade", _("from this year's first grade")
    ADDED = "added", _("added by the school")


class ClassSet(models.Model):
    """One future first-grade class: its language of instruction and number of seats."""

    quota = models.ForeignKey(Quota, on_delete=models.CASCADE, related_name="class_sets")
    number = models.PositiveSmallIntegerField()
    language = models.CharField(max_length=2, choices=Language.choices)
    seats = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=16, choices=ClassSetSource.choices)
    # What the computation gave, so the history and the rules can compare with it.
    source_label = models.CharField(max_length=16, blank=True)
    source_size = models.PositiveSmallIntegerField(null=True, blank=True)
    computed_language = models.CharField(max_length=2, blank=True)
    computed_seats = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["quota", "number"]
        constraints = [
            models.UniqueConstraint(fields=["quota", "number"], name="class_set_number_unique")
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.language} {self.seats}"


class QuotaEvent(models.Model):
    """The quota's history: computed, changed (with the operations), confirmed, approved."""

    quota = models.ForeignKey(Quota, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at}"
