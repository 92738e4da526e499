"""ANALYZE runs while the opening minute writes (autovacuum visits the hot tables as they
grow), so a column the planner never uses is left out of it (ADR 0060): the stored answer of
an ``Idempotency-Key`` request, which ANALYZE otherwise sorts as nested JSON."""

from __future__ import annotations

import pytest
from django.db import connection

from kattoo.accounts.models import User
from kattoo.core import clock
from kattoo.core.roles import Role
from kattoo.enrollment.models import IdempotencyRecord

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's statistics"),
]


def test_the_stored_answers_get_no_statistics_and_the_other_columns_keep_theirs() -> None:
    user = User.objects.create(username="answers", role=Role.MINISTRY_ANALYST)
    IdempotencyRecord.objects.bulk_create(
        IdempotencyRecord(
            user=user,
            key=f"00000000-0000-4000-8000-{n:012d}",
            request_hash=f"{n:064x}",
            status_code=201,
            response={"id": n, "history": [{"to_status": "registered"}]},
            created_at=clock.now(),
        )
        for n in range(200)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE enrollment_idempotencyrecord")
        cursor.execute(
            "SELECT attname FROM pg_stats WHERE schemaname = current_schema()"
            " AND tablename = 'enrollment_idempotencyrecord'"
        )
        analyzed = {row[0] for row in cursor.fetchall()}
    assert "response" not in analyzed
    assert {"user_id", "key", "request_hash", "created_at"} <= analyzed
