"""The audit viewer's services: an event's actor as the viewer shows it (applicants' PINs
masked, §7) and the ministry administrator's reveal, itself recorded."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from kattoo.audit.models import AuditEvent
from kattoo.audit.services import audit_record
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.core.logging import mask_pins
from kattoo.core.roles import Role

# A reason a reader of the audit trail can judge later ("checking complaint No. 12 of …").
REVEAL_REASON_MIN, REVEAL_REASON_MAX = 10, 500


def audit_actor_masked(event: AuditEvent) -> str | None:
    """The event's actor as the viewer shows it by default: an applicant's user name is their
    PIN (§7), so PINs are masked the way the logs mask them (``2**********001``); staff user
    names are shown as they are. None for the system."""
    return mask_pins(event.actor.get_username()) if event.actor else None


@transaction.atomic
def audit_actor_reveal(*, event: AuditEvent, reason: str, actor: Actor) -> str | None:
    """The event's actor unmasked, for a ministry administrator who says why; the reveal is
    itself recorded (``audit.reveal`` with the event and the reason) in the same transaction.
    None when the system acted (nothing to reveal, nothing recorded)."""
    user = actor.user
    if user is None or user.role != Role.MINISTRY_ADMIN:
        raise RuleViolation("forbidden")
    reason = reason.strip()
    if not REVEAL_REASON_MIN <= len(reason) <= REVEAL_REASON_MAX:
        raise FieldError(
            "reason",
            "reason_required",
            _("Say why you need the full user name: %(min)d to %(max)d characters.")
            % {"min": REVEAL_REASON_MIN, "max": REVEAL_REASON_MAX},
        )
    if event.actor is None:
        return None
    audit_record(
        actor=actor,
        action="audit.reveal",
        obj=event,
        data={"event": event.pk, "reason": reason},
    )
    return event.actor.get_username()
