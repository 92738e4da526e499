"""The one write of the fraud app: an officer's review of a signal, audited (§7)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation

from .models import ReviewStatus, SignalKind, SignalReview

NOTE_MAX = 2000


@transaction.atomic
def signal_review(
    *, campaign: Campaign, kind: str, key: str, status: str, note: str, actor: Actor
) -> SignalReview:
    """Mark a signal reviewed (legitimate, or referred for checking). The caller has checked
    that the signal is in the actor's scope; the review never changes a registration."""
    if actor.user is None:
        raise RuleViolation("forbidden")
    if kind not in SignalKind.values or not key or len(key) > 200:
        raise FieldError("kind", "invalid_choice", _("This is not a known signal."))
    if status not in ReviewStatus.values:
        raise FieldError("status", "invalid_choice", _("Choose legitimate or referred."))
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise FieldError(
            "note", "too_long", _("The note is longer than %(n)d characters.") % {"n": NOTE_MAX}
        )
    if status == ReviewStatus.REFERRED and not note:
        raise FieldError("note", "required", _("Say why the signal is referred."))
    review, created = SignalReview.objects.update_or_create(
        campaign=campaign,
        kind=kind,
        key=key,
        defaults={
            "status": status,
            "note": note,
            "reviewed_by": actor.user,
            "reviewed_at": clock.now(),
        },
    )
    audit_record(
        actor=actor,
        action="fraud.review",
        obj=review,
        data={"kind": kind, "key": key, "status": status, "note": note, "first": created},
    )
    return review
