"""Refused registration attempts (§7: "all user actions" are recorded): a parent who tried to
register a child, prepare or submit a draft, join a waitlist or accept an offered seat and
was refused by a rule of the regulation leaves one audit row with the refusal's code.

The refusal is recorded where the channel turns the ``RuleViolation`` into an answer (the
API's problem handler, the web page's ``except``), after the service's transaction has been
rolled back: one INSERT in autocommit, never inside the failed transaction (it would vanish
with it) and never on the accepted path (the opening minute's one statement is unchanged).
One exception, for the opening minute: a full pool told by the fast path's statement is
recorded by the fast path itself, with the same row, in the statement that also checks the
Idempotency-Key (``enrollment.fastpath._REFUSED``).

Only the rules' refusals (status 409: ``not_in_microdistrict``, ``no_free_seats``,
``guardian_limit_reached``, ``outside_birth_window``, …) are recorded; a registry outage, a
busy server, a malformed request or a refused scope (404) are not refusals of the attempt.
The row holds ids only: the child (as the object), the school (``data.school``, so the
viewer's school and district filters find it), the language (the pool is the school's pool
of that language) and, for an offer, the waitlist entry.
"""

from __future__ import annotations

from typing import Any, Literal

from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation

from .models import AuditEvent
from .services import audit_record

REFUSED = "registration.refused"

Attempt = Literal["register", "draft_save", "draft_submit", "waitlist_join", "offer_accept"]


def is_refusal(exc: RuleViolation) -> bool:
    """A rule of the regulation said no (409), as opposed to an outage or a bad request."""
    return exc.status == 409


def audit_refusal(
    *,
    actor: Actor,
    code: str,
    attempt: Attempt,
    variant: str | None = None,
    child: int | None = None,
    school: int | None = None,
    language: str | None = None,
    **ids: Any,
) -> AuditEvent:
    """Record one refused attempt. Call after the refused service's transaction ended.
    ``variant`` tells two refusals of one code apart (``outside_birth_window``: too young)."""
    return audit_record(
        actor=actor,
        action=REFUSED,
        object_type="people.person" if child is not None else "",
        object_id=str(child) if child is not None else "",
        data=refusal_data(
            code=code, attempt=attempt, variant=variant, school=school, language=language, **ids
        ),
    )


def refusal_data(
    *,
    code: str,
    attempt: Attempt,
    variant: str | None = None,
    school: int | None = None,
    language: str | None = None,
    **ids: Any,
) -> dict[str, Any]:
    """The refusal row's ``data`` (the opening minute's fast path writes the same row in SQL)."""
    data: dict[str, Any] = {"code": code, "variant": variant or None, "attempt": attempt}
    data["school"] = school
    data.update(language=language, **ids)
    return {k: v for k, v in data.items() if v is not None}
