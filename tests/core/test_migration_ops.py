"""Indexes added by an upgrade are built without stopping the writers (kattoo/core/migration_ops):
a registration that arrives while ``migrate`` builds an index on its table goes through."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import psycopg
import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import IntegrityError, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import AddConstraint, AddIndex, CreateModel
from django.db.migrations.state import ProjectState
from django.db.models import Q, UniqueConstraint

from kattoo.core import clock
from kattoo.core.migration_ops import AddIndexOnline, AddUniqueOnline, index_valid

from ..conftest import pg_params, waits_for_a_lock

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
            if isinstance(op, AddIndexOnline | AddUniqueOnline):
                assert not migration.atomic, f"{app_label}.{name} must set atomic = False"
    assert offenders == [], "use kattoo.core.migration_ops.AddIndexOnline"


# Migrations released before the guard below that build an index on an existing table under
# its lock (a unique constraint, a column with db_index or unique, an index): applied
# migrations are not rewritten.
RELEASED_OFFLINE = RELEASED_PLAIN | {
    ("accounts", "0006_login_challenge_handle_and_pin"),
    ("appeals", "0002_appeal_decision"),
    ("notifications", "0005_dedupe_key_one_index"),
}
_BUILDS_AN_INDEX = (
    # CREATE [UNIQUE] INDEX without CONCURRENTLY
    re.compile(r'CREATE (?:UNIQUE )?INDEX (?!CONCURRENTLY)"?\w+"? ON "(?P<table>\w+)"'),
    # a unique or primary key constraint (or exclusion) built with its index
    re.compile(
        r'ALTER TABLE "(?P<table>\w+)" ADD CONSTRAINT "\w+" (?:UNIQUE|PRIMARY KEY|EXCLUDE)'
        r"(?!.* USING INDEX )"
    ),
    # a column added with an index of its own
    re.compile(r'ALTER TABLE "(?P<table>\w+)" ADD COLUMN .* (?:UNIQUE|PRIMARY KEY)'),
)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # a concurrent build is never inside a transaction
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the SQL PostgreSQL gets")
def test_no_migration_builds_an_index_under_the_tables_lock() -> None:
    """What every migration sends to PostgreSQL (as ``sqlmigrate`` shows it), read in the
    order ``migrate`` applies them: an index built on a table an earlier migration created —
    whatever operation asked for it (``AddIndex``, ``AddConstraint`` of a unique constraint,
    ``AddField``/``AlterField`` with ``db_index``, ``unique`` or a foreign key) — must be
    built ``CONCURRENTLY`` (ADR 0045)."""
    executor = MigrationExecutor(connection)
    loader = executor.loader
    plan = executor.migration_plan(loader.graph.leaf_nodes(), clean_start=True)
    state = ProjectState(real_apps=loader.unmigrated_apps)
    offenders = []
    for migration, _ in plan:
        with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
            state = migration.apply(state, editor, collect_sql=True)
        key = (migration.app_label, migration.name)
        if not apps.get_app_config(key[0]).name.startswith("kattoo.") or key in RELEASED_OFFLINE:
            continue
        created = set(re.findall(r'CREATE TABLE "(\w+)"', "\n".join(editor.collected_sql)))
        for statement in editor.collected_sql:
            for pattern in _BUILDS_AN_INDEX:
                found = pattern.match(statement)
                if found and found["table"] not in created:
                    offenders.append(f"{key[0]}.{key[1]}: {statement[:120]}")
    assert offenders == [], (
        "build it online: kattoo.core.migration_ops.AddIndexOnline for an index, AddUniqueOnline "
        "for a unique constraint; a new column gets no db_index/unique of its own"
    )


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
        if not waits_for_a_lock(
            lambda sql, params: watch.execute(sql, params).fetchone(),
            queries=("CREATE %INDEX%", "ALTER TABLE%"),
        ):
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


def _second_writer_while(op: Any, before: ProjectState, after: ProjectState) -> str:
    """What happens to a writer arriving while ``op`` runs forwards on the outbox (outside a
    transaction when the operation builds online, inside one as ``migrate`` runs the rest)."""
    online = isinstance(op, AddIndexOnline | AddUniqueOnline)

    def build() -> None:
        with connection.schema_editor(atomic=not online) as editor:
            op.database_forwards("notifications", editor, before, after)

    return _build_while_a_writer_is_open(build)


@pytest.mark.parametrize("online", [True, False], ids=["online", "plain"])
@pg
def test_a_writer_arriving_during_the_build_goes_through(
    without_index: tuple[ProjectState, ProjectState, AddIndexOnline], online: bool
) -> None:
    before, after, op = without_index
    plain = AddIndex(model_name=op.model_name, index=op.index)
    outcome = _second_writer_while(op if online else plain, before, after)
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


# -- unique constraints --------------------------------------------------------------------------

UNIQUE = "test_unique_online"
_UNIQUES = {
    # Django makes this one ALTER TABLE … ADD CONSTRAINT … UNIQUE (the index built under the lock)
    "columns": UniqueConstraint(fields=["dedupe_key", "channel"], name=UNIQUE),
    # … and this one a CREATE UNIQUE INDEX
    "conditional": UniqueConstraint(
        fields=["dedupe_key"], condition=Q(status="queued"), name=UNIQUE
    ),
}


def _constraint_kind() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.contype FROM pg_constraint c WHERE c.conname = %s "
            "AND c.conrelid = %s::regclass",
            [UNIQUE, TABLE],
        )
        row = cursor.fetchone()
    return None if row is None else str(row[0])


@pytest.fixture
def unique_states(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[ProjectState, ProjectState, AddUniqueOnline]]:
    before = MigrationLoader(connection).project_state()
    op = AddUniqueOnline(model_name="notification", constraint=request.param)
    after = before.clone()
    op.state_forwards("notifications", after)
    try:
        yield before, after, op
    finally:
        if connection.vendor == "postgresql":  # SQLite's goes with its test database
            with connection.cursor() as cursor:
                cursor.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS "{UNIQUE}"')
                cursor.execute(f'DROP INDEX IF EXISTS "{UNIQUE}"')


@pytest.mark.parametrize(
    "unique_states", list(_UNIQUES.values()), ids=list(_UNIQUES), indirect=True
)
@pytest.mark.parametrize("online", [True, False], ids=["online", "plain"])
@pg
def test_a_writer_arriving_while_a_unique_constraint_is_added_goes_through(
    unique_states: tuple[ProjectState, ProjectState, AddUniqueOnline], online: bool
) -> None:
    before, after, op = unique_states
    plain = AddConstraint(model_name=op.model_name, constraint=op.constraint)
    outcome = _second_writer_while(op if online else plain, before, after)
    assert outcome == ("went through" if online else "waited behind the build")
    # The same end state either way: a unique constraint (columns) or a unique index.
    assert index_valid(connection, UNIQUE) is True
    assert _constraint_kind() == ("u" if op.constraint.condition is None else None)
    with connection.schema_editor(atomic=False) as editor:
        op.database_backwards("notifications", editor, after, before)
    assert index_valid(connection, UNIQUE) is None


@pytest.mark.parametrize("unique_states", [_UNIQUES["columns"]], ids=["columns"], indirect=True)
@pytest.mark.parametrize("left", ["invalid index", "index without its constraint"])
@pg
def test_a_unique_constraint_stopped_halfway_is_finished(
    unique_states: tuple[ProjectState, ProjectState, AddUniqueOnline], left: str
) -> None:
    before, after, op = unique_states
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE UNIQUE INDEX "{UNIQUE}" ON {TABLE} (dedupe_key, channel)')
        if left == "invalid index":
            cursor.execute(
                "UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", [UNIQUE]
            )
            assert index_valid(connection, UNIQUE) is False
    with connection.schema_editor(atomic=False) as editor:
        op.database_forwards("notifications", editor, before, after)
    assert index_valid(connection, UNIQUE) is True
    assert _constraint_kind() == "u"


def test_add_unique_online_takes_only_unique_constraints() -> None:
    from django.db.models import CheckConstraint

    with pytest.raises(TypeError):
        AddUniqueOnline("notification", CheckConstraint(condition=Q(attempts__gte=0), name="x"))


@pytest.mark.parametrize("unique_states", [_UNIQUES["columns"]], ids=["columns"], indirect=True)
@pg
def test_sqlmigrate_shows_the_unique_constraint_built_online(
    unique_states: tuple[ProjectState, ProjectState, AddUniqueOnline],
) -> None:
    before, after, op = unique_states
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        op.database_forwards("notifications", editor, before, after)
    assert editor.collected_sql == [
        f'CREATE UNIQUE INDEX CONCURRENTLY "{UNIQUE}" ON "{TABLE}" ("dedupe_key", "channel");',
        f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{UNIQUE}" UNIQUE USING INDEX "{UNIQUE}";',
    ]
    assert index_valid(connection, UNIQUE) is None  # collected, not run


@pytest.mark.parametrize(
    "unique_states",
    [UniqueConstraint(fields=["provider_id", "event"], name=UNIQUE)],
    ids=["columns"],
    indirect=True,
)
@pytest.mark.django_db(transaction=True)  # a concurrent build is never inside a transaction
def test_the_unique_constraint_holds_on_either_database(
    unique_states: tuple[ProjectState, ProjectState, AddUniqueOnline],
) -> None:
    """The end state on SQLite (a plain constraint) and on PostgreSQL (built online): a second
    row with the same values is refused; backwards, it is allowed again."""
    from kattoo.notifications.models import Notification

    before, after, op = unique_states

    def row(key: str) -> None:
        Notification.objects.create(
            channel="sms",
            address="",
            event="x",
            language="ky",
            dedupe_key=key,
            provider_id="p",
            created_at=clock.now(),
        )

    with connection.schema_editor(atomic=False) as editor:
        op.database_forwards("notifications", editor, before, after)
    try:
        row("a")
        with pytest.raises(IntegrityError):
            row("b")
    finally:
        with connection.schema_editor(atomic=False) as editor:
            op.database_backwards("notifications", editor, after, before)
    row("c")
    assert Notification.objects.filter(provider_id="p").count() == 2
