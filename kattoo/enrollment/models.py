"""Seats and registrations: the heart of the campaign (§10, §20, §24, §25, §27)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from fernet_fields import EncryptedCharField

from kattoo.catalog.models import Language
from kattoo.core.fields import JSONText
from kattoo.core.ids import time_ordered_uuid


class SeatPool(models.Model):
    """The seats of one (school, language) in one campaign (§11).

    ``capacity = quota_seats + extra_seats``: quota seats come from the confirmed class-sets,
    extra seats are raised one by one for teachers' children (§24), co-twins (§25) and
    commission decisions (§9, §26). The CHECK constraints make overbooking impossible even for
    code that forgets the rules.
    """

    # No index of its own: ``pool_unique`` (campaign, school, language) starts with it, and the
    # seat's UPDATE locks every index of the table (issue 15, ADR 0037).
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    school = models.ForeignKey("catalog.School", on_delete=models.PROTECT, related_name="pools")
    language = models.CharField(max_length=2, choices=Language.choices)
    quota_seats = models.PositiveIntegerField(default=0)
    extra_seats = models.PositiveIntegerField(default=0)
    capacity = models.PositiveIntegerField(default=0)
    taken = models.PositiveIntegerField(default=0)
    # Monotonic count of accepted registrations: a registration's position is its value.
    accepted_count = models.PositiveIntegerField(default=0)
    # Seats held for open waitlist offers (kattoo.waitlist): neither free nor taken.
    held = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "school", "language"], name="pool_unique"),
            models.CheckConstraint(
                condition=Q(taken__lte=F("capacity")), name="pool_not_overbooked"
            ),
            models.CheckConstraint(
                condition=Q(taken__lte=F("capacity") - F("held")), name="pool_held_fits"
            ),
            models.CheckConstraint(
                condition=Q(capacity=F("quota_seats") + F("extra_seats")), name="pool_capacity_sum"
            ),
        ]

    def __str__(self) -> str:
        return f"pool {self.school_id}/{self.language} {self.taken}/{self.capacity}"

    @property
    def free(self) -> int:
        return max(self.capacity - self.taken - self.held, 0)


class Status(models.TextChoices):
    REGISTERED = "registered", _("registered")
    ADMITTED = "admitted", _("admitted")
    REFUSED = "refused", _("refused")
    CANCELLED = "cancelled", _("cancelled")
    # After admission (enrollment/after_admission.py): the family withdrew the child (a move, or
    # agreeing to the ПМПК's special school, §18), or the district transferred the child by a
    # commission decision (§17).
    WITHDRAWN = "withdrawn", _("withdrawn by the family")
    TRANSFERRED = "transferred", _("transferred by a commission decision")


ACTIVE_STATUSES = (Status.REGISTERED, Status.ADMITTED)


class Route(models.TextChoices):
    MICRODISTRICT = "microdistrict", _("microdistrict")
    OPEN = "open", _("open (stage 2)")
    TEACHER = "teacher", _("teacher's child (above quota)")
    TWIN = "twin", _("co-twin (above quota)")
    COMMISSION = "commission", _("commission decision")


class Application(models.Model):
    """A child's registration to a (school, language) pool.

    ``status`` changes only through ``enrollment.states.transition`` (the declared table);
    nothing else writes it.
    """

    id = models.UUIDField(primary_key=True, default=time_ordered_uuid, editable=False)
    # No foreign-key constraints in the database on the references the opening minute's
    # statement writes (ADR 0026): each would share-lock its row at commit (the one campaign
    # row by every registration). The statement's own joins supply the ids, the ORM applies
    # ``on_delete``, and ``manage.py integrity_check`` finds orphans daily.
    # No single-column index where a composite index below starts with the column (campaign:
    # (campaign, child, status); user: (user, created_at); school: (school, status); pool:
    # (pool, position)): every registration maintains each index, and these four served no
    # query the composite ones do not (issue 15).
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    child = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        related_name="applications",
        db_constraint=False,
    )
    applicant = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    school = models.ForeignKey(
        "catalog.School",
        on_delete=models.PROTECT,
        related_name="applications",
        db_constraint=False,
        db_index=False,
    )
    language = models.CharField(max_length=2, choices=Language.choices)
    pool = models.ForeignKey(
        SeatPool,
        on_delete=models.PROTECT,
        related_name="applications",
        db_constraint=False,
        db_index=False,
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REGISTERED)
    route = models.CharField(max_length=16, choices=Route.choices)
    above_quota = models.BooleanField(default=False)
    position = models.PositiveIntegerField()
    channel = models.CharField(max_length=8, default="api")
    created_at = models.DateTimeField()
    status_changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            # §20: one active registration per child at a time — the race guard of last resort.
            models.UniqueConstraint(
                fields=["campaign", "child"],
                condition=Q(status__in=["registered", "admitted"]),
                name="one_active_application_per_child",
            ),
            models.UniqueConstraint(fields=["pool", "position"], name="position_unique_in_pool"),
        ]
        # A child's applications are found by ``child`` (its foreign key's index; a child has
        # a handful): no (campaign, child, status) index beside it, one entry fewer for every
        # registration to write (issue 15, ADR 0037).
        indexes = [
            models.Index(fields=["school", "status"]),
            models.Index(fields=["user", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"application {self.id} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class ApplicationTransition(models.Model):
    """The application's history: every status change with who, when and why."""

    # Without database constraints, like the application's references (ADR 0026).
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="transitions", db_constraint=False
    )
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    at = models.DateTimeField()
    # No index (issue 15): nothing reads the history by its actor (pages read it by application,
    # with the actor joined), and every registration's first row would maintain one. PROTECT's
    # lookup runs only when a user is deleted, which no path does: retention anonymises users
    # (retention/services.py).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    reason = models.TextField(blank=True)
    # §22: the legal reason of a refusal as a code (RefusalReason), so it reads in every
    # language and refusals can be counted by reason; ``reason`` holds the school's text.
    reason_code = models.CharField(max_length=24, blank=True, default="", db_default="")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class IdempotencyRecord(models.Model):
    """The first answer to a create request with an ``Idempotency-Key`` (API.md)."""

    # Without a database constraint (ADR 0026): the opening minute's statement writes it. No
    # index of its own: ``idempotency_unique`` (user, key) serves lookups by user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    key = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # Returned as stored, never selected or sorted by: kept as the JSON's text, not parsed into
    # jsonb at every write (ADR 0064), and no statistics (migration 0015, ADR 0060), so ANALYZE
    # does not sort its answers during the opening.
    response = JSONText()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique")]

    def __str__(self) -> str:
        return f"idempotency {self.key}"


class Draft(models.Model):
    """A registration prepared before the opening, checked against every rule in advance, so
    that at the opening minute the submit is one request (the seat is taken only then)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    child = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey("catalog.School", on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=2, choices=Language.choices)
    route = models.CharField(max_length=16, choices=Route.choices)
    checked_at = models.DateTimeField()
    # The facts that cannot change in the opening minute, decided when the draft is saved
    # (ADR 0029): {"stamp": [school id, school epoch, child epoch, applicant id, applicant
    # epoch], "certificate", "passport", "teacher", "microdistrict": bool, "twins": [ids]}.
    # The stamp is compared at submit; a missing or stale one means the full facts are read.
    # ADR 0046 (PostgreSQL): the facts also hold {"vouched": {"relation", "surname", "name",
    # "birth_date"}} — what the opening minute's short read takes from the draft instead of the
    # link and the person rows — and ``phone`` the applicant's phone (the registration SMS's
    # address), both kept true by the database's triggers (migration 0014), which clear them
    # when a write changes what they copy.
    facts = models.JSONField(null=True, blank=True, default=None)
    phone = EncryptedCharField(max_length=16, null=True, blank=True, default=None, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "campaign", "child"], name="one_draft_per_child"
            )
        ]

    def __str__(self) -> str:
        return f"draft {self.child_id} → {self.school_id}/{self.language}"


class DocumentKind(models.TextChoices):
    # §21: two medical certificates brought to the school after the admission notice.
    MEDICAL_HEALTH = "medical_health", _("medical certificate of health")
    MEDICAL_VACCINATION = "medical_vaccination", _("certificate of vaccinations")


class ApplicationDocument(models.Model):
    """An original the school has received (it records receipt, it keeps no copy)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=24, choices=DocumentKind.choices)
    received_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "kind"], name="one_document_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.application_id}"


class DocumentRequest(models.Model):
    """§18: the school may request supporting documents from the applicant until 08-30."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="document_requests"
    )
    text = models.TextField(max_length=2000)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"document request {self.pk}"


class PmpkOutcome(models.TextChoices):
    PENDING = "", _("waiting for the commission")
    STAYS = "stays", _("stays in the school")
    SPECIAL_SCHOOL = "special_school", _("directed to a special school")


class PmpkReferral(models.Model):
    """§18, §23: after admission, a referral to the psychological-medical-pedagogical
    commission (ПМПК) and its outcome."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="pmpk")
    referred_at = models.DateTimeField()
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True, max_length=2000)
    outcome = models.CharField(
        max_length=16, choices=PmpkOutcome.choices, default=PmpkOutcome.PENDING, blank=True
    )
    outcome_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"ПМПК referral of {self.application_id}: {self.outcome or 'pending'}"


class RefusalReason(models.TextChoices):
    """§22: a refusal states a legal reason; the district sees every refusal."""

    FALSE_DATA = "false_data", _("the documents do not confirm the registered data")
    GUARDIAN_ACT_INVALID = "guardian_act_invalid", _("the representative's act is not valid")
    SPECIAL_SCHOOL = "special_school", _("directed to a special school by the ПМПК (§23)")
    ADMITTED_ELSEWHERE = "admitted_elsewhere", _("the child is admitted to another school")
    OTHER = "other", _("another legal ground, stated in the text")


# ---- after admission (enrollment/after_admission.py) -----------------------------------------


class AdmissionTransfer(models.Model):
    """§17, §26: the district moves an admitted child to another school by a decision of the
    Commission on Children's Affairs. The admission at the old school ends (its seat is freed
    to the waitlist); the new admission takes a free seat there, or one above the quota by the
    decision."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("catalog.District", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=64)
    decided_on = models.DateField()
    from_application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="transfer_out"
    )
    to_application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="transfer_in"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["district", "number"], name="transfer_number_unique")
        ]

    def __str__(self) -> str:
        return f"transfer {self.number} of {self.decided_on}"


class PmpkProposalKind(models.TextChoices):
    """§18: on the ПМПК's conclusion the school may propose one of two things."""

    SPECIAL_SCHOOL = "special_school", _("direct the child to a special school")
    CONTINUE_HERE = "continue_here", _("continue studying at this school")


class PmpkAnswer(models.TextChoices):
    PENDING = "", _("waiting for the parent's answer")
    AGREED = "agreed", _("the parent agreed")
    DECLINED = "declined", _("the parent declined")


class PmpkProposal(models.Model):
    """§18: the school's proposal after the ПМПК's conclusion, and the parent's answer. Only a
    special school the parent agrees to ends the admission; the district sees every one."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="pmpk_proposals"
    )
    kind = models.CharField(max_length=16, choices=PmpkProposalKind.choices)
    note = models.TextField(blank=True, max_length=2000)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField()
    answer = models.CharField(
        max_length=10, choices=PmpkAnswer.choices, default=PmpkAnswer.PENDING, blank=True
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One open question to the parent at a time.
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(answer=""),
                name="one_pending_pmpk_proposal",
            ),
            models.CheckConstraint(
                condition=Q(answer="") | Q(answered_at__isnull=False),
                name="pmpk_answer_has_time",
            ),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"ПМПК proposal {self.pk} ({self.kind}): {self.answer or 'pending'}"

    @property
    def is_pending(self) -> bool:
        return self.answer == PmpkAnswer.PENDING
