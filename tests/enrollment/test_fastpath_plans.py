"""Stable plans at the opening (issue 15): the opening minute's two statements, planned as the
production session plans them (one generic plan per connection) while the tables are empty
and analyzed, still walk the indexes — because the fast path builds that plan with sequential
scans disabled (``fastpath._index_plan``). Without it the same plan scans the empty tables
sequentially, and would keep doing so as they fill."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from kattoo.accounts.models import token_digest
from kattoo.accounts.services import token_issue
from kattoo.enrollment import fastpath
from kattoo.notifications.models import Notification

from ..conftest import SYSTEM
from .test_fastpath import _no_phone, draft, submit

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the plans are PostgreSQL's"),
]

# The tables a registration looks rows up in by key: never read whole.
LOOKED_UP = (
    "accounts_apitoken",
    "accounts_user",
    "enrollment_application",
    "enrollment_idempotencyrecord",
    "enrollment_draft",
    "enrollment_seatpool",
    "people_childlink",
    "people_person",
)


def numbered(sql: str) -> tuple[str, list[str]]:
    """psycopg's ``%(name)s`` (and ``%(name)b``) → ``$n`` for a server-side PREPARE."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"%\((\w+)\)[sb]", number, sql).replace("%%", "%"), names


def generic_plans(cursor: Any) -> str:
    """EXPLAIN of the generic plans of the facts query (alone, and with the token's holder as
    the slim handler reads it) and the submit statement."""
    out = []
    for name, sql in (
        ("hot_facts", fastpath._FACTS),
        ("hot_token_facts", fastpath._TOKEN_FACTS),
        ("hot_submit", fastpath._SUBMIT),
        # The batches' (ADR 0048): the token-and-facts read for each request of a batch, and
        # the submit that writes their rows.
        ("hot_token_facts_batch", fastpath._TOKEN_FACTS_BATCH),
        ("hot_submit_batch", fastpath._SUBMIT_BATCH),
        # A full pool's refusal, alone and in a batch: the key's record looked up.
        ("hot_refused", fastpath._REFUSED),
        ("hot_refused_batch", fastpath._REFUSED_BATCH),
    ):
        text, names = numbered(sql)
        cursor.execute(f"PREPARE {name} AS {text}")
        # Parameters as NULLs: a generic plan does not look at them.
        cursor.execute(f"EXPLAIN EXECUTE {name}({', '.join('NULL' for _ in names)})")
        out += [row[0] for row in cursor.fetchall()]
        cursor.execute(f"DEALLOCATE {name}")
    return "\n".join(out)


def sequential(plan: str) -> set[str]:
    return {t for t in LOOKED_UP if re.search(rf"Seq Scan on {t}\b", plan)}


def test_the_hot_statements_plan_on_the_indexes_over_empty_analyzed_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(LOOKED_UP))  # empty: statistics say 0 rows
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        try:
            trap = generic_plans(cursor)
            cursor.execute("SET enable_seqscan = off")  # what _index_plan does
            built = generic_plans(cursor)
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET plan_cache_mode")
    assert "enrollment_application" in sequential(trap)  # the trap is real
    assert sequential(built) == set(), built
    assert "one_active_application_per_child" in built or "enrollment_application_" in built


def test_the_plan_is_built_with_seqscans_off_only_until_prepared(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Executions up to the one that prepares the statement (``prepare_threshold`` + 1) run
    between SET and RESET of ``enable_seqscan``; later ones as they are."""
    family = world.family()
    connection.ensure_connection()
    raw = connection.connection
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding", True)
    monkeypatch.setattr(raw, "prepare_threshold", 1)
    fastpath._PLANNED.pop(raw, None)
    sent: list[str] = []

    def spy(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        sent.append("SET" if sql.startswith("SET") else "RESET" if sql.startswith("RESET") else "q")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        for _ in range(4):
            fastpath.draft_facts(user=family.parent, child_id=family.child.pk)
    assert sent == ["SET", "q", "RESET", "SET", "q", "RESET", "q", "q"]
    fastpath._PLANNED.pop(raw, None)


def _node(plan: list[str], title: str) -> list[str]:
    """The lines of the plan node whose line contains ``title``, with its children."""
    start = next(i for i, line in enumerate(plan) if title in line)
    depth = len(plan[start]) - len(plan[start].lstrip(" ->"))
    end = next(
        (
            i
            for i in range(start + 1, len(plan))
            if len(plan[i]) - len(plan[i].lstrip(" ->")) <= depth
        ),
        len(plan),
    )
    return plan[start:end]


def test_the_submit_writes_history_and_deletes_the_draft_before_it_fetches_the_pool() -> None:
    """ADR 0032, as the generic plan says it: the history row's INSERT and the draft's DELETE
    are InitPlans of the seat's UPDATE, evaluated by the One-Time Filter above its scan of the
    pool — before the pool's row is fetched, so before heap_update locks it. (The waiting
    submit in tests/enrollment/test_fastpath.py shows the same order while the lock is held.)
    The audit row and the rest read the application, which reads the seat: after it."""
    with connection.cursor() as cursor:
        text, names = numbered(fastpath._SUBMIT)
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE hot_submit AS {text}")
        try:
            cursor.execute(
                f"EXPLAIN (VERBOSE) EXECUTE hot_submit({', '.join('NULL' for _ in names)})"
            )
            plan = [row[0] for row in cursor.fetchall()]
        finally:
            cursor.execute("DEALLOCATE hot_submit")
            cursor.execute("RESET plan_cache_mode")
    seat = _node(plan, "Update on public.enrollment_seatpool")
    text = "\n".join(seat)
    assert "CTE Scan on history" in text and re.search(r"CTE Scan on draft\b", text), text
    gate = next(line for line in seat if "One-Time Filter" in line)
    assert gate.count("InitPlan") == 2 or gate.count("$") == 2, gate  # PG ≥ 16 / 15
    scan = next(
        i
        for i, line in enumerate(seat)
        if re.search(r"Scan .*on public\.enrollment_seatpool", line)
    )
    assert seat.index(gate) < scan  # the gate sits above the scan that fetches the row
    app = "\n".join(_node(plan, "Insert on public.enrollment_application "))
    assert "CTE Scan on seat" in app and "CTE Scan on history" not in app


def _prepared(statement: str) -> int:
    """How many statements of this text this connection has prepared (one per combination of
    parameter types psycopg sent)."""
    text, _names = numbered(statement)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement = %s", [text])
        return int(cursor.fetchone()[0])


def _sequences_from(value: int) -> list[tuple[str, int | None]]:
    """Every sequence gives ``value`` next; returns what they were, for ``_sequences_back``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format('%%I.%%I', schemaname, sequencename), last_value FROM pg_sequences"
            " WHERE max_value >= %s",
            [value],
        )
        saved = cursor.fetchall()
        for name, _last in saved:
            cursor.execute("SELECT setval(%s, %s, false)", [name, value])
    return saved


def _sequences_back(saved: list[tuple[str, int | None]]) -> None:
    with connection.cursor() as cursor:
        for name, last in saved:
            cursor.execute("SELECT setval(%s, %s, %s)", [name, last or 1, last is not None])


def test_a_hot_statement_is_prepared_once_whatever_the_size_of_its_ids(
    client: Client, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psycopg types an int by its value (smallint, integer, bigint) and a missing phone as
    NULL, and prepares one statement per combination of types: the ``_index_plan`` guard
    builds only the first on the indexes, and each is one more plan. The hot statements send
    their ints as bigints and the address as bytes (``core.sql.bigints``): families whose
    ids are integers and bigints, one without a phone, and still one prepared statement each."""
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", 0)  # prepared at once
    fastpath._PLANNED.pop(connection.connection, None)
    saved = _sequences_from(100_000)
    try:
        small = world.family()
        draft(world, small)
        _sequences_from(3_000_000_000)
        large = world.family()
        draft(world, large)
        silent = world.family()
        _no_phone(world, silent)
        assert small.parent.pk < 2**31 <= large.parent.pk  # the trap is set
        for family in (small, large, silent):
            response = submit(client, family, key=str(uuid.uuid4()))
            assert response.status_code == 201, response.content
            token = token_issue(user=family.parent, actor=SYSTEM)
            user, _facts = fastpath.token_draft_facts(
                digest=token_digest(token), child_id=family.child.pk
            )
            assert user is not None and user.pk == family.parent.pk
    finally:
        _sequences_back(saved)
    assert Notification.objects.filter(user=silent.parent).count() == 0
    assert Notification.objects.filter(user=large.parent).count() == 1
    counts = {
        name: _prepared(getattr(fastpath, name)) for name in ("_FACTS", "_TOKEN_FACTS", "_SUBMIT")
    }
    assert counts == {"_FACTS": 1, "_TOKEN_FACTS": 1, "_SUBMIT": 1}
    fastpath._PLANNED.pop(connection.connection, None)
