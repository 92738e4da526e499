"""Migration operations that leave a running deployment writing while they run.

An upgrade runs ``migrate`` with the web up (docs/deployment.md, "Upgrades"). A plain ``CREATE
INDEX`` holds a SHARE lock on its table for the whole build: on the outbox or the audit trail
after a campaign (millions of rows) every registration, sign-in code and audited action
waits behind it, and behind the lock request every later writer queues too. ``CREATE INDEX
CONCURRENTLY`` takes a lock that writers do not conflict with; it waits only for the
transactions already open on the table to end.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex


class AddIndexOnline(AddIndexConcurrently):
    """``AddIndex`` that builds the index with ``CREATE INDEX CONCURRENTLY`` on PostgreSQL, and
    as a plain index on SQLite (the embedded default: one process, nothing to keep writing).

    The migration that holds it sets ``atomic = False`` (PostgreSQL builds a concurrent index
    outside a transaction). A concurrent build that failed halfway (a cancelled ``migrate``, a
    unique violation) leaves an invalid index of the same name behind; running the migration
    again drops it first instead of failing on "already exists"."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)
            return
        _drop_if_invalid(schema_editor, self.index.name)
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
            return
        super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"Create index {self.index.name} on {self.model_name} (concurrently on PostgreSQL)"


def index_valid(connection: Any, name: str) -> bool | None:
    """Whether the index of this name in the current schema is valid (a concurrent build that
    failed leaves it invalid); ``None`` when there is none. PostgreSQL only."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace",
            [name],
        )
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


def _drop_if_invalid(schema_editor: Any, name: str) -> None:
    if index_valid(schema_editor.connection, name) is False:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")
