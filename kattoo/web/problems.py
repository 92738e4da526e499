"""A refusal on a page: what happened (the domain's sentence) and what to do next."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kattoo.audit.refusals import Attempt, audit_refusal, is_refusal
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation, refusal_message
from kattoo.enrollment.eligibility import Refusal

NEXT_STEPS: dict[str, Any] = {
    "not_in_microdistrict": _(
        "Choose a school from the list for your child, or wait for stage 2. If your address "
        "should belong to this school, ask the school to add it."
    ),
    "no_free_seats": _("Choose another school or language with free seats."),
    "outside_birth_window": _(
        "Write to the district education office: the Commission on Children's Affairs decides."
    ),
    # §8, §9: the Commission places over-age children, not younger ones.
    "outside_birth_window:too_young": _(
        "Register the child in the campaign whose birth window includes the child's birthday."
    ),
    "documents_missing": _(
        "Write to the district education office: the Commission on Children's Affairs decides."
    ),
    "already_registered": _("To choose another school, cancel the current registration first."),
    "registration_closed": _("Prepare your choice now; you can submit it when registration opens."),
    "guardian_document_required": _("Upload the court act or the act of the social authority."),
    "registry_unavailable": _("Try again in a few minutes. Nothing was changed."),
    "cancel_limit_reached": _("This registration can no longer be cancelled."),
}


def next_step(code: str, variant: str = "") -> Any:
    return NEXT_STEPS.get(f"{code}:{variant}", NEXT_STEPS.get(code, ""))


def problem_of(exc: RuleViolation) -> dict[str, Any]:
    variant = exc.params.get("variant", "")
    return {
        "code": exc.code,
        "variant": variant,
        "title": exc.title,
        "detail": exc.detail or "",
        "next_step": next_step(exc.code, variant),
    }


def reason_of(refusal: Refusal) -> dict[str, Any]:
    """A refusal in a list (a child's standing): the same sentence and next step as the
    refused action's page."""
    return {
        "code": refusal.code,
        "variant": refusal.variant,
        "message": refusal_message(refusal.code, refusal.variant),
        "next_step": next_step(refusal.code, refusal.variant),
    }


def refusal_audit(request: HttpRequest, exc: RuleViolation, attempt: Attempt, **ids: Any) -> None:
    """Record a rule's refusal of a parent's registration attempt (§7, audit/refusals.py).
    Called from the view's ``except`` block, after the service's transaction was rolled back:
    one INSERT of its own."""
    if is_refusal(exc):
        actor = Actor(
            user=getattr(request, "user", None),
            channel="web",
            request_id=getattr(request, "request_id", ""),
        )
        variant = exc.params.get("variant")
        audit_refusal(actor=actor, code=exc.code, variant=variant, attempt=attempt, **ids)
