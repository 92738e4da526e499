from __future__ import annotations

from django.db import models
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

# The interface languages a campaign's title is written in (issue 14); Kyrgyz is the default.
TITLE_LANGUAGES = ("ky", "ru", "uz", "en")


class Campaign(models.Model):
    """One school year's registration: every date and limit of the regulation is data here.

    The 2026–2027 values (RULES.md §3, §5, §6) are loaded by a data migration; a new year
    is a new row, never a code change.
    """

    code = models.SlugField(max_length=40, unique=True, help_text="e.g. 2026-2027")
    academic_year = models.CharField(max_length=9, help_text="e.g. 2026-2027")
    # The title in each interface language; an empty one reads as the academic year in that
    # language ("2026–2027 окуу жылы"), so a page never shows another language's title.
    title_ky = models.CharField(max_length=200, blank=True)
    title_ru = models.CharField(max_length=200, blank=True)
    title_uz = models.CharField(max_length=200, blank=True)
    title_en = models.CharField(max_length=200, blank=True)
    # ADR 0016: a campaign is a draft until published; the published one that is current has
    # is_active; an earlier published one is archived (readable, never edited).
    is_active = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    # §8: children born inside this window register; others go through the commission (§9).
    birth_from = models.DateField()
    birth_to = models.DateField()
    # §27: stage 1 (microdistrict) and stage 2 (any school with free seats), Asia/Bishkek.
    stage1_starts_at = models.DateTimeField()
    stage2_starts_at = models.DateTimeField()
    # §26: after this, admission only by commission decision.
    registration_ends_at = models.DateTimeField()
    # §17: the quota locks this many working days before stage 1 (at the end of that day).
    quota_lock_working_days = models.PositiveSmallIntegerField(default=3)
    # Weekdays that are not working days (Monday=0 … Sunday=6); holidays are CalendarDay rows.
    weekend_days = models.JSONField(default=list)
    cancel_limit = models.PositiveSmallIntegerField()  # §20
    guardian_child_limit = models.PositiveSmallIntegerField()  # §20
    class_size_min = models.PositiveSmallIntegerField()  # §11
    class_size_max = models.PositiveSmallIntegerField()  # §11
    appeal_due_working_days = models.PositiveSmallIntegerField(default=3)  # §17
    documents_request_until = models.DateField()  # §18: supporting documents until 08-30
    medical_from = models.DateField()  # §21: two medical certificates 08-04 …
    medical_until = models.DateField()  # … 09-05

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_campaign"
            ),
            models.CheckConstraint(
                condition=models.Q(birth_from__lte=models.F("birth_to")), name="birth_window_order"
            ),
            models.CheckConstraint(
                condition=models.Q(stage1_starts_at__lt=models.F("stage2_starts_at"))
                & models.Q(stage2_starts_at__lt=models.F("registration_ends_at")),
                name="stage_order",
            ),
            models.CheckConstraint(
                condition=models.Q(class_size_min__lte=models.F("class_size_max")),
                name="class_size_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        """The title in the active language (the reader's), else the academic year in it."""
        language = (get_language() or "ky")[:2]
        language = language if language in TITLE_LANGUAGES else "ky"
        own = getattr(self, f"title_{language}")
        if own:
            return str(own)
        # "2026-2027" is written with an en dash, as the year is printed.
        return gettext("%(year)s school year") % {"year": self.academic_year.replace("-", "–")}


class CalendarDay(models.Model):
    """A day that breaks the ordinary week: a public holiday, or a weekend made a working day
    by a transfer. Edited by the ministry (§4.5); the working-day arithmetic reads only this."""

    date = models.DateField(unique=True)
    is_working = models.BooleanField(
        default=False, help_text=_("True for a weekend day made working by a transfer.")
    )
    name_ky = models.CharField(max_length=200, blank=True)
    name_ru = models.CharField(max_length=200, blank=True)
    name_en = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'working' if self.is_working else 'holiday'} {self.name_en}"
