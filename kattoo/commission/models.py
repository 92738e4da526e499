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
