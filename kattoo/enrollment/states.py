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
    # §23: after admission only the ПМПК's direction to a special school ends the admission.
    Status.ADMITTED: frozenset({Status.REFUSED}),
    Status.REFUSED: frozenset(),
    Status.CANCELLED: frozenset(),
}

# Leaving these states gives the seat back to the pool.
RELEASES_SEAT = frozenset({Status.REFUSED, Status.CANCELLED})


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def transition(
    application: Application,
    target: Status,
    *,
    actor: Actor,
    reason: str = "",
    reason_code: str = "",
) -> ApplicationTransition:
    """Move the (row-locked) application to ``target`` and record it in its history."""
    if not can_transition(application.status, target):
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
