"""Domain errors with the stable codes of the public API (shared/spec/API.md).

A service raises ``RuleViolation("no_free_seats")``; the API and the web turn it into a
translated message. Messages live here, once, so every channel says the same words.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

# RFC 9457 problem types: PROBLEM_TYPE + code.
PROBLEM_TYPE = "https://kattoo.kg/problems/"

# code -> (HTTP status, title). The title is the translated human sentence.
ERRORS: dict[str, tuple[int, Any]] = {
    "registration_closed": (409, _("Registration is not open now for this child and school.")),
    "not_in_microdistrict": (
        409,
        _(
            "In stage 1 only schools whose microdistrict contains the registered address of "
            "the child or of a parent may be chosen."
        ),
    ),
    # One code for both directions (API.md); the message tells which: VARIANT_MESSAGES.
    "outside_birth_window": (409, _("The child is not born inside this campaign's birth window.")),
    "documents_missing": (
        409,
        _(
            "The registry holds no identity document of the child (birth certificate) or of the "
            "applicant (passport); admission is possible only by decision of the Commission on "
            "Children's Affairs."
        ),
    ),
    "no_free_seats": (409, _("There are no free seats left in this school for this language.")),
    "language_not_offered": (
        409,
        _("This school has no first-grade class in this language this year."),
    ),
    "already_registered": (409, _("The child already has an active registration.")),
    "cancel_limit_reached": (
        409,
        _("The registration of this child has already been cancelled the maximum number of times."),
    ),
    "guardian_limit_reached": (
        409,
        _("A legal representative may register no more children in this campaign."),
    ),
    "guardian_document_required": (
        409,
        _(
            "A legal representative must first upload an act proving the status, "
            "and it must be accepted."
        ),
    ),
    "not_your_child": (
        409,
        _("The registry does not show you as a parent or legal representative of this child."),
    ),
    "quota_locked": (409, _("The quota is locked and can no longer be changed.")),
    "quota_rule_violation": (409, _("This quota change is not allowed by the rules.")),
    "quota_not_locked": (409, _("The quota is not confirmed yet.")),
    "invalid_status_transition": (409, _("This action is not possible in the current status.")),
    # §17, §22: a reinstatement or a placement on appeal needs the refused registration.
    "appeal_no_registration": (
        409,
        _("The appeal names no refused registration: this decision is not possible for it."),
    ),
    "no_active_campaign": (409, _("There is no active campaign.")),
    "person_not_found": (404, _("The registry has no person with this PIN.")),
    "child_not_found": (404, _("The registry has no child with these details.")),
    "registry_rejected": (
        422,
        _(
            "The state registry (Tunduk) refused this request. "
            "Check the PIN (14 digits 0–9); nothing was changed."
        ),
    ),
    "registry_unavailable": (
        503,
        _(
            "The state registry (Tunduk) did not answer. "
            "Nothing was changed; please try again later."
        ),
    ),
    "service_busy": (
        503,
        _(
            "Too many people are using Kattoo at this moment. Nothing was changed; please try "
            "again in a few seconds."
        ),
    ),
    "idempotency_key_reused": (
        422,
        _("This Idempotency-Key was already used with a different request."),
    ),
    "validation_error": (422, _("Some fields are not valid.")),
    "bad_request": (400, _("The request could not be read.")),
    "payload_too_large": (413, _("The request is too large.")),
    "unsupported_media_type": (
        415,
        _("Send the request body as JSON (Content-Type: application/json)."),
    ),
    "unauthorized": (401, _("Authentication is required.")),
    "forbidden": (403, _("You may not do this.")),
    "not_found": (404, _("Not found.")),
    "rate_limited": (429, _("Too many requests. Please wait and try again.")),
    "server_error": (500, _("Something went wrong on our side. Nothing was changed.")),
}


# One stable code, several situations the regulation treats differently: the message by
# (code, variant). §8, §9: only an over-age child is placed by the Commission; a child too
# young for the window is told to wait for a later campaign.
VARIANT_MESSAGES: dict[tuple[str, str], Any] = {
    ("outside_birth_window", "too_young"): _(
        "The child is too young for this campaign: born after the end of its birth window. "
        "The child can be registered in a later campaign."
    ),
    ("outside_birth_window", "over_age"): _(
        "The child is older than this campaign's birth window; admission is possible only by "
        "decision of the Commission on Children's Affairs."
    ),
}


def refusal_message(code: str, variant: str = "") -> str:
    """The sentence every channel shows for a refusal (API detail, pages, a child's list)."""
    return str(VARIANT_MESSAGES.get((code, variant), ERRORS[code][1]))


class KattooError(Exception):
    """Base of every error the domain raises on purpose."""


class RuleViolation(KattooError):
    """A rule of the regulation (or of the API contract) refuses the action."""

    def __init__(self, code: str, detail: str | None = None, **params: Any) -> None:
        if code not in ERRORS:
            raise ValueError(f"unknown error code {code!r}")
        self.code = code
        self.detail = detail
        self.params = params
        super().__init__(code)

    @property
    def status(self) -> int:
        return ERRORS[self.code][0]

    @property
    def title(self) -> str:
        return str(ERRORS[self.code][1])


class FieldError(KattooError):
    """Input that is malformed (not a rule of the regulation): tied to a field."""

    def __init__(self, field: str, code: str, message: str) -> None:
        self.field = field
        self.code = code
        self.message = message
        super().__init__(f"{field}: {code}")


ERRORS.update(
    {
        "code_invalid": (422, _("The code is wrong. Check the SMS and try again.")),
        "code_expired": (409, _("The code has expired. Ask for a new one.")),
        "code_locked": (
            429,
            _("Too many wrong codes. Ask for a new code in a few minutes."),
        ),
    }
)

ERRORS.update(
    {
        "document_window_closed": (
            409,
            _("Medical certificates are recorded only within the campaign's window."),
        ),
        "document_date_in_future": (
            422,
            _("A certificate cannot be recorded as received on a day that has not come yet."),
        ),
        "document_request_closed": (
            409,
            _("Supporting documents may no longer be requested in this campaign."),
        ),
    }
)

ERRORS.update(
    {
        "decision_number_taken": (
            409,
            _("A decision with this number is already recorded in this district."),
        ),
        # The Commission on Children's Affairs (kattoo.commission, §9, §26, §31).
        "commission_child_too_young": (
            409,
            _(
                "The child is younger than this campaign's birth window. The commission places "
                "only children older than the window, children without documents and late "
                "registrations; a younger child enters first grade in a later campaign."
            ),
        ),
        "commission_not_over_age": (
            409,
            _(
                "The ground does not fit: the child is born inside this campaign's birth "
                "window, not before it."
            ),
        ),
        "commission_documents_present": (
            409,
            _(
                "The ground does not fit: the registry holds the child's birth certificate and "
                "the applicant's passport. Choose the ground the decision states."
            ),
        ),
        "commission_not_late": (
            409,
            _(
                "The ground does not fit: a late registration is placed by the commission only "
                "after this campaign's registration has ended, by a decision taken after the "
                "deadline. Until then the family registers the child itself."
            ),
        ),
        "school_not_participating": (
            409,
            _(
                "This school does not take part in electronic registration: a private or "
                "mixed school takes part only when it opts in."
            ),
        ),
        "commission_child_mismatch": (
            409,
            _(
                "The registry's child does not match the child placed by the decision: the "
                "date of birth or the sex differ."
            ),
        ),
        "commission_already_linked": (
            409,
            _("The child of this decision is already known by the registry's PIN."),
        ),
        # The teacher roster (§24).
        "teacher_not_adult": (
            409,
            _(
                "The registry holds this PIN for a person under 18: only an adult can be on "
                "the school's teacher roster."
            ),
        ),
    }
)

ERRORS.update(
    {
        # The waitlist of a full pool (kattoo.waitlist, ADR 0013).
        "waitlist_not_needed": (
            409,
            _("The child can be registered to this school now: register instead of waiting."),
        ),
        "already_waiting": (
            409,
            _("The child is already in a waitlist; leave it first to wait for another school."),
        ),
        "offer_expired": (
            409,
            _("The time to accept this seat has passed; it is offered to the next child."),
        ),
    }
)

ERRORS.update(
    {
        # The database did not answer (a restart, a failover, a full pool): core/unavailable.py.
        "service_unavailable": (
            503,
            _(
                "The service is briefly unavailable. Nothing was changed; please try again in "
                "a few seconds."
            ),
        ),
    }
)

ERRORS.update(
    {
        # Campaign lifecycle and the working-day calendar (kattoo.campaigns, ADR 0016).
        "campaign_invalid": (422, _("The campaign settings contradict each other.")),
        "campaign_started": (
            409,
            _("Stage 1 of this campaign has opened: its settings can no longer be changed."),
        ),
        "campaign_still_open": (
            409,
            _(
                "The current campaign is still open for registration: a new campaign can be "
                "published only after its registration ends."
            ),
        ),
        "campaign_finished": (
            409,
            _("Registration of this campaign has ended: it can no longer be published."),
        ),
        "campaign_already_current": (409, _("This campaign is already the current campaign.")),
        "calendar_invalid": (422, _("The working-day calendar cannot be saved as given.")),
    }
)


class InvalidFields(RuleViolation):
    """Several fields refused at once, each with its own code (campaign settings, a year of
    the calendar): the problem document lists them in ``errors``, a page beside each field."""

    def __init__(self, code: str, errors: list[FieldError]) -> None:
        super().__init__(code)
        self.errors = errors

    def as_dicts(self) -> list[dict[str, str]]:
        return [{"field": e.field, "code": e.code, "message": str(e.message)} for e in self.errors]


ERRORS.update(
    {
        # Staff accounts and their enrolment links (kattoo.accounts.staff, ADR 0018).
        "username_taken": (409, _("This username is already taken. Choose another one.")),
        "enrolment_invalid": (
            404,
            _("This enrolment link is not valid. Check that it was copied in full."),
        ),
        "enrolment_expired": (
            409,
            _("This enrolment link has expired. Ask your administrator for a new one."),
        ),
        "enrolment_used": (
            409,
            _(
                "This enrolment link was already used or replaced by a newer one. Ask your "
                "administrator for a new one if you cannot sign in."
            ),
        ),
        "enrolment_not_started": (
            409,
            _("Choose your password first; then the authenticator app can be enrolled."),
        ),
        "totp_invalid": (
            422,
            _(
                "The code is wrong. Enter the 6 digits your authenticator app shows now, and "
                "check that the phone's clock is right."
            ),
        ),
        "credentials_invalid": (401, _("The username, the password or the code is wrong.")),
    }
)

ERRORS.update(
    {
        # Catalog files and automatic quotas (kattoo.quotas.automatic, ADR 0017).
        "catalog_invalid": (
            422,
            _("The catalog file was not imported; nothing was changed. Fix the problems listed."),
        ),
        "catalog_too_large": (
            413,
            _("The catalog file is too large."),
        ),
    }
)

ERRORS.update(
    {
        # After admission (enrollment/after_admission.py, §17, §18).
        "transfer_same_school": (
            409,
            _("The child is already admitted to this school and language: choose another."),
        ),
        "pmpk_conclusion_required": (
            409,
            _(
                "Record the conclusion of the psychological-medical-pedagogical commission "
                "(ПМПК) first: the school proposes on its basis (§18)."
            ),
        ),
        "pmpk_proposal_pending": (
            409,
            _("The parent has not answered the school's previous proposal yet."),
        ),
    }
)
