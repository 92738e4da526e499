"""kattoo/core/indexes.py: a BRIN on PostgreSQL, a plain index on SQLite (ADR 0039)."""

from __future__ import annotations

import pytest
from django.db import connection

from kattoo.audit.models import AuditEvent
from kattoo.core.indexes import BrinIndex


@pytest.mark.django_db
def test_the_brin_index_is_written_for_the_database_in_use() -> None:
    index = BrinIndex(fields=["at"], name="audit_at_probe", autosummarize=True)
    editor = connection.schema_editor(collect_sql=True)  # not entered: only its SQL is asked
    sql = str(index.create_sql(AuditEvent, editor))
    assert '"audit_at_probe"' in sql and '"at"' in sql
    if connection.vendor == "postgresql":
        assert "USING brin" in sql and "autosummarize = on" in sql
    else:
        assert "USING" not in sql and "autosummarize" not in sql


def test_it_travels_in_migrations_with_its_options() -> None:
    path, _args, kwargs = BrinIndex(fields=["at"], name="x", autosummarize=True).deconstruct()
    assert path == "kattoo.core.indexes.BrinIndex"
    assert kwargs == {"fields": ["at"], "name": "x", "autosummarize": True}
