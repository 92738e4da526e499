"""The application's state machine: the declared table of allowed transitions.

This module is the only place that writes ``Application.status``.
"""

from __future__ import annotations

from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation

from .models import Application, ApplicationTransition, Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.REGISTERED: frozenset({Status.ADMITTED, Status.REFUSED, Status.CANCELLED}),
    # After admission the family may withdraw the child (a move; agreeing to the ПМПК's special
    # school, §18) and the district may transfer it by a commission decision (§17).
    Status.ADMITTED: frozenset({Status.REFUSED, Status.WITHDRAWN, Status.TRANSFERRED}),
    Status.REFUSED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.WITHDRAWN: frozenset(),
    Status.TRANSFERRED: frozenset(),
}

# Leaving these states gives the seat back to the pool.
RELEASES_SEAT = frozenset({Status.REFUSED, Status.CANCELLED, Status.WITHDRAWN, Status.TRANSFERRED})


# §17, §22: only the district, deciding a family's appeal, reopens an unlawful refusal — back
# to the status the refusal ended (kattoo.appeals.services.appeal_reinstate). Kept apart from
# TRANSITIONS so that no ordinary action (an admission, a cancellation) starts from a refusal.
ON_APPEAL: dict[str, frozenset[str]] = {
    Status.REFUSED: frozenset({Status.REGISTERED, Status.ADMITTED}),
}


def can_transition(current: str, target: str, *, on_appeal: bool = False) -> bool:
    table = ON_APPEAL if on_appeal else TRANSITIONS
    return target in table.get(current, frozenset())


def transition(
    application: Application,
    target: Status,
    *,
    actor: Actor,
    reason: str = "",
    reason_code: str = "",
    on_appeal: bool = False,
) -> ApplicationTransition:
    """Move the (row-locked) application to ``target`` and record it in its history."""
    if not can_transition(application.status, target, on_appeal=on_appeal):
        raise RuleViolation("invalid_status_transition")
    previous = application.status
    now = clock.now()
    Application.objects.filter(pk=application.pk).update(status=target, status_changed_at=now)
    application.status = target
    application.status_changed_at = now
    return ApplicationTransition.objects.create(
        application=application,
        from_status=previous,
        to_status=target,
        at=now,
        actor_id=actor.user_id,
        reason=reason,
        reason_code=reason_code,
    )
