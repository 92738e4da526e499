"""Indexes added by an upgrade are built without stopping the writers (kattoo/core/migration_ops):
a registration that arrives while ``migrate`` builds an index on its table goes through."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from io import StringIO

import psycopg
import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import IntegrityError, connection, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import AddIndex, CreateModel
from django.db.migrations.state import ProjectState

from kattoo.core.migration_ops import AddIndexOnline, index_valid

from ..conftest import pg_params

TABLE = "notifications_notification"
INDEX = "notification_queued_secret"

# Indexes added to an existing table before AddIndexOnline existed: they were released, and
# a migration already applied is not rewritten. Every later one is built online.
RELEASED_PLAIN = {("audit", "0004_viewer_indexes"), ("audit", "0006_at_brin")}


def test_every_index_added_to_an_existing_table_is_built_online() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    offenders = []
    for (app_label, name), migration in sorted(loader.disk_migrations.items()):
        if not apps.get_app_config(app_label).name.startswith("kattoo."):
            continue
        created = {op.name.lower() for op in migration.operations if isinstance(op, CreateModel)}
        for op in migration.operations:
            if (
                isinstance(op, AddIndex)
                and not isinstance(op, AddIndexOnline)
                and op.model_name.lower() not in created
                and (app_label, name) not in RELEASED_PLAIN
            ):
                offenders.append(f"{app_label}.{name}: {op.index.name}")
            if isinstance(op, AddIndexOnline):
                assert not migration.atomic, f"{app_label}.{name} must set atomic = False"
    assert offenders == [], "use kattoo.core.migration_ops.AddIndexOnline"


@pytest.mark.django_db(transaction=True)  # a concurrent build is never inside a transaction
def test_sqlmigrate_shows_the_build_each_database_gets() -> None:
    out = StringIO()
    call_command("sqlmigrate", "notifications", "0008", stdout=out)
    if connection.vendor == "postgresql":
        assert f'CREATE INDEX CONCURRENTLY "{INDEX}" ON "{TABLE}"' in out.getvalue()
    else:
        assert f'CREATE INDEX "{INDEX}" ON "{TABLE}"' in out.getvalue()


# -- on PostgreSQL: the writers go on ----------------------------------------------------------


def pg(test: Callable[..., None]) -> Callable[..., None]:
    for mark in (
        pytest.mark.postgres,
        pytest.mark.django_db(transaction=True),
        pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's locks"),
    ):
        test = mark(test)
    return test


def _states() -> tuple[ProjectState, ProjectState, AddIndexOnline]:
    loader = MigrationLoader(connection)
    before = loader.project_state(("notifications", "0007_time_ordered_ids"))
    op = loader.disk_migrations[("notifications", "0008_queued_secret_index")].operations[0]
    after = before.clone()
    op.state_forwards("notifications", after)
    return before, after, op


def _index_state() -> bool | None:
    return index_valid(connection, INDEX)


@pytest.fixture
def without_index() -> Iterator[tuple[ProjectState, ProjectState, AddIndexOnline]]:
    before, after, op = _states()
    with connection.schema_editor(atomic=False) as editor:
        op.database_backwards("notifications", editor, after, before)
    assert _index_state() is None
    try:
        yield before, after, op
    finally:
        if _index_state() is not True:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')
            with connection.schema_editor(atomic=False) as editor:
                op.database_forwards("notifications", editor, before, after)
        assert _index_state() is True


def _build_while_a_writer_is_open(build: Callable[[], None]) -> str:
    """A writer holds its table lock in an open transaction (as a registration does until its
    commit); the build starts in a thread and waits for it; then a second writer arrives.
    Returns what happened to the second writer."""
    params = pg_params()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            build()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    with psycopg.connect(**params) as first, psycopg.connect(**params, autocommit=True) as watch:
        # What INSERT and UPDATE take on the table: ROW EXCLUSIVE.
        first.execute(f"LOCK TABLE {TABLE} IN ROW EXCLUSIVE MODE")
        builder = threading.Thread(target=run)
        builder.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            waiting = watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX%%' "
                "AND wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone()
            if waiting and waiting[0]:
                break
            time.sleep(0.05)
        else:
            first.rollback()
            builder.join()
            pytest.fail(f"the build never waited for the open writer: {errors}")
        with psycopg.connect(**params) as second:
            second.execute("SET lock_timeout = '2s'")
            try:
                second.execute(f"LOCK TABLE {TABLE} IN ROW EXCLUSIVE MODE")
                outcome = "went through"
            except psycopg.errors.LockNotAvailable:
                outcome = "waited behind the build"
            second.rollback()
        still_building = builder.is_alive()
        first.commit()
        builder.join(30)
    assert not errors, errors
    assert still_building, "the second writer must arrive while the index is being built"
    return outcome


@pytest.mark.parametrize("online", [True, False], ids=["online", "plain"])
@pg
def test_a_writer_arriving_during_the_build_goes_through(
    without_index: tuple[ProjectState, ProjectState, AddIndexOnline], online: bool
) -> None:
    before, after, op = without_index
    plain = AddIndex(model_name=op.model_name, index=op.index)

    def build() -> None:
        with connection.schema_editor(atomic=not online) as editor:
            (op if online else plain).database_forwards("notifications", editor, before, after)

    outcome = _build_while_a_writer_is_open(build)
    # The plain build is the control: the same scene, and the second writer queues behind it.
    assert outcome == ("went through" if online else "waited behind the build")
    assert _index_state() is True


@pg
def test_a_build_that_failed_halfway_is_redone(
    without_index: tuple[ProjectState, ProjectState, AddIndexOnline],
) -> None:
    before, after, op = without_index
    with connection.cursor() as cursor:
        for key in ("a", "b"):
            cursor.execute(
                f"INSERT INTO {TABLE} (id, channel, address, event, language, subject, body, "
                "secret_body, dedupe_key, status, attempts, last_error, provider_id, created_at, "
                "report) VALUES (gen_random_uuid(), 'sms', '', 'x', 'ky', '', '', '', %s, "
                "'sent', 0, '', '', now(), '')",
                [key],
            )
        # A concurrent build that fails (here on a duplicate) leaves its index behind, invalid.
        with pytest.raises(IntegrityError):
            cursor.execute(f'CREATE UNIQUE INDEX CONCURRENTLY "{INDEX}" ON {TABLE} (channel)')
    assert _index_state() is False

    with connection.schema_editor(atomic=False) as editor:
        op.database_forwards("notifications", editor, before, after)
    assert _index_state() is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef(%s::regclass)", [INDEX])
        assert "(created_at) WHERE" in cursor.fetchone()[0]
