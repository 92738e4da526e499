from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from fernet_fields import EncryptedCharField

# The roles are defined in core, below the catalog that scopes schools by them (RULES.md §1);
# most code names them from here, beside the accounts that hold them.
from kattoo.core.roles import Role

# Everyone who signs in with a password and a second factor instead of an SMS code.
STAFF_ROLES = (
    Role.SCHOOL,
    Role.DISTRICT,
    Role.MINISTRY_ANALYST,
    Role.MINISTRY_ADMIN,
    Role.OPERATOR,
)


class User(AbstractUser):
    """Everyone who signs in. Applicants are tied to their registry person (by PIN);
    staff to the school or district that is their scope (RULES.md §1)."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.APPLICANT)
    person = models.OneToOneField(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="user"
    )
    school = models.ForeignKey(
        "catalog.School", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    district = models.ForeignKey(
        "catalog.District", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    language = models.CharField(max_length=2, default="ky")
    # The name staff lists show (a director, an officer); applicants' names are in the registry.
    full_name = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="applicant") | models.Q(person__isnull=False),
                name="applicant_has_person",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="school") | models.Q(school__isnull=False),
                name="school_staff_has_school",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="district") | models.Q(district__isnull=False),
                name="district_staff_has_district",
            ),
        ]


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the raw value is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token of {self.user} ({self.label})"


class UserSession(models.Model):
    """A signed-in web session, recorded at sign-in so that its owner can see it and end it
    from another device (ADR 0021). Django's session table cannot be searched by user; this
    is the index. The session key is encrypted at rest: whoever reads this table cannot take
    over the session."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="web_sessions")
    session_key = EncryptedCharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    user_agent = models.CharField(max_length=120, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self) -> str:
        return f"web session {self.pk} of {self.user_id}"


class LoginChallenge(models.Model):
    """A one-time sign-in code sent by SMS to the phone the registry holds (as national
    e-services do). The client holds a random handle; only its SHA-256 and a keyed hash of the
    code are stored. The PIN is kept encrypted (``pin_key`` is its keyed hash, for lookups) and
    the account is tied only once the code is verified (kattoo.accounts.login)."""

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="login_challenges"
    )
    handle_digest = models.CharField(max_length=64, unique=True)
    pin = EncryptedCharField(max_length=14)
    pin_key = models.CharField(max_length=32, db_index=True)
    # The language chosen where the PIN was typed ("" if the client named none).
    language = models.CharField(max_length=2, blank=True)
    code_digest = models.CharField(max_length=64, blank=True)  # empty until the code is sent
    phone = EncryptedCharField(max_length=16, blank=True)  # encrypted at rest, like Person.phone
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"login challenge {self.pk}"


class EnrolmentReason(models.TextChoices):
    NEW = "new", _("new account")
    RESET = "reset", _("second factor reset")


class StaffEnrolment(models.Model):
    """A one-time link with which a staff member chooses a password and enrols an
    authenticator app (ADR 0018). Only the token's SHA-256 is stored; the raw token is shown
    once, to whoever created the link. The password chosen in the first step waits here, as a
    hash, until a correct code from the new authenticator confirms the device."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="enrolments")
    digest = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=10, choices=EnrolmentReason.choices)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    password_hash = models.CharField(max_length=256, blank=True)
    device = models.ForeignKey(
        "otp_totp.TOTPDevice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"enrolment {self.pk} of {self.user_id} ({self.reason})"
