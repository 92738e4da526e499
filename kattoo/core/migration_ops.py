"""Migration operations that leave a running deployment writing while they run.

An upgrade runs ``migrate`` with the web up (docs/deployment.md, "Upgrades"). A plain ``CREATE
INDEX`` holds a SHARE lock on its table for the whole build: on the outbox or the audit trail
after a campaign (millions of rows) every registration, sign-in code and audited action
waits behind it, and behind the lock request every later writer queues too. ``CREATE INDEX
CONCURRENTLY`` takes a lock that writers do not conflict with; it waits only for the
transactions already open on the table to end. A unique constraint is the same: its index
is built concurrently and the constraint attached to it (``AddUniqueOnline``).

``RunSQLOnPostgreSQL`` is PostgreSQL's own SQL (a trigger, its function) that SQLite, the
embedded default, does without.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently, NotInTransactionMixin
from django.db.backends.ddl_references import Statement
from django.db.migrations.operations import AddConstraint, AddIndex, RunSQL
from django.db.models import UniqueConstraint


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


class AddUniqueOnline(NotInTransactionMixin, AddConstraint):
    """``AddConstraint`` of a ``UniqueConstraint`` whose index is built with ``CREATE UNIQUE
    INDEX CONCURRENTLY`` on PostgreSQL; a plain constraint on SQLite.

    A constraint on columns alone (no condition, expression or included column: Django makes
    it ``ALTER TABLE … ADD CONSTRAINT … UNIQUE``, which builds its index under the table's
    lock) becomes the index built online, then ``ADD CONSTRAINT … UNIQUE USING INDEX``: the
    same constraint, attached to the finished index in a moment (a brief ACCESS EXCLUSIVE
    lock, no scan). Any other unique constraint is an index in PostgreSQL already, and is
    built online. As with ``AddIndexOnline``, the migration sets ``atomic = False``; an
    invalid index left by a failed build is dropped and built again, and a valid one left by a
    run that stopped before the constraint was attached is kept and attached."""

    model_name: str
    constraint: UniqueConstraint

    def __init__(self, model_name: str, constraint: UniqueConstraint) -> None:
        if not isinstance(constraint, UniqueConstraint):
            raise TypeError("AddUniqueOnline takes a UniqueConstraint")
        super().__init__(model_name, constraint)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if schema_editor.connection.vendor != "postgresql" or not self.allow_migrate_model(
            schema_editor.connection.alias, model
        ):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        self._ensure_not_in_transaction(schema_editor)
        name = self.constraint.name
        # Django returns the ddl_references.Statement (its stubs say str)
        statement: Any = self.constraint.create_sql(model, schema_editor)
        as_constraint = statement.template == schema_editor.sql_create_unique
        index: Any
        if as_constraint:
            index = Statement(
                schema_editor.sql_create_unique_index,
                **{**statement.parts, "include": "", "condition": ""},
            )
        else:
            index = statement
        index.template = index.template.replace(
            "CREATE UNIQUE INDEX", "CREATE UNIQUE INDEX CONCURRENTLY", 1
        )
        _drop_if_invalid(schema_editor, name)
        # ``sqlmigrate`` (collecting, not running) shows the whole of it
        if schema_editor.collect_sql or index_valid(schema_editor.connection, name) is None:
            schema_editor.execute(index)
        if as_constraint:
            schema_editor.execute(
                Statement(
                    "ALTER TABLE %(table)s ADD CONSTRAINT %(name)s UNIQUE USING INDEX %(name)s"
                    "%(deferrable)s",
                    table=statement.parts["table"],
                    name=statement.parts["name"],
                    deferrable=statement.parts["deferrable"],
                )
            )

    def describe(self) -> str:
        return (
            f"Create unique constraint {self.constraint.name} on {self.model_name} "
            "(its index built concurrently on PostgreSQL)"
        )


class RunSQLOnPostgreSQL(RunSQL):
    """``RunSQL`` on PostgreSQL only, each statement of the lists executed on its own (a
    server-side-bound connection, the production settings', takes one at a time; ``%`` is
    not a placeholder). Nothing on SQLite. ``sqlmigrate`` shows it on PostgreSQL."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


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
