from __future__ import annotations

from django.db import models


class FormedClass(models.Model):
    """A first class formed from a class-set of the quota (§19)."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(
        "catalog.School", on_delete=models.CASCADE, related_name="formed_classes"
    )
    language = models.CharField(max_length=2)
    class_set_number = models.PositiveSmallIntegerField()
    letter = models.CharField(max_length=4)
    formed_at = models.DateTimeField()

    class Meta:
        ordering = ["school", "language", "class_set_number"]

    def __str__(self) -> str:
        return f"1{self.letter} ({self.language})"


class ClassMember(models.Model):
    formed_class = models.ForeignKey(FormedClass, on_delete=models.CASCADE, related_name="members")
    application = models.OneToOneField(
        "enrollment.Application", on_delete=models.CASCADE, related_name="class_membership"
    )

    def __str__(self) -> str:
        return f"{self.application_id} in {self.formed_class_id}"
