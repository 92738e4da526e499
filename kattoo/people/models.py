"""Children and applicants as the registry (Tunduk) knows them (§7).

Nothing here is typed in by hand: rows are written from registry answers, with the time
and the X-Road id of the answer, and refreshed from it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from fernet_fields import EncryptedCharField, EncryptedEmailField


class Sex(models.TextChoices):
    FEMALE = "F", _("female")
    MALE = "M", _("male")


class Person(models.Model):
    pin = models.CharField(max_length=14, unique=True)
    surname = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    patronymic = models.CharField(max_length=100, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    birth_date = models.DateField()
    # Registered (permanent) address, as the address register codes it (§10: прописка).
    address_text = models.CharField(max_length=300, blank=True)
    address_settlement_code = models.CharField(max_length=14, blank=True)
    address_street_code = models.CharField(max_length=32, blank=True)
    address_house = models.CharField(max_length=16, blank=True)
    address_flat = models.CharField(max_length=16, blank=True)
    # When the address register recorded this address (asbAddress dateCreated); fraud signals
    # look for addresses registered shortly before the campaign.
    address_registered_on = models.DateField(null=True, blank=True)
    # Birth act, for children (civil registry). Document numbers, phones and e-mail are
    # encrypted at rest (Fernet, keys from KATTOO_FIELD_KEYS): never looked up by value, only
    # shown and sent. PINs stay plain: they are the registry's key and are looked up.
    birth_certificate_series = EncryptedCharField(max_length=16, blank=True, default="")
    birth_certificate_number = EncryptedCharField(max_length=16, blank=True, default="")
    birth_certificate_date = models.DateField(null=True, blank=True)
    birth_certificate_issuer = models.CharField(max_length=200, blank=True)
    mother_pin = models.CharField(max_length=14, blank=True)
    father_pin = models.CharField(max_length=14, blank=True)
    # Contacts and passport, for applicants.
    phone = EncryptedCharField(max_length=16, blank=True, default="")
    email = EncryptedEmailField(blank=True, default="")
    passport_series = EncryptedCharField(max_length=4, blank=True, default="")
    passport_number = EncryptedCharField(max_length=16, blank=True, default="")
    passport_expires = models.DateField(null=True, blank=True)
    fetched_at = models.DateTimeField()
    xroad_id = models.CharField(max_length=64, blank=True)
    # §7: set when the retention period ran out and the row was anonymised (retention/services.py):
    # the PIN is then a keyed pseudonym, names, address, contacts and documents are gone.
    anonymised_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every write that changes this child's eligibility facts — the person's own
    # registry data or a family member's (``services.family_facts_touch``): a draft's stored
    # facts carry the epoch they were decided at (enrollment ADR 0029).
    facts_epoch = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        indexes = [models.Index(fields=["mother_pin"]), models.Index(fields=["father_pin"])]

    def __str__(self) -> str:
        return f"{self.surname} {self.name} ({self.pin[:1]}…{self.pin[-3:]})"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.patronymic) if p)


class Relation(models.TextChoices):
    MOTHER = "mother", _("mother")
    FATHER = "father", _("father")
    REPRESENTATIVE = "representative", _("legal representative")


class ChildLink(models.Model):
    """The applicant may act for this child: a parent by the birth act, or a legal
    representative (guardian, trustee, adoptive parent, child-protection officer, §20)."""

    applicant = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="child_links")
    child = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="applicant_links")
    relation = models.CharField(max_length=16, choices=Relation.choices)
    verified_at = models.DateTimeField()
    xroad_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["applicant", "child"], name="child_link_unique")
        ]

    def __str__(self) -> str:
        return f"{self.applicant} → {self.child} ({self.relation})"


class ActKind(models.TextChoices):
    # §21: only a court act or an act of the social-development authority is accepted from a
    # representative (UPLOADED_ACT_KINDS).
    COURT = "court", _("court decision")
    SOCIAL = "social", _("act of the social development authority")
    # §9, §26: a representative the Commission on Children's Affairs named in its placement
    # decision; recorded by the district officer with the decision (commission/services.py).
    COMMISSION = "commission", _("decision of the Commission on Children's Affairs")


# §21: what a representative may upload.
UPLOADED_ACT_KINDS = (ActKind.COURT, ActKind.SOCIAL)


class ActStatus(models.TextChoices):
    PENDING = "pending", _("waiting for review")
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")


class GuardianAct(models.Model):
    """The act proving a legal representative's status (§20), checked by the school (§18)."""

    link = models.ForeignKey(ChildLink, on_delete=models.PROTECT, related_name="acts")
    kind = models.CharField(max_length=16, choices=ActKind.choices)
    number = models.CharField(max_length=64, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    file = models.FileField(upload_to="guardian-acts/%Y/", blank=True)
    # SHA-256 of the uploaded bytes: the same file filed for another guardian's child is a
    # fraud signal (kattoo/fraud).
    content_hash = models.CharField(max_length=64, blank=True, default="", db_default="")
    status = models.CharField(max_length=8, choices=ActStatus.choices, default=ActStatus.PENDING)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=300, blank=True)
    uploaded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.link} {self.kind} {self.status}"
