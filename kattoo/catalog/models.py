"""Where schools are and which addresses belong to them (§4, §19, §31)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    """Languages of instruction; Kyrgyz is the state language (§11)."""

    KY = "ky", _("Kyrgyz")
    RU = "ru", _("Russian")
    UZ = "uz", _("Uzbek")
    TG = "tg", _("Tajik")
    EN = "en", _("English")


STATE_LANGUAGE = Language.KY


class Region(models.Model):
    """Oblast or city of republican significance (Bishkek, Osh)."""

    soate = models.CharField(max_length=14, unique=True)
    name_ky = models.CharField(max_length=200)
    name_ru = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name_ru


class District(models.Model):
    """A district or city: the scope of one territorial education office (§17)."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="districts")
    soate = models.CharField(max_length=14, unique=True)
    name_ky = models.CharField(max_length=200)
    name_ru = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name_ru


class Settlement(models.Model):
    """City, town or village (aiyl) inside a district."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="settlements")
    soate = models.CharField(max_length=14, unique=True)
    name_ky = models.CharField(max_length=200)
    name_ru = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name_ru


class Street(models.Model):
    """A street; ``code`` is the address register's street id, as the registry returns it."""

    settlement = models.ForeignKey(Settlement, on_delete=models.PROTECT, related_name="streets")
    code = models.CharField(max_length=32, unique=True)
    name_ky = models.CharField(max_length=200)
    name_ru = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name_ru


class House(models.Model):
    """A house known to the address register. Microdistricts match by street and number, so a
    house missing here still matches a range that covers its number."""

    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="houses")
    number = models.CharField(max_length=16)
    code = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["street", "number"], name="house_unique")]

    def __str__(self) -> str:
        return f"{self.street} {self.number}"


class Ownership(models.TextChoices):
    STATE = "state", _("State")
    MUNICIPAL = "municipal", _("Municipal")
    PRIVATE = "private", _("Private")
    MIXED = "mixed", _("Mixed")


class School(models.Model):
    code = models.CharField(max_length=32, unique=True, help_text=_("Ministry school code"))
    name_ky = models.CharField(max_length=300)
    name_ru = models.CharField(max_length=300)
    # Uzbek and English are optional: an empty one reads as the Kyrgyz (localized_name).
    name_uz = models.CharField(max_length=300, blank=True)
    name_en = models.CharField(max_length=300, blank=True)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="schools")
    settlement = models.ForeignKey(
        Settlement, on_delete=models.PROTECT, related_name="schools", null=True, blank=True
    )
    # The street address in the page's language (issue 14), as the names.
    address_ky = models.CharField(max_length=300)
    address_ru = models.CharField(max_length=300)
    address_uz = models.CharField(max_length=300, blank=True)
    address_en = models.CharField(max_length=300, blank=True)
    ownership = models.CharField(max_length=16, choices=Ownership.choices)
    # §31: private and mixed schools take part only when they opt in.
    opted_in = models.BooleanField(default=False)
    # Bumped by every write that changes the facts a draft at this school stores: the teacher
    # roster, the microdistrict, a catalog import (``services.school_facts_touch``, ADR 0029).
    facts_epoch = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["district", "code"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name_ru}"

    @property
    def participates(self) -> bool:
        return self.ownership in (Ownership.STATE, Ownership.MUNICIPAL) or self.opted_in


class Parity(models.TextChoices):
    ALL = "all", _("all houses")
    ODD = "odd", _("odd numbers")
    EVEN = "even", _("even numbers")


class MicrodistrictAddress(models.Model):
    """One line of a school's microdistrict (§19): a whole street, or a range of house numbers
    on it (optionally only odd or even). Microdistricts of different schools may overlap."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="microdistrict")
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="+")
    house_from = models.PositiveIntegerField(null=True, blank=True)
    house_to = models.PositiveIntegerField(null=True, blank=True)
    parity = models.CharField(max_length=4, choices=Parity.choices, default=Parity.ALL)
    note = models.CharField(
        max_length=300, blank=True, help_text=_("Evidence for an added address")
    )

    class Meta:
        indexes = [models.Index(fields=["street", "school"])]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(house_from__isnull=True) & models.Q(house_to__isnull=True))
                | (
                    models.Q(house_from__isnull=False)
                    & models.Q(house_to__isnull=False)
                    & models.Q(house_from__lte=models.F("house_to"))
                ),
                name="microdistrict_range_valid",
            ),
        ]

    def __str__(self) -> str:
        if self.house_from is None:
            return f"{self.street} (all)"
        return f"{self.street} {self.house_from}-{self.house_to} ({self.parity})"


class GradeKind(models.TextChoices):
    FOURTH = "fourth", _("Last year's 4th grade")
    FIRST = "first", _("Current 1st grade")


class ExistingClassSet(models.Model):
    """Actual class-sets the quota is computed from (§11): last year's 4th grades give the
    number and size of new first grades, the current first grades their languages."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="existing_class_sets")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    grade = models.CharField(max_length=8, choices=GradeKind.choices)
    letter = models.CharField(max_length=4, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices)
    size = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["school", "grade", "letter"]
        indexes = [models.Index(fields=["campaign", "school"])]

    def __str__(self) -> str:
        return f"{self.school.code} {self.grade} {self.letter} {self.language} {self.size}"


class Teacher(models.Model):
    """A pedagogical worker of a school (§24): their own child is admitted there above quota."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="teachers")
    pin = models.CharField(max_length=14)
    full_name = models.CharField(max_length=300, blank=True)
    added_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "pin"], name="teacher_unique")]

    def __str__(self) -> str:
        return f"{self.school.code} {self.full_name}"


class AdditionStatus(models.TextChoices):
    PENDING = "pending", _("waiting for the district")
    APPROVED = "approved", _("approved by the district")
    REJECTED = "rejected", _("rejected by the district")


class RosterChangeKind(models.TextChoices):
    ADD = "add", _("addition")
    REMOVE = "remove", _("removal")


class TeacherAddition(models.Model):
    """§24: a change to a frozen teacher roster, waiting for the district. After the quota lock
    a teacher the school adds joins the roster only when the district approves (a late addition
    is how a child could be slipped above the quota; until then the teacher's child has no
    teacher's priority), and a teacher the school removes stays on it until the district
    approves (a removal changes priorities, and removing then re-adding would get round the
    freeze). ``kind`` says which; ``ground`` is the school's reason, which the district sees."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="teacher_additions")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(
        max_length=6, choices=RosterChangeKind.choices, default=RosterChangeKind.ADD
    )
    pin = models.CharField(max_length=14)
    full_name = models.CharField(max_length=300, blank=True)
    ground = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=8, choices=AdditionStatus.choices, default=AdditionStatus.PENDING
    )
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    teacher = models.ForeignKey(
        Teacher, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "pin"],
                condition=models.Q(status="pending"),
                name="teacher_addition_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.full_name} ({self.status})"


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("waiting for the school")
    ADDED = "added", _("address added")
    REJECTED = "rejected", _("not added")


class MicrodistrictRequest(models.Model):
    """A parent shows that a registered address belongs to a school's microdistrict but is
    missing (§19, §21): it lands in the school's work list."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="address_requests")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    child = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    street_code = models.CharField(max_length=32)
    house = models.CharField(max_length=16, blank=True)
    address_text = models.CharField(max_length=300)
    status = models.CharField(
        max_length=8, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    created_at = models.DateTimeField()
    handled_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "child", "street_code", "house"], name="one_request_per_address"
            )
        ]

    def __str__(self) -> str:
        return f"request {self.school_id}: {self.address_text}"


class SchoolVerification(models.Model):
    """§17: the district officer verifies a school's name, address and microdistrict addresses
    for the campaign; kept per campaign, with who and when."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="verifications")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    verified_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "campaign"], name="one_verification_per_campaign"
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_id} verified {self.verified_at:%Y-%m-%d}"
