"""Every index on the tables the registration statement writes is paid by every registration
(issue 15, ADR 0030, 0038): each entry and its index lock. So each one here names what reads
by it, and an index nobody listed fails this test — add it with its reader, or leave it out.
"""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's indexes"),
]

# table → {the index's columns (an expression as ``expr``) → what needs it}
READERS: dict[str, dict[tuple[str, ...], str]] = {
    "enrollment_application": {
        ("id",): "the primary key",
        ("campaign_id", "child_id"): "one active application per child (§4, partial unique)",
        ("pool_id", "position"): "one position per seat in a pool (unique)",
        ("child_id",): "a child's applications in every campaign; the read's cancellations",
        ("school_id", "status"): "a school's lists and counts",
        ("user_id", "created_at"): "a parent's applications, newest first",
        ("applicant_id",): "a representative's wards (§21)",
    },
    "enrollment_applicationtransition": {
        ("id",): "the primary key",
        ("application_id",): "an application's history",
    },
    "audit_auditevent": {
        ("id",): "the primary key; the viewer's keyset pages",
        ("object_type", "object_id"): "the viewer's object filter; an object's events",
        ("action", "id"): "the viewer's action filter",
        ("actor_id", "id"): "the viewer's actor filter",
        ("at",): "the viewer's dates (a BRIN: next to nothing to write per row, ADR 0039)",
        ("request_id",): "the viewer's request filter",
        ("expr",): "the viewer's school and district filters (data -> 'school')",
    },
    "notifications_notification": {
        ("id",): "the primary key",
        ("dedupe_key",): "one message per event and object (unique)",
        ("status", "created_at"): "the outbox drain and the sweeper, oldest queued first",
        # Partial (queued sign-in codes only): a registration's outbox row adds no entry.
        ("created_at",): "the outbox drain's sign-in codes before the backlog (ADR 0044)",
    },
    "enrollment_idempotencyrecord": {
        ("id",): "the primary key",
        ("user_id", "key"): "one stored answer per Idempotency-Key (unique)",
    },
    "enrollment_seatpool": {
        ("id",): "the primary key: the seat's UPDATE",
        ("campaign_id", "school_id", "language"): "one pool per school and language (unique)",
        ("school_id",): "the read's pool of the draft's school",
    },
}


@pytest.mark.parametrize("table", sorted(READERS))
def test_every_index_of_a_table_the_registration_writes_has_a_reader(table: str) -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    found = {
        tuple(c if c else "expr" for c in spec["columns"]) or ("expr",)
        for spec in constraints.values()
        if spec["index"] or spec["primary_key"] or spec["unique"]
    }
    assert found == set(READERS[table])


def test_the_audit_time_index_is_a_brin() -> None:
    """Events are appended in time order: per-range bounds find a period, and a registration
    writes no B-tree entry for its time (ADR 0039)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "audit_auditevent")
    kinds = {name: spec["type"] for name, spec in constraints.items() if spec["columns"] == ["at"]}
    assert kinds == {"audit_at_brin": "brin"}
