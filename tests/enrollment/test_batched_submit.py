"""Concurrent submits read and written together (ADR 0048): a batch writes, for each request,
exactly what the submit statement writes for it alone, and a batch's read returns each
request's own row.

PostgreSQL only (the fast path's statements). The statements run on a connection of their own
in autocommit, as the slim handler's pool gives them (``fastpath.pooled``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import pytest
from django.db import IntegrityError, connection
from django.db.models import F
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg_pool import ConnectionPool

from kattoo.accounts.models import token_digest
from kattoo.accounts.services import token_issue
from kattoo.api import hot
from kattoo.api.v1.serializers import registration_out
from kattoo.audit.models import AuditEvent
from kattoo.audit.refusals import REFUSED
from kattoo.catalog.models import Teacher
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.combining import Combiner
from kattoo.enrollment import fastpath
from kattoo.enrollment.allocation import SeatRequest
from kattoo.enrollment.models import Application, IdempotencyRecord, SeatPool

from ..api.test_hot import Counting, call, environ_for
from ..conftest import STAGE2, SYSTEM, Family, World, waits_for_a_lock
from .test_stored_facts import store

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="the fast path is PostgreSQL's statement"
    ),
]

IN_STAGE2 = STAGE2 + dt.timedelta(hours=1)


@pytest.fixture
def raw() -> Iterator[psycopg.Connection[Any]]:
    """A connection as the slim handler's pool gives one: autocommit, Django's parameters."""
    params = {**connection.get_connection_params(), "autocommit": True}
    conn = psycopg.Connection.connect(**params)
    connection._configure_connection(conn)  # type: ignore[attr-defined]
    try:
        yield conn
    finally:
        conn.close()


class _Captured(Exception):
    pass


def prepared(
    monkeypatch: pytest.MonkeyPatch, raw: Any, families: Sequence[Family]
) -> list[dict[str, Any]]:
    """The submit statement's parameters of each family's draft, as the fast path makes them
    (decided, the SMS and the answer built), the statement itself not sent."""
    items: list[dict[str, Any]] = []

    def capture(params: dict[str, Any]) -> Any:
        items.append(params)
        raise _Captured

    with monkeypatch.context() as patch:
        patch.setattr(fastpath, "_submitted", capture)
        for n, family in enumerate(families):
            actor = Actor(user=family.parent, channel="api", request_id=f"req-{n}")
            with clock.frozen(IN_STAGE2), fastpath.pooled(raw), pytest.raises(_Captured):
                fastpath.draft_submit_fast(
                    user=family.parent,
                    child_id=family.child.pk,
                    key=str(uuid.uuid4()),
                    fingerprint_payload={"draft": str(family.child.pk)},
                    actor=actor,
                    respond=registration_out,
                    encode=hot._ninja_json,
                )
    return items


# Every row a submit writes or changes, whole — every column, so that a column one statement
# writes and the other does not fails the comparison — but the ids a sequence makes (each
# run draws its own).
_WRITTEN = {
    "applications": "SELECT to_jsonb(t) FROM enrollment_application t ORDER BY id",
    "history": "SELECT to_jsonb(t) - 'id' FROM enrollment_applicationtransition t"
    " ORDER BY application_id",
    "audit": "SELECT to_jsonb(t) - 'id' FROM audit_auditevent t"
    " WHERE action = 'application.register' ORDER BY object_id",
    "outbox": "SELECT to_jsonb(t) FROM notifications_notification t ORDER BY id",
    "idempotency": "SELECT to_jsonb(t) - 'id' FROM enrollment_idempotencyrecord t"
    " ORDER BY user_id, key",
    "pools": "SELECT to_jsonb(t) FROM enrollment_seatpool t ORDER BY id",
    "drafts": "SELECT to_jsonb(t) FROM enrollment_draft t ORDER BY id",
}


def written(raw: Any) -> dict[str, list[Any]]:
    return {name: raw.execute(sql).fetchall() for name, sql in _WRITTEN.items()}


def scene(world: World) -> list[Family]:
    """Stage 2; the school's Kyrgyz pool with two free seats wanted by three families of its
    microdistrict and a teacher's family (§24: above the quota), and a family for the other
    school (§27: any school in stage 2) — in an order that mixes them."""
    families = [world.family() for _ in range(5)]
    a, teacher, b, other, c = families
    Teacher.objects.create(
        school=world.school, pin=teacher.population[0]["pin"], added_at=clock.now()
    )
    for family in (a, teacher, b, c):
        store(world.campaign, family.parent, family.child, world.school, "ky")
    store(world.campaign, other.parent, other.child, world.other_school, "ky")
    SeatPool.objects.filter(school=world.school, language="ky").update(taken=F("capacity") - 2)
    return families


def test_a_batch_writes_what_each_submit_alone_writes(
    world: World, raw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    families = scene(world)
    items = prepared(monkeypatch, raw, families)
    start = written(raw)
    with raw.transaction(force_rollback=True), fastpath.pooled(raw):
        together = fastpath._submit_rows(items)
        batch = written(raw)
    assert written(raw) == start
    alone: list[Any] = []
    with raw.transaction(force_rollback=True), fastpath.pooled(raw):
        for params in items:
            try:
                with raw.transaction():  # a savepoint: a refused submit fails its statement
                    alone.append(fastpath._submitted(params))
            except IntegrityError as exc:
                assert fastpath._no_seat(exc)
                alone.append(None)
        one_by_one = written(raw)
    assert together == alone
    assert batch == one_by_one
    # The pool's two free seats to the first two of its microdistrict's families, the
    # teacher's child above the quota between them, the third family refused; the other
    # school's family registered.
    taken = [None if row is None else row[0] for row in together]
    assert taken[2] == taken[0] + 2 and taken[1] == taken[0] + 1
    assert taken[4] is None and taken[3] == 1
    # jsonb as text: the connection has Django's loaders (ADR 0047's pool configures them)
    rows = [json.loads(text) for (text,) in batch["applications"]]
    registered = {row["child_id"]: row for row in rows}
    assert registered[families[1].child.pk]["above_quota"] is True
    assert families[4].child.pk not in registered
    assert len(batch["history"]) == len(batch["audit"]) == len(batch["idempotency"]) == 4
    assert len(batch["drafts"]) == len(start["drafts"]) - 4


def test_a_constraint_that_fails_sends_each_submit_alone_and_writes_nothing(
    world: World, raw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same child twice in one batch (its two parents at once): the one-active-application
    index fails the batch as a whole; each request then learns its own answer alone."""
    family = world.family()
    store(world.campaign, family.parent, family.child, world.school, "ky")
    items = prepared(monkeypatch, raw, [family, family])
    start = written(raw)
    with fastpath.pooled(raw):
        assert fastpath._submit_rows(items) == [fastpath._ALONE, fastpath._ALONE]
    assert written(raw) == start


@contextlib.contextmanager
def batch_waiting(
    raw: Any, items: list[dict[str, Any]], hold: str, params: list[Any], *, end: str
) -> Iterator[tuple[psycopg.Connection[Any], dict[str, Any]]]:
    """``items`` submitted as one batch in a thread while another transaction holds what
    ``hold`` locks. Yields, once the batch waits for a lock, a connection to look with and the
    batch's outcome (``done["rows"]``, filled when the block has ended); as the block ends,
    the other transaction ends with ``end`` (``COMMIT`` or ``ROLLBACK``) and the batch goes on."""
    conn_params = {**connection.get_connection_params(), "autocommit": True}
    with (
        psycopg.Connection.connect(**conn_params) as holder,
        psycopg.Connection.connect(**conn_params) as probe,
    ):
        holder.execute("BEGIN")
        holder.execute(hold, params)
        done: dict[str, Any] = {}

        def batch() -> None:
            with fastpath.pooled(raw):
                done["rows"] = fastpath._submit_rows(items)

        thread = threading.Thread(target=batch)
        thread.start()
        try:
            assert waits_for_a_lock(
                lambda sql, p: probe.execute(sql, p).fetchone(), pid=raw.info.backend_pid
            )
            yield probe, done
        finally:
            holder.execute(end)
            thread.join(30)


def test_a_batch_locks_its_drafts_before_its_pools(
    world: World, raw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the order ``_SUBMIT`` and the ordinary path lock them (the draft, then the pool), so
    that a batch and a lone submit of the same draft (a double click, another worker) cannot
    wait for each other: while another transaction holds one of the batch's drafts, the batch
    waits for it holding no pool's row."""
    a, b = world.family(), world.family()
    for family in (a, b):
        store(world.campaign, family.parent, family.child, world.school, "ky")
    items = prepared(monkeypatch, raw, [a, b])
    draft = "SELECT id FROM enrollment_draft WHERE id = %s FOR UPDATE"
    with batch_waiting(raw, items, draft, [items[1]["draft_id"]], end="ROLLBACK") as (probe, done):
        probe.execute("BEGIN")
        locked = probe.execute(
            "SELECT id FROM enrollment_seatpool WHERE id = %s FOR UPDATE NOWAIT",
            [items[0]["pool_id"]],
        ).fetchall()  # NOWAIT: fails at once if the waiting batch held it
        probe.execute("ROLLBACK")
    assert locked == [(items[0]["pool_id"],)]
    assert done["rows"] == [(1,), (2,)]


def test_a_batch_waits_for_a_busy_pool_before_its_statement_and_writes_after_it(
    world: World, raw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR 0063: a batch's locks come first, in a statement of their own in the batch's
    transaction. While another transaction holds a pool's row (another registration taking a
    seat), the batch waits in that statement, not in the batch statement. Once the other
    commits, the batch statement starts with the pool as committed: the positions follow the
    other's, and the pool's counts add up."""
    a, b = world.family(), world.family()
    for family in (a, b):
        store(world.campaign, family.parent, family.child, world.school, "ky")
    items = prepared(monkeypatch, raw, [a, b])
    pool = items[0]["pool_id"]
    before = SeatPool.objects.get(pk=pool)
    seat = (
        "UPDATE enrollment_seatpool SET taken = taken + 1, accepted_count = accepted_count + 1"
        " WHERE id = %s"
    )
    with batch_waiting(raw, items, seat, [pool], end="COMMIT") as (probe, done):
        (waiting,) = probe.execute(
            "SELECT query FROM pg_stat_activity WHERE pid = %s", [raw.info.backend_pid]
        ).fetchone()
    assert waiting.startswith(fastpath._BATCH_LOCKS.split("%(")[0])
    first = before.accepted_count + 2
    assert done["rows"] == [(first,), (first + 1,)]
    after = SeatPool.objects.get(pk=pool)
    assert (after.taken, after.accepted_count) == (before.taken + 3, before.accepted_count + 3)


def test_a_batch_of_reads_returns_each_requests_own_row(world: World, raw: Any) -> None:
    a, b = world.family(), world.family()
    for family in (a, b):
        store(world.campaign, family.parent, family.child, world.school, "ky")
    items = [
        (token_digest(token_issue(user=a.parent, actor=SYSTEM)), a.child.pk),
        (token_digest("not a token"), a.child.pk),
        (token_digest(token_issue(user=b.parent, actor=SYSTEM)), b.child.pk),
        (token_digest(token_issue(user=b.parent, actor=SYSTEM)), a.child.pk),  # not b's child
    ]
    with clock.frozen(IN_STAGE2), fastpath.pooled(raw):
        together = fastpath._token_rows(items)
        alone = [fastpath._token_rows([item])[0] for item in items]
    assert together == alone
    assert together[1] is None
    assert together[0] is not None and together[2] is not None
    assert together[3] is not None and together[3][4] is None  # the holder, no draft


def through_the_slim_handler_at_once(
    monkeypatch: pytest.MonkeyPatch,
    families: Sequence[Family],
    combiner: Any,
    connections: int | None = None,
) -> tuple[list[int], list[Any]]:
    """Each family's parent submits at once through the slim handler, on a pool of as many
    connections (or ``connections``), the first of ``combiner``'s batches held until every
    other request waits behind it: the sizes of its batches, and each parent's answer."""
    n = len(families)
    tokens = [token_issue(user=f.parent, actor=SYSTEM) for f in families]
    params = {**connection.get_connection_params(), "autocommit": True}
    pool = ConnectionPool(
        kwargs=params,
        min_size=connections or n,
        max_size=connections or n,
        timeout=20,
        open=True,
        configure=connection._configure_connection,  # type: ignore[attr-defined]
    )
    monkeypatch.setattr(hot, "database_pool", lambda: pool)
    batches: list[int] = []
    original = combiner.run

    def first_held(items: Sequence[Any]) -> Any:
        if not batches:
            deadline = time.monotonic() + 20
            while len(combiner._queue) < n - 1 and time.monotonic() < deadline:
                time.sleep(0.005)
        batches.append(len(items))
        return original(items)

    monkeypatch.setattr(combiner, "run", first_held)
    slim = hot.SlimSubmit(Counting())
    answers: dict[int, Any] = {}

    def parent(i: int) -> None:
        environ = environ_for(families[i].child.pk, token=tokens[i], request_id=f"req-{i}")
        answers[i] = call(slim, environ, at=IN_STAGE2)

    try:
        threads = [threading.Thread(target=parent, args=(i,)) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        pool.close()
    return batches, [answers[i] for i in range(n)]


def test_concurrent_submits_through_the_slim_handler_go_in_one_batch(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six parents at once on a pool of six connections: the first submit statement is held
    until the other five wait behind it, and they go as one batch — each answered 201 with
    its own registration and position, every row written once."""
    n = 6
    families = [world.family() for _ in range(n)]
    for family in families:
        store(world.campaign, family.parent, family.child, world.school, "ky")
    batches, answers = through_the_slim_handler_at_once(monkeypatch, families, fastpath._SUBMITS)
    assert sorted(batches) == [1, n - 1]
    assert [answer.status for answer in answers] == [201] * n
    bodies = [answer.json() for answer in answers]
    assert sorted(b["position"] for b in bodies) == list(range(1, n + 1))
    for family, body in zip(families, bodies, strict=True):
        application = Application.objects.get(child=family.child)
        assert (str(application.pk), application.position) == (body["id"], body["position"])
    pool_row = SeatPool.objects.get(school=world.school, language="ky")
    assert (pool_row.taken, pool_row.accepted_count) == (n, n)


def test_requests_waiting_for_their_batch_hold_no_connection(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR 0050: each statement borrows a connection only while it runs. Six parents at once on
    a pool of ONE connection: while the first submit waits, the other five read (the one
    connection, in turn) and queue behind it holding none, and go as one batch — each answered
    201 here, none handed to Django."""
    n = 6
    families = [world.family() for _ in range(n)]
    for family in families:
        store(world.campaign, family.parent, family.child, world.school, "ky")
    batches, answers = through_the_slim_handler_at_once(
        monkeypatch, families, fastpath._SUBMITS, connections=1
    )
    assert sorted(batches) == [1, n - 1]
    assert [answer.status for answer in answers] == [201] * n
    assert sorted(answer.json()["position"] for answer in answers) == list(range(1, n + 1))
    assert Application.objects.filter(child__in=[f.child for f in families]).count() == n


def refusals(world: World, families: Sequence[Family]) -> list[dict[str, Any]]:
    """The refusal's parameters of each family's draft to the school's Kyrgyz pool, as
    ``_refusal_recorded`` makes them, the statement itself not sent; the first two with a key
    (the second's record stored: a racer with that key registered the very request)."""
    items: list[dict[str, Any]] = []
    captured = Combiner(lambda batch: [items.extend(batch) or True for _ in batch], limit=1)
    pool = SeatPool.objects.get(school=world.school, language="ky")
    for n, family in enumerate(families):
        key = str(uuid.uuid4()) if n < 2 else None
        if n == 1:
            IdempotencyRecord.objects.create(
                user=family.parent, key=key, request_hash="h", status_code=201, response={},
                created_at=clock.now(),
            )  # fmt: skip
        request = SeatRequest(
            campaign_id=world.campaign.pk, pool_id=pool.pk, school_id=world.school.pk,
            language="ky", child_id=family.child.pk, applicant_id=family.parent.person_id,
            user_id=family.parent.pk, route="microdistrict", above_quota=False,
        )  # fmt: skip
        actor = Actor(user=family.parent, channel="api", request_id=f"req-{n}")
        with (
            pytest.MonkeyPatch.context() as patch,
            clock.frozen(IN_STAGE2 + dt.timedelta(microseconds=n)),
        ):
            patch.setattr(fastpath, "_combining", lambda: True)
            patch.setattr(fastpath, "_REFUSALS", captured)
            fastpath._refusal_recorded(user=family.parent, key=key, actor=actor, request=request)
    return items


_REFUSALS_WRITTEN = (
    "SELECT to_jsonb(t) - 'id' FROM audit_auditevent t WHERE action = %s ORDER BY id",
    [REFUSED],
)


def test_a_batch_of_refusals_writes_what_each_alone_writes(world: World, raw: Any) -> None:
    families = [world.family() for _ in range(4)]
    items = refusals(world, families)
    with raw.transaction(force_rollback=True), fastpath.pooled(raw):
        together = fastpath._refused_rows(items)
        batch = raw.execute(*_REFUSALS_WRITTEN).fetchall()
    alone: list[Any] = []
    with raw.transaction(force_rollback=True), fastpath.pooled(raw):
        for params in items:
            alone.extend(fastpath._refused_rows([params]))
        one_by_one = raw.execute(*_REFUSALS_WRITTEN).fetchall()
    assert together == alone == [True, False, True, True]
    assert batch == one_by_one
    rows = [json.loads(text) for (text,) in batch]
    assert [row["request_id"] for row in rows] == ["req-0", "req-2", "req-3"]
    assert [row["object_id"] for row in rows] == [str(families[n].child.pk) for n in (0, 2, 3)]
    assert {row["data"]["code"] for row in rows} == {"no_free_seats"}
    assert raw.execute(*_REFUSALS_WRITTEN).fetchall() == []


def test_concurrent_refusals_through_the_slim_handler_go_in_one_batch(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five parents at once for a full pool: each is told ``no_free_seats``, and the refusals'
    audit rows go as one batch behind the first — one row for each, with its request."""
    n = 5
    families = [world.family() for _ in range(n)]
    for family in families:
        store(world.campaign, family.parent, family.child, world.school, "ky")
    SeatPool.objects.filter(school=world.school, language="ky").update(taken=F("capacity"))
    batches, answers = through_the_slim_handler_at_once(monkeypatch, families, fastpath._REFUSALS)
    assert sorted(batches) == [1, n - 1]
    assert [(a.status, a.json()["code"]) for a in answers] == [(409, "no_free_seats")] * n
    recorded = AuditEvent.objects.filter(action=REFUSED).values_list("request_id", "object_id")
    assert sorted(recorded) == sorted((f"req-{i}", str(f.child.pk)) for i, f in enumerate(families))
    assert not Application.objects.exists()


TEXTS = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
ROWS = st.lists(
    st.tuples(st.integers(-(2**63), 2**63 - 1), TEXTS, st.binary(), TEXTS), min_size=1, max_size=9
)


def test_a_batchs_texts_sent_as_arrays_come_back_as_they_were_sent(raw: Any) -> None:
    """The long texts of a batch travel as binary arrays beside its JSON (``_batch_rows``'s
    ``arrays``): each request's values come back in its row, in its place, whatever they hold
    — quotes, backslashes, braces, Cyrillic, the empty text and the empty bytes."""
    columns = (("n", "bigint"), ("t", "text"), ("b", "bytea"), ("j", "text"))
    arrays = ("t", "b")
    statement = f"SELECT n, t, b, j, ord FROM ({fastpath._batch_rows(columns, arrays=arrays)}) x"
    cursor = raw.cursor()

    @settings(max_examples=40, deadline=None)
    @given(rows=ROWS)
    def round_trip(rows: list[tuple[int, str, bytes, str]]) -> None:
        items = [{"n": n, "t": t, "b": b, "j": j} for n, t, b, j in rows]
        params = fastpath._batch_params(items, columns, arrays)
        assert [len(values) for values in json.loads(params["batch"])] == [2] * len(rows)
        cursor.execute(statement + " ORDER BY ord", params)
        back = [(n, t, bytes(b), j) for n, t, b, j, _ord in cursor.fetchall()]
        assert back == rows

    round_trip()
