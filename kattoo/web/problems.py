"""A refusal on a page: what happened (the domain's sentence) and what to do next."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kattoo.core.errors import RuleViolation

NEXT_STEPS: dict[str, Any] = {
    "not_in_microdistrict": _(
        "Choose a school from the list for your child, or wait for stage 2. If your address "
        "should belong to this school, ask the school to add it."
    ),
    "no_free_seats": _("Choose another school or language with free seats."),
    "outside_birth_window": _(
        "Write to the district education office: the Commission on Children's Affairs decides."
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


def problem_of(exc: RuleViolation) -> dict[str, Any]:
    return {
        "code": exc.code,
        "title": exc.title,
        "detail": exc.detail or "",
        "next_step": NEXT_STEPS.get(exc.code, ""),
    }
