"""The slim submit handler in front of Django (kattoo/api/hot.py, ADR 0027) answers exactly as
Django does, and hands everything else to Django untouched.

The property test builds one generated scene twice (the scene builder of
``tests/enrollment/test_facts_loaders.py``: families, twins, teachers, microdistricts,
representatives, registrations, campaign stages, request variants) and submits one copy
through the slim WSGI handler and the other through Django alone with the fast path switched
off (the ordinary path): same status, problem, route, body (ids and names aside), headers and
rows. PostgreSQL only (the fast path's statements); the hand-over cases run on SQLite too."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import importlib
import json
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, connections
from django.db.models import F
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from psycopg_pool import ConnectionPool

from kattoo.accounts.models import Role, User
from kattoo.accounts.services import token_issue
from kattoo.api import hot
from kattoo.audit.models import AuditEvent
from kattoo.audit.refusals import REFUSED
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import Parity
from kattoo.core import clock
from kattoo.core.body_limit import BodyLimit
from kattoo.enrollment import fastpath
from kattoo.enrollment.idempotency import request_fingerprint
from kattoo.enrollment.models import (
    Application,
    ApplicationTransition,
    Draft,
    IdempotencyRecord,
    SeatPool,
)
from kattoo.notifications.models import Notification
from kattoo.people.models import Person
from kattoo.web.admission import AdmissionControl

from ..conftest import STAGE1, STAGE2, SYSTEM, Family, World
from ..enrollment.test_facts_loaders import SCENES, Builder, Scene, _house_example, build
from ..enrollment.test_stored_facts import store
from ..factories import PersonFactory, UserFactory

IN_STAGE1 = STAGE1 + dt.timedelta(seconds=3)
MOMENTS = {
    "stage1": IN_STAGE1,
    "stage2": STAGE2 + dt.timedelta(hours=1),
    "closed": clock.bishkek(2026, 12, 1, 10, 0),
    "before": STAGE1 - dt.timedelta(minutes=1),
}


# -- calling a WSGI application ------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Counting:
    """The Django application behind the slim handler, counting what reached it."""

    def __init__(self) -> None:
        self.django = WSGIHandler()
        self.calls = 0
        self.bodies: list[bytes] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        stream = environ["wsgi.input"]
        body = stream.read()  # every byte the client sent reached Django
        self.bodies.append(body)
        environ["wsgi.input"] = type(stream)(body)  # and Django reads it after us
        return self.django(environ, start_response)


def call(app: Any, environ: dict[str, Any], at: dt.datetime = IN_STAGE1) -> Answer:
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started["status"], started["headers"] = status, headers

    with clock.frozen(at):
        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    return Answer(int(started["status"].split()[0]), dict(started["headers"]), body)


def environ_for(
    child_id: Any,
    *,
    token: str | None,
    key: str | None = None,
    body: bytes = b"",
    content_type: str = "application/json",
    language: str = "en",
    request_id: str = "req-slim-1",
    extra: dict[str, str] | None = None,
    path: str | None = None,
) -> dict[str, Any]:
    headers = {"Host": "testserver", "X-Request-Id": request_id}
    if language:
        headers["Accept-Language"] = language
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if key is not None:
        headers["Idempotency-Key"] = key
    headers.update(extra or {})
    request = RequestFactory().generic(
        "POST",
        path or f"/api/v1/drafts/{child_id}/submit",
        data=body,
        content_type=content_type,
        headers=headers,
    )
    return dict(request.environ)


@pytest.fixture(autouse=True, params=["django's connection", "the pool's own"])
def slim_connection(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every test twice: the slim handler on Django's connection (no pool: the test settings'),
    and on connections of a pool as production's (ADR 0047) — made as Django makes its pool,
    with its connection parameters and its ``configure``."""
    if request.param == "django's connection":
        yield None
        return
    if connection.vendor != "postgresql":
        pytest.skip("a pool of PostgreSQL's connections")
    params = {**connection.get_connection_params(), "autocommit": True}
    pool = ConnectionPool(
        kwargs=params,
        min_size=1,
        max_size=2,
        open=True,
        configure=connection._configure_connection,  # type: ignore[attr-defined]
    )
    monkeypatch.setattr(hot, "database_pool", lambda: pool)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def fast_path_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Django's endpoint without its fast path: the ordinary path answers everything."""
    monkeypatch.setattr(
        importlib.import_module("kattoo.api.v1.drafts"), "draft_submit_fast", lambda **kw: None
    )


def draft(world: World, family: Family, school: Any = None, language: str = "ky") -> None:
    """The draft as ``draft_save`` keeps it: its facts stored, vouched for on PostgreSQL (the
    slim handler reads it in one statement, ADR 0046)."""
    store(world.campaign, family.parent, family.child, school or world.school, language)


# -- what one submit changed, ids aside ----------------------------------------------------

# Values that name rows or people of one copy of the scene: equal in shape, not in value.
_IDS = ("id", "child", "school", "school_name", "child_name", "number")


def normalized(answer: Answer) -> dict[str, Any]:
    if "json" not in answer.headers.get("Content-Type", ""):
        return {"status": answer.status, "body": answer.body, "headers": answer.headers}
    body = answer.json()
    if answer.status == 201:
        assert all(key in body for key in _IDS), body
        body = {k: ("<id>" if k in _IDS else v) for k, v in body.items()}
    headers = {k: v for k, v in answer.headers.items() if k != "Content-Length"}
    return {"status": answer.status, "body": body, "headers": headers}


def rows(user: User, child: Person, pool: SeatPool | None) -> dict[str, Any]:
    applications = list(Application.objects.filter(child=child).order_by("created_at", "id"))
    ids = [str(a.pk) for a in applications]
    if pool is not None:
        pool.refresh_from_db()
    events = AuditEvent.objects.filter(object_id__in=[*ids, str(child.pk)]).order_by("at", "id")
    return {
        "applications": [
            (a.status, a.route, a.above_quota, a.position, a.language, a.user_id == user.pk)
            for a in applications
        ],
        "pool": None if pool is None else (pool.taken, pool.held, pool.accepted_count),
        "history": [
            (t.from_status, t.to_status)
            for t in ApplicationTransition.objects.filter(application_id__in=ids).order_by("at")
        ],
        "audit": [
            (
                e.action,
                e.channel,
                e.request_id,
                e.actor_id == user.pk,
                sorted(e.data),
                *(e.data.get(k) for k in ("code", "attempt", "route", "language", "above_quota")),
            )
            for e in events
        ],
        "outbox": sorted(
            Notification.objects.filter(user=user).values_list("event", "channel", "status")
        ),
        "idempotency": [
            (
                status,
                digest == request_fingerprint({"draft": str(child.pk)}),
                {k: ("<id>" if k in _IDS else v) for k, v in response.items()},
            )
            for status, digest, response in IdempotencyRecord.objects.filter(user=user)
            .order_by("created_at")
            .values_list("status_code", "request_hash", "response")
        ],
        "draft_left": Draft.objects.filter(child=child).exists(),
    }


# -- the property ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    moment: str
    key: bool
    repeat: bool  # the same request again (a client retrying)
    language: str
    body: bytes
    content_type: str
    full: bool = False  # the chosen pool has no free seat
    stored: bool = True  # the draft's facts stored (and vouched for, ADR 0046) when saved


SUBMISSIONS = st.builds(
    Submission,
    moment=st.sampled_from(["stage1", "stage1", "stage2", "stage2", "stage2", "closed", "before"]),
    key=st.booleans(),
    repeat=st.booleans(),
    language=st.sampled_from(["ky", "ru", "uz", "en", "", "ru-RU,ru;q=0.9", "fr"]),
    body=st.sampled_from([b"", b"", b"{}", b'{"draft": 1}', b"not json"]),
    content_type=st.sampled_from(
        ["application/json", "application/json", "application/problem+json; charset=utf-8",
         "text/plain"]
    ),
    full=st.sampled_from([False, False, True]),
    stored=st.sampled_from([True, True, False]),
)  # fmt: skip


def _plain(scene: Scene) -> Scene:
    """The opening minute's usual case: papers in order, a parent, a participating school, a
    language offered, nothing registered yet (the rest of the scene as drawn)."""
    applicant = scene.applicant if scene.applicant != "representative" else "mother"
    return dataclasses.replace(
        scene,
        certificate=True,
        passport=True,
        participates=True,
        language="ky",
        registered="",
        applicant=applicant,
    )


# Half the scenes the usual case (the slim handler's), half anything at all.
SUBMITTED_SCENES = st.one_of(SCENES.map(_plain), SCENES)
PLAIN = _plain(_house_example("12", (10, 12, Parity.EVEN)))


def _submit_scene(
    campaign: Campaign, scene: Scene, submission: Submission, app: Any, key: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    builder = Builder(campaign)
    user, child, school, language = build(scene, builder)
    # The builder counts its registrations as taken seats; positions follow the accepted ones.
    SeatPool.objects.filter(pk__in=[p.pk for p in builder.pools.values()]).update(
        accepted_count=F("taken")
    )
    Draft.objects.create(
        user=user,
        campaign=campaign,
        child=child,
        school=school,
        language=language,
        route="microdistrict",
        checked_at=clock.now(),
    )
    if submission.stored:  # as draft_save keeps it; else as a draft saved before ADR 0029
        store(campaign, user, child, school, language)
    if submission.full:
        SeatPool.objects.filter(campaign=campaign, school=school, language=language).update(
            taken=F("capacity"), accepted_count=F("capacity")
        )
    token = token_issue(user=user, actor=SYSTEM)
    answers = []
    for _ in range(2 if submission.repeat else 1):
        environ = environ_for(
            child.pk,
            token=token,
            key=key,
            body=submission.body,
            content_type=submission.content_type,
            language=submission.language,
        )
        answers.append(normalized(call(app, environ, MOMENTS[submission.moment])))
    return answers, rows(user, child, builder.pools.get((school.pk, language)))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(scene=SUBMITTED_SCENES, submission=SUBMISSIONS)
@example(scene=PLAIN, submission=Submission("stage1", True, True, "ru", b"", "application/json"))
@example(scene=PLAIN, submission=Submission("stage2", False, False, "", b"{}", "application/json"))
@example(
    scene=PLAIN, submission=Submission("stage1", True, True, "uz", b"", "application/json", True)
)
def test_slim_and_django_answer_and_write_alike(
    campaign: Campaign, fast_path_off: None, scene: Scene, submission: Submission
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the fast path is PostgreSQL's statement")
    key = str(uuid.uuid4()) if submission.key else None
    behind = Counting()
    slim = hot.SlimSubmit(behind)
    through_slim = _submit_scene(campaign, scene, submission, slim, key)
    through_django = _submit_scene(campaign, scene, submission, WSGIHandler(), key)
    assert through_slim[0] == through_django[0]  # the answers
    for name, written in through_slim[1].items():  # the rows
        assert written == through_django[1][name], name
    first = through_slim[0][0]
    event(f"{first['status']} {first['body'].get('code', '')}")
    calls = 2 if submission.repeat else 1  # a repeated key is always replayed by Django
    event("answered by the slim handler" if behind.calls < calls else "handed to Django")


# -- the plain case, and everything handed over ------------------------------------------------

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the fast path is PostgreSQL's statement"
)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
def test_the_plain_submit_never_reaches_django(
    world: World, slim_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = world.family()
    draft(world, family)
    token = token_issue(user=family.parent, actor=SYSTEM)
    behind = Counting()
    checkouts: list[str] = []
    with CaptureQueriesContext(connection) as through_django, monkeypatch.context() as m:
        if slim_connection is not None:  # Django's connection not even checked out
            m.setattr(
                connections["default"], "ensure_connection", lambda: checkouts.append("django")
            )
        answer = call(hot.SlimSubmit(behind), environ_for(family.child.pk, token=token))
    assert answer.status == 201, answer.body
    assert behind.calls == 0
    if slim_connection is not None:
        # With a pool (production's settings), its statements ran on a connection of the
        # pool, none through Django's connection, and the connection went back to the pool.
        assert through_django.captured_queries == []
        assert checkouts == []
        stats = slim_connection.get_stats()
        assert stats["requests_num"] >= 1 and stats["pool_available"] == stats["pool_size"]
    else:
        assert len(through_django.captured_queries) >= 2  # the read and the statement
    body = answer.json()
    assert (body["route"], body["position"], body["status"]) == ("microdistrict", 1, "registered")
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert answer.headers["Content-Language"] == "en"
    assert answer.headers["X-Request-Id"] == "req-slim-1"
    assert int(answer.headers["Content-Length"]) == len(answer.body)
    for header in ("X-Frame-Options", "Content-Security-Policy", "X-Content-Type-Options"):
        assert header in answer.headers
    assert not Draft.objects.filter(child=family.child).exists()
    audit = AuditEvent.objects.get(action="application.register", object_id=body["id"])
    assert (audit.request_id, audit.channel, audit.actor_id) == (
        "req-slim-1",
        "api",
        family.parent.pk,
    )


@contextlib.contextmanager
def a_pool_of_one(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectionPool]:
    """The slim handler's pool as Django makes it, of one connection and a 0.2-s timeout."""
    params = {**connection.get_connection_params(), "autocommit": True}
    configure = connection._configure_connection  # type: ignore[attr-defined]
    with ConnectionPool(
        kwargs=params, min_size=1, max_size=1, timeout=0.2, open=True, configure=configure
    ) as pool:
        monkeypatch.setattr(hot, "database_pool", lambda: pool)
        yield pool


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
def test_a_pool_exhausted_between_the_read_and_the_submit_answers_busy(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR 0050: the read gives its connection back, and the submit statement borrows one
    again. When pages and ordinary requests hold the whole pool in between, the submit waits
    up to the pool's timeout. Then it answers 503 with Retry-After, as a down database is
    answered, and nothing is written: the draft stays, and no seat or row is taken."""
    with a_pool_of_one(monkeypatch) as pool:
        family = world.family()
        draft(world, family)
        token = token_issue(user=family.parent, actor=SYSTEM)
        taken: list[Any] = []
        decide = fastpath.decide

        def decide_while_the_pool_is_taken(*args: Any, **kwargs: Any) -> Any:
            # Between the read and the submit: the pool's one connection is free again (the
            # read gave it back), and an ordinary request takes it now.
            taken.append(pool.getconn(timeout=1))
            return decide(*args, **kwargs)

        monkeypatch.setattr(fastpath, "decide", decide_while_the_pool_is_taken)
        behind = Counting()
        try:
            answer = call(hot.SlimSubmit(behind), environ_for(family.child.pk, token=token))
        finally:
            for conn in taken:
                pool.putconn(conn)
        assert len(taken) == 1
        assert behind.calls == 0
        assert answer.status == 503, answer.body
        assert answer.headers["Retry-After"]
        assert answer.json()["code"] == "service_unavailable"
        assert Draft.objects.filter(child=family.child).exists()
        assert not Application.objects.filter(child=family.child).exists()
        assert pool.get_stats()["pool_available"] == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
def test_an_exhausted_pool_hands_the_submit_to_django(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No connection free within the pool's timeout: Django answers, as it answers a request
    whose own checkout times out (in production from the same pool: 503 with Retry-After)."""
    with a_pool_of_one(monkeypatch) as pool:
        family = world.family()
        draft(world, family)
        token = token_issue(user=family.parent, actor=SYSTEM)
        behind = Counting()
        with pool.connection():  # the pool's every connection taken
            answer = call(hot.SlimSubmit(behind), environ_for(family.child.pk, token=token))
        assert behind.calls == 1
        assert answer.status == 201  # Django's own connection is not pooled in the tests
        assert pool.get_stats()["pool_available"] == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
def test_headers_and_body_bytes_equal_django(world: World, fast_path_off: None) -> None:
    """Two families in one situation, one through each path: the same bytes but for ids."""
    answers = []
    for app in (hot.SlimSubmit(Counting()), WSGIHandler()):
        family = world.family()
        draft(world, family)
        token = token_issue(user=family.parent, actor=SYSTEM)
        answer = call(app, environ_for(family.child.pk, token=token, language="ru"))
        assert answer.status == 201, answer.body
        answers.append(answer)
    slim, django = answers
    assert (slim.json()["position"], django.json()["position"]) == (1, 2)  # one pool
    django.body = django.body.replace(b'"position": 2', b'"position": 1')
    assert set(slim.headers) == set(django.headers)
    assert normalized(slim) == normalized(django)
    # Ninja's encoder and ensure_ascii=False: Cyrillic as UTF-8, times with their offset.
    assert "Асанов".encode() in slim.body and b"+06:00" in slim.body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
def test_a_full_pool_is_refused_here_as_django_refuses_it(
    world: World, fast_path_off: None, caplog: pytest.LogCaptureFixture
) -> None:
    answers, audits = [], []
    for app in (hot.SlimSubmit(Counting()), WSGIHandler()):
        family = world.family()
        draft(world, family)
        pool = SeatPool.objects.get(school=world.school, language="ky")
        SeatPool.objects.filter(pk=pool.pk).update(taken=pool.capacity)
        token = token_issue(user=family.parent, actor=SYSTEM)
        key = str(uuid.uuid4())
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="django.request"):
            answer = call(app, environ_for(family.child.pk, token=token, key=key, language="ky"))
        # The refusal is its audit row (§7), not a "Conflict" log line on either path
        # (api.problems.quiet).
        assert not [r for r in caplog.records if r.name == "django.request"], caplog.text
        answers.append(normalized(answer))
        refusal = AuditEvent.objects.get(action=REFUSED, object_id=str(family.child.pk))
        audits.append((refusal.data["code"], refusal.data["attempt"], refusal.request_id))
        assert not IdempotencyRecord.objects.filter(user=family.parent).exists()
        SeatPool.objects.filter(pk=pool.pk).update(taken=0)
    assert answers[0] == answers[1]
    assert answers[0]["status"] == 409 and answers[0]["body"]["code"] == "no_free_seats"
    assert audits[0] == audits[1] == ("no_free_seats", "draft_submit", "req-slim-1")


def submitted_with_a_key(world: World) -> tuple[Family, str, Answer]:
    """A new family's draft submitted through the slim handler with an Idempotency-Key."""
    family = world.family()
    draft(world, family)
    token = token_issue(user=family.parent, actor=SYSTEM)
    key = str(uuid.uuid4())
    answer = call(hot.SlimSubmit(Counting()), environ_for(family.child.pk, token=token, key=key))
    return family, key, answer


def stored_text(record: IdempotencyRecord) -> str:
    """The stored answer as the database keeps it: its text (ADR 0064)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT response FROM enrollment_idempotencyrecord WHERE id = %s", [record.pk]
        )
        return str(cursor.fetchone()[0])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
def test_a_registration_is_encoded_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15: the body is encoded once, stored with its position by the statement and
    answered with the position written in; the stored record is what was answered."""
    from kattoo.enrollment import fastpath

    encoded: list[dict[str, Any]] = []

    def counting(encoder: Any) -> Any:
        def counted(body: dict[str, Any]) -> str:
            encoded.append(dict(body))
            return str(encoder(body))

        return counted

    # Both encoders a registration's body may meet: the answer's and the stored record's.
    monkeypatch.setattr(hot, "_ninja_json", counting(hot._ninja_json))
    monkeypatch.setattr(fastpath, "response_json", counting(fastpath.response_json))
    family, key, answer = submitted_with_a_key(world)
    assert answer.status == 201
    bodies = [b for b in encoded if "child_name" in b]  # not the position's own small member
    assert len(bodies) == 1
    record = IdempotencyRecord.objects.get(user=family.parent, key=key)
    assert record.response == answer.json()
    assert answer.json()["position"] == 1
    # ADR 0064: the record keeps the very text answered, the position written in by the
    # statement where the answer has it.
    assert stored_text(record) == answer.body.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
def test_an_answer_the_statement_cannot_write_into_is_stored_as_django_encodes_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR 0064: the statement writes the position over the mark's member as ``"position":
    "…"``. An encoder that writes it some other way still answers in its own form; the record
    then holds the answer as ``response_json`` writes it, the position written in."""

    def spaced(body: dict[str, Any]) -> str:
        return json.dumps(body, cls=DjangoJSONEncoder, separators=(" , ", " :  "))

    monkeypatch.setattr(hot, "_ninja_json", spaced)
    family, key, answer = submitted_with_a_key(world)
    assert answer.status == 201
    assert b'"position" :  1' in answer.body
    record = IdempotencyRecord.objects.get(user=family.parent, key=key)
    assert record.response == answer.json()
    assert '"position": 1,' in stored_text(record)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
def test_a_repeated_key_is_replayed_by_django(world: World) -> None:
    family = world.family()
    draft(world, family)
    token = token_issue(user=family.parent, actor=SYSTEM)
    key = str(uuid.uuid4())
    behind = Counting()
    slim = hot.SlimSubmit(behind)
    first = call(slim, environ_for(family.child.pk, token=token, key=key))
    assert first.status == 201 and behind.calls == 0
    again = call(slim, environ_for(family.child.pk, token=token, key=key))
    assert behind.calls == 1  # the fast path saw the key: the ordinary path replays
    assert again.status == 201 and again.json() == first.json()
    assert Application.objects.filter(child=family.child).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
def test_a_key_reused_for_another_child_is_djangos_refusal(world: World) -> None:
    """The short read does not look the key up (ADR 0046): the statement's unique index
    refuses it, nothing of that statement stays, and Django answers the reuse."""
    family = world.family(births=[dt.date(2019, 9, 1), dt.date(2019, 2, 1)])
    first_child, second_child = family.children
    draft(world, family)
    store(world.campaign, family.parent, second_child, world.school, "ky")
    token = token_issue(user=family.parent, actor=SYSTEM)
    key = str(uuid.uuid4())
    behind = Counting()
    slim = hot.SlimSubmit(behind)
    assert call(slim, environ_for(first_child.pk, token=token, key=key)).status == 201
    pool = SeatPool.objects.get(campaign=world.campaign, school=world.school, language="ky")
    reused = call(slim, environ_for(second_child.pk, token=token, key=key))
    assert behind.calls == 1
    assert reused.status == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert not Application.objects.filter(child=second_child).exists()
    assert Draft.objects.filter(child=second_child).exists()
    after = SeatPool.objects.get(pk=pool.pk)
    assert (after.taken, after.accepted_count) == (pool.taken, pool.accepted_count)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
def test_what_the_fast_path_hands_over_skips_it_in_django(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal of a rule: the fast path answered ``None`` here, so Django goes straight to
    the ordinary path (one facts query, not two) and explains it."""
    calls = []
    original = hot.draft_submit_fast

    def counted(**kwargs: Any) -> Any:
        calls.append(kwargs["child_id"])
        return original(**kwargs)

    monkeypatch.setattr(hot, "draft_submit_fast", counted)
    monkeypatch.setattr(
        importlib.import_module("kattoo.api.v1.drafts"), "draft_submit_fast", counted
    )
    family = world.family()
    draft(world, family, world.other_school)  # not the family's microdistrict in stage 1
    token = token_issue(user=family.parent, actor=SYSTEM)
    behind = Counting()
    answer = call(hot.SlimSubmit(behind), environ_for(family.child.pk, token=token))
    assert behind.calls == 1 and calls == [family.child.pk]
    assert answer.status == 409 and answer.json()["code"] == "not_in_microdistrict"


def _handed_over(environ: dict[str, Any], at: dt.datetime = IN_STAGE1) -> tuple[Answer, Answer]:
    """The slim handler's answer (which must be Django's) and Django's own, for one request."""
    behind = Counting()
    sent = environ["wsgi.input"].read()
    first, second = dict(environ), dict(environ)
    first["wsgi.input"] = type(environ["wsgi.input"])(sent)
    second["wsgi.input"] = type(environ["wsgi.input"])(sent)
    slim = call(hot.SlimSubmit(behind), first, at)
    assert behind.calls == 1, "the slim handler answered a request that is Django's"
    assert behind.bodies == [sent]  # untouched: Django reads every byte the client sent
    django = call(WSGIHandler(), second, at)
    return slim, django


def _same(slim: Answer, django: Answer) -> None:
    assert slim.status == django.status
    headers = [
        {k: v for k, v in a.headers.items() if k not in ("X-Request-Id",)} for a in (slim, django)
    ]
    assert headers[0] == headers[1]
    if slim.headers.get("Content-Type", "").startswith("application/"):
        assert slim.json() == django.json()


@pytest.mark.django_db(transaction=True)
def test_no_token_and_a_bad_token_are_djangos_401(world: World) -> None:
    family = world.family()
    draft(world, family)
    for token in (None, "not-a-token", "Bearer", ""):
        slim, django = _handed_over(environ_for(family.child.pk, token=token))
        assert slim.status == 401
        _same(slim, django)
        assert slim.json()["code"] == "unauthorized"
        assert slim.headers["WWW-Authenticate"] == "Bearer"
    assert Draft.objects.filter(child=family.child).exists()


@pytest.mark.django_db(transaction=True)
def test_revoked_expired_and_inactive_are_djangos_401(world: World) -> None:
    from kattoo.accounts.models import ApiToken

    family = world.family()
    draft(world, family)
    for spoil in ("revoked", "expired", "inactive"):
        token = token_issue(user=family.parent, actor=SYSTEM)
        if spoil == "revoked":
            ApiToken.objects.filter(user=family.parent).update(revoked_at=clock.now())
        elif spoil == "expired":
            ApiToken.objects.filter(user=family.parent).update(expires_at=IN_STAGE1)
        else:
            User.objects.filter(pk=family.parent.pk).update(is_active=False)
        slim, django = _handed_over(environ_for(family.child.pk, token=token))
        assert slim.status == 401, spoil
        _same(slim, django)
        User.objects.filter(pk=family.parent.pk).update(is_active=True)
        ApiToken.objects.filter(user=family.parent).delete()
    assert not Application.objects.filter(child=family.child).exists()


@pytest.mark.django_db(transaction=True)
def test_staff_token_is_djangos_403(world: World) -> None:
    clerk = UserFactory(role=Role.MINISTRY_ANALYST, person=PersonFactory())
    token = token_issue(user=clerk, actor=SYSTEM)
    slim, django = _handed_over(environ_for(1, token=token))
    assert slim.status == 403
    _same(slim, django)


@pytest.mark.django_db(transaction=True)
def test_wrong_media_type_large_body_and_bad_key_are_djangos(world: World) -> None:
    family = world.family()
    draft(world, family)
    token = token_issue(user=family.parent, actor=SYSTEM)
    cases = {
        415: environ_for(family.child.pk, token=token, body=b"a=1", content_type="text/plain"),
        413: environ_for(family.child.pk, token=token, body=b"{}"),
        422: environ_for(family.child.pk, token=token, key="not-a-uuid"),
    }
    cases[413]["CONTENT_LENGTH"] = "999999999"  # declared past the limit: refused unread
    for status, environ in cases.items():
        slim, django = _handed_over(environ)
        assert slim.status == status, slim.body
        _same(slim, django)
    assert Draft.objects.filter(child=family.child).exists()


@pytest.mark.django_db(transaction=True)
def test_other_shapes_of_the_request_are_djangos(world: World, fast_path_off: None) -> None:
    """Requests Django takes to the view all the same, or answers otherwise: two families in
    one situation, one through the slim handler (which hands over), one through Django."""
    shapes: list[dict[str, Any]] = [
        {"path": "/api/v1/drafts/{child}/submit?x=1"},
        {"path": "/api/v1/drafts/{child}/submit/"},
        {"path": "/api/v1/drafts/0x1/submit"},
        {"extra": {"Authorization": "bearer {token}"}},
        {"extra": {"Authorization": "Bearer  {token}"}},
        {"extra": {"Host": "evil.example"}},
        {"body": b"--x--", "content_type": "multipart/form-data; boundary=x"},
    ]
    for shape in shapes:
        answers = []
        for slim in (True, False):
            family = world.family()
            draft(world, family, language="ru")
            token = token_issue(user=family.parent, actor=SYSTEM)
            fields = {
                **shape,
                "path": shape.get("path", "").format(child=family.child.pk) or None,
                "extra": {k: v.format(token=token) for k, v in shape.get("extra", {}).items()},
            }
            environ = environ_for(family.child.pk, token=token, **fields)
            behind = Counting()
            answer = call(hot.SlimSubmit(behind) if slim else WSGIHandler(), environ)
            assert behind.calls == (1 if slim else 0), shape
            answers.append(answer)
        # The second family's seat is the next one: positions aside.
        slim_answer, django = (normalized(a) for a in answers)
        for seen in (slim_answer, django):
            if seen["status"] == 201:
                seen["body"]["position"] = "<n>"
        assert slim_answer == django, shape
    get = environ_for(1, token="t")
    get["REQUEST_METHOD"] = "GET"
    behind = Counting()
    call(hot.SlimSubmit(behind), get)
    assert behind.calls == 1


@pytest.mark.django_db(transaction=True)
def test_an_insecure_request_is_djangos_redirect(world: World, settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    family = world.family()
    draft(world, family)
    token = token_issue(user=family.parent, actor=SYSTEM)
    slim, django = _handed_over(environ_for(family.child.pk, token=token))
    assert slim.status == 301
    _same(slim, django)
    assert Draft.objects.filter(child=family.child).exists()


@pytest.mark.django_db(transaction=True)
def test_sqlite_is_always_djangos(world: World) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("the hand-over by database vendor is SQLite's")
    family = world.family()
    draft(world, family)
    token = token_issue(user=family.parent, actor=SYSTEM)
    behind = Counting()
    answer = call(hot.SlimSubmit(behind), environ_for(family.child.pk, token=token))
    assert behind.calls == 1 and answer.status == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
def test_request_id_echoed_when_sane_and_made_up_otherwise(world: World) -> None:
    ids = []
    for sent in ("abc.DEF-123_x", "bad id with spaces", ""):
        family = world.family()
        draft(world, family)
        token = token_issue(user=family.parent, actor=SYSTEM)
        answer = call(
            hot.SlimSubmit(Counting()), environ_for(family.child.pk, token=token, request_id=sent)
        )
        assert answer.status == 201
        ids.append(answer.headers["X-Request-Id"])
        audit = AuditEvent.objects.get(action="application.register", object_id=answer.json()["id"])
        assert audit.request_id == ids[-1]
    assert ids[0] == "abc.DEF-123_x"
    # Made up as nginx makes its own: time first (ADR 0041).
    assert all(re.fullmatch(r"[0-9]{10}\.[0-9]{3}-[0-9a-f]{32}", i) for i in ids[1:])


@pytest.mark.django_db(transaction=True)
def test_admission_control_still_answers_busy_in_front(world: World) -> None:
    """Inside admission control: a full process answers 503 + Retry-After, nothing runs."""
    behind = Counting()
    app = AdmissionControl(BodyLimit(hot.SlimSubmit(behind)), limit=1, retry_after=2)
    assert app.slots is not None
    app.slots.acquire()
    try:
        answer = call(app, environ_for(1, token="whatever"))
    finally:
        app.slots.release()
    assert answer.status == 503 and "Retry-After" in answer.headers
    assert behind.calls == 0


def test_the_wsgi_application_mounts_the_slim_handler() -> None:
    from config import wsgi

    outer = wsgi.application
    assert isinstance(outer, AdmissionControl)
    assert isinstance(outer.app, BodyLimit)
    assert isinstance(outer.app.app, hot.SlimSubmit)


@pytest.mark.django_db(transaction=True)
def test_switched_off_everything_is_djangos(world: World, settings: Any) -> None:
    settings.KATTOO_SLIM_SUBMIT = False
    family = world.family()
    draft(world, family)
    token = token_issue(user=family.parent, actor=SYSTEM)
    behind = Counting()
    answer = call(hot.SlimSubmit(behind), environ_for(family.child.pk, token=token))
    assert behind.calls == 1 and answer.status == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
def test_behind_https_the_headers_are_productions(world: World, settings: Any) -> None:
    """Production's security settings: HTTPS told by the proxy's header, HSTS, redirects of
    plain HTTP. The slim answer carries exactly Django's headers (HSTS included)."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_SSL_REDIRECT = True
    answers = []
    for slim in (True, False):
        family = world.family()
        draft(world, family)
        token = token_issue(user=family.parent, actor=SYSTEM)
        behind = Counting()
        environ = environ_for(family.child.pk, token=token, extra={"X-Forwarded-Proto": "https"})
        answer = call(hot.SlimSubmit(behind) if slim else WSGIHandler(), environ)
        assert answer.status == 201, answer.body
        assert behind.calls == 0
        answers.append(answer)
    assert answers[0].headers["Strict-Transport-Security"] == "max-age=3600; includeSubDomains"
    headers = [{k: v for k, v in a.headers.items() if k != "Content-Length"} for a in answers]
    assert headers[0] == headers[1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
def test_the_language_cookie_wins_as_in_django(world: World, fast_path_off: None) -> None:
    """The locale middleware's order: the language cookie, then Accept-Language."""
    answers = []
    for slim in (True, False):
        family = world.family()
        draft(world, family)
        pool = SeatPool.objects.get(school=world.school, language="ky")
        SeatPool.objects.filter(pk=pool.pk).update(taken=pool.capacity)
        token = token_issue(user=family.parent, actor=SYSTEM)
        environ = environ_for(
            family.child.pk, token=token, language="ru", extra={"Cookie": "django_language=uz"}
        )
        answers.append(
            normalized(call(hot.SlimSubmit(Counting()) if slim else WSGIHandler(), environ))
        )
        SeatPool.objects.filter(pk=pool.pk).update(taken=0)
    assert answers[0] == answers[1]
    assert answers[0]["status"] == 409 and answers[0]["headers"]["Content-Language"] == "uz"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
@pytest.mark.parametrize(
    ("accept", "cookie", "expected"),
    [("ru", None, "ru"), ("en-GB,en;q=0.8", None, "en"), ("", None, "ky"), ("ru", "uz", "uz")],
)
def test_the_school_is_named_in_the_parents_language_without_activating_it(
    world: World, monkeypatch: pytest.MonkeyPatch, accept: str, cookie: str | None, expected: str
) -> None:
    """The slim handler activates no language for a registration (docs/performance.md): the
    answer names the school in the language Django's would, whatever the thread had active,
    and a registration after the first makes no activation at all."""
    from django.utils import translation

    from kattoo.catalog.selectors import localized_name

    activations: list[str] = []
    real = translation._trans.activate  # what translation.activate and override() call

    def counted(language: str) -> None:
        activations.append(language)
        real(language)

    monkeypatch.setattr(translation._trans, "activate", counted)
    extra = {"Cookie": f"django_language={cookie}"} if cookie else {}
    answers = []
    for app in (hot.SlimSubmit(Counting()), hot.SlimSubmit(Counting()), WSGIHandler()):
        family = world.family()
        draft(world, family)
        token = token_issue(user=family.parent, actor=SYSTEM)
        environ = environ_for(family.child.pk, token=token, language=accept, extra=extra)
        with translation.override("ru" if expected != "ru" else "en"):  # the thread's own
            activations.clear()
            answer = call(app, environ)
            made = len(activations)
        assert answer.status == 201, answer.body
        answers.append((answer, made))
    (first, _), (second, made), (django, _) = answers
    assert made == 0
    wanted = localized_name(world.school, language=expected)
    assert wanted == getattr(world.school, f"name_{expected}") or expected == "uz"
    for answer in (first, second, django):
        assert answer.json()["school_name"] == wanted
        assert answer.headers["Content-Language"] == expected
    slim_answer, django_answer = normalized(second), normalized(django)
    assert slim_answer["body"].pop("position") + 1 == django_answer["body"].pop("position")
    assert slim_answer == django_answer


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@postgres_only
@pytest.mark.parametrize("language", ["ky", "ru", "en", "uz"])
def test_a_refusal_is_worded_in_the_parents_language(
    world: World, fast_path_off: None, language: str
) -> None:
    """The refusal's problem document, made once a process per language, is Django's own."""
    answers = []
    pool = SeatPool.objects.get(school=world.school, language="ky")
    SeatPool.objects.filter(pk=pool.pk).update(taken=pool.capacity)
    for app in (hot.SlimSubmit(Counting()), hot.SlimSubmit(Counting()), WSGIHandler()):
        family = world.family()
        draft(world, family)
        token = token_issue(user=family.parent, actor=SYSTEM)
        answers.append(
            normalized(call(app, environ_for(family.child.pk, token=token, language=language)))
        )
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["status"] == 409 and answers[0]["headers"]["Content-Language"] == language
