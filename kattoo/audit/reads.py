"""Reads and exports of children's personal data by staff (§7: "all user actions" are
recorded), in the same trail as the writes so the sealed chain (ADR 0012) stays complete.

One row per page view, list page, card or file: ``personal_data.read`` or
``personal_data.export``, with what was read (``what``), the ids it concerned (the school
under ``data.school`` so the viewer's school and district filters find it), how many rows
were shown or sent, the filters and the file format. Never a name, PIN or address: the row
points at the data, it does not copy it; any PIN-like text in a filter is masked the way the
logs mask it.

The row is written in autocommit, outside any transaction (a read opens none): a single
INSERT, like every other audit row. What is audited, and why a fragment refresh is not,
is listed in docs/architecture.md ("Oversight and operations").
"""

from __future__ import annotations

from typing import Any, Literal

from django.db import models

from kattoo.core.actors import Actor
from kattoo.core.logging import mask_pins

from .models import AuditEvent
from .services import audit_record

READ = "personal_data.read"
EXPORT = "personal_data.export"

# What a read or an export names, as ``data.what``.
Read = Literal[
    "applications",  # a school's registered children (web list, API list page)
    "application",  # one child's card at the school
    "classes",  # the formed classes with their children
    "refusals",  # the district's refused registrations
    "commission_decisions",  # the district's commission placements
    "appeal",  # one appeal's card at the district: the child, the applicant, the registration
    "waitlist",  # the waitlists of a school's pools
    "fraud_application",  # a registration a fraud signal points at
    "audit_events",  # a page of the audit viewer
    "audit_event",  # one audit event
    "appeals",  # the district's appeals inbox: children and applicants named
    "address_requests",  # a school's pending family addresses (§19 requests)
    "fraud_signals",  # the fraud-signal lists: registrations, addresses, applicants
]
Export = Literal[
    "kundoluk",  # §30: the admitted children for Kundoluk
    "class_lists",  # the formed classes (XLSX, PDF)
    "report",  # the ministry's / scope's report file
    "audit",  # the audit trail as CSV
    "guardian_act",  # a representative's uploaded act
]


def _clean(value: Any) -> Any:
    """Filters as recorded: empty values dropped, PIN-like text masked."""
    if isinstance(value, str):
        return mask_pins(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v not in (None, "", [], {})}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _record(
    action: str,
    what: str,
    *,
    actor: Actor,
    obj: models.Model | None,
    object_type: str,
    object_id: str,
    data: dict[str, Any],
) -> AuditEvent:
    return audit_record(
        actor=actor,
        action=action,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        data={"what": what, **_clean(data)},
    )


def audit_read(
    *,
    actor: Actor,
    what: Read,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    school: int | None = None,
    count: int | None = None,
    filters: dict[str, Any] | None = None,
    **ids: Any,
) -> AuditEvent:
    """Record that ``actor`` was shown ``what`` (a list of ``count`` rows, or one card)."""
    return _record(
        READ,
        what,
        actor=actor,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        data={"school": school, "count": count, "filters": filters, **ids},
    )


def audit_download(
    *,
    actor: Actor,
    what: Export,
    file_format: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    school: int | None = None,
    count: int | None = None,
    filters: dict[str, Any] | None = None,
    **ids: Any,
) -> AuditEvent:
    """Record that ``actor`` took ``what`` away as a ``file_format`` file of ``count`` rows."""
    return _record(
        EXPORT,
        what,
        actor=actor,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        data={"format": file_format, "school": school, "count": count, "filters": filters, **ids},
    )
