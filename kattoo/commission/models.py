"""Decisions of the Commission on Children's Affairs (КДД), recorded by the district officer:
over-age children, children without documents, late registration (§9, §26)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Ground(models.TextChoices):
    OVER_AGE = "over_age", _("older than the birth window")
    NO_DOCUMENTS = "no_documents", _("no identity documents")
    LATE = "late", _("registration after the deadline")
    OTHER = "other", _("other ground stated in the decision")


class CommissionDecision(models.Model):
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("catalog.District", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=64)
    decided_on = models.DateField()
    ground = models.CharField(max_length=16, choices=Ground.choices)
    child = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    applicant = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("catalog.School", on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=2)
    application = models.OneToOneField(
        "enrollment.Application", on_delete=models.PROTECT, related_name="commission_decision"
    )
    documents_checked = models.BooleanField(default=False)
    # §9: a child the registry does not know (no PIN yet, no documents) is placed under a
    # temporary identifier — a 14-character key starting with "0", which no real PIN does
    # (pin.py: the first digit is the sex, 1 or 2) — and linked to the real PIN once the
    # registry has it (``linked_at``).
    temporary_id = models.CharField(max_length=14, blank=True, default="")
    linked_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["district", "number"], name="decision_number_unique")
        ]

    def __str__(self) -> str:
        return f"decision {self.number} of {self.decided_on}"

    @property
    def awaits_link(self) -> bool:
        """Placed under a temporary identifier and not yet linked to the registry's PIN."""
        return bool(self.temporary_id) and self.linked_at is None
