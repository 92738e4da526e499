"""The two-statement draft submit (fastpath.py) answers exactly as the ordinary path does.

Each scenario builds two families in the same situation; one submits through the fast path,
the other with the fast path switched off. Status, problem code, route, the rows written
(history, audit, SMS, idempotency record, draft gone) must be the same. PostgreSQL only, and
outside a test transaction (the fast path commits on its own)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client

from kattoo.accounts.services import token_issue
from kattoo.audit.models import AuditEvent
from kattoo.catalog.models import Ownership, Teacher
from kattoo.core import clock
from kattoo.enrollment import fastpath
from kattoo.enrollment.models import (
    Application,
    ApplicationTransition,
    Draft,
    IdempotencyRecord,
    SeatPool,
)
from kattoo.notifications.models import Notification
from kattoo.people.models import Person

from ..conftest import STAGE1, STAGE2, SYSTEM, Family, World

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="the fast path is PostgreSQL's statement"
    ),
]

IN_STAGE1 = STAGE1 + dt.timedelta(seconds=3)
IN_STAGE2 = STAGE2 + dt.timedelta(hours=1)


class Spy:
    """Counts what the fast path decided, so a test knows which path answered."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, enabled: bool) -> None:
        self.decided = 0
        self.enabled = enabled
        original = fastpath.draft_submit_fast

        def wrapped(**kwargs: Any) -> Any:
            if not self.enabled:
                return None
            answer = original(**kwargs)
            self.decided += answer is not None
            return answer

        monkeypatch.setattr(
            importlib.import_module("kattoo.api.v1.drafts"), "draft_submit_fast", wrapped
        )


def submit(
    client: Client, family: Family, *, key: str | None = None, at: dt.datetime = IN_STAGE1
) -> Any:
    token = token_issue(user=family.parent, actor=SYSTEM)
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    if key:
        headers["Idempotency-Key"] = key
    with clock.frozen(at):
        return client.post(
            f"/api/v1/drafts/{family.child.pk}/submit", content_type="application/json",
            headers=headers,
        )  # fmt: skip


def draft(world: World, family: Family, school: Any = None, language: str = "ky") -> None:
    Draft.objects.create(
        user=family.parent,
        campaign=world.campaign,
        child=family.child,
        school=school or world.school,
        language=language,
        route="microdistrict",
        checked_at=clock.now(),
    )


def outcome(response: Any, family: Family) -> dict[str, Any]:
    body = response.json()
    application = Application.objects.filter(child=family.child).order_by("-created_at").first()
    written = application is not None and response.status_code == 201
    return {
        "status": response.status_code,
        "code": body.get("code"),
        "route": body.get("route"),
        "above_quota": body.get("above_quota"),
        "history": written
        and ApplicationTransition.objects.filter(application=application).count(),
        "audit": written
        and AuditEvent.objects.filter(
            object_id=str(application.pk), action="application.register"
        ).count(),
        "sms": Notification.objects.filter(
            user=family.parent, event="application_registered"
        ).count(),
        "draft_left": Draft.objects.filter(child=family.child).exists(),
    }


Setup = Callable[[World, Family], dict[str, Any]]


def _plain(world: World, family: Family) -> dict[str, Any]:
    draft(world, family)
    return {}


def _teacher(world: World, family: Family) -> dict[str, Any]:
    draft(world, family)
    Teacher.objects.create(
        school=world.school, pin=family.population[0]["pin"], added_at=clock.now()
    )
    return {}


def _other_school_stage1(world: World, family: Family) -> dict[str, Any]:
    draft(world, family, world.other_school)
    return {}


def _other_school_stage2(world: World, family: Family) -> dict[str, Any]:
    draft(world, family, world.other_school)
    return {"at": IN_STAGE2}


def _full(world: World, family: Family) -> dict[str, Any]:
    draft(world, family)
    SeatPool.objects.filter(school=world.school, language="ky").update(taken=F("capacity"))
    return {}


def _no_documents(world: World, family: Family) -> dict[str, Any]:
    draft(world, family)
    Person.objects.filter(pk=family.child.pk).update(birth_certificate_number="")
    return {}


def _outside_window(world: World, family: Family) -> dict[str, Any]:
    draft(world, family)
    Person.objects.filter(pk=family.child.pk).update(birth_date=dt.date(2016, 1, 1))
    return {}


def _language_not_offered(world: World, family: Family) -> dict[str, Any]:
    draft(world, family, language="uz")
    return {}


def _not_participating(world: World, family: Family) -> dict[str, Any]:
    draft(world, family)
    type(world.school).objects.filter(pk=world.school.pk).update(
        ownership=Ownership.PRIVATE, opted_in=False
    )
    return {}


def _no_phone(world: World, family: Family) -> dict[str, Any]:
    # The registry had no number when the draft was saved (encrypted "", as a refresh stores
    # it); the draft's stored facts keep that there is none.
    Person.objects.filter(pk=family.parent.person_id).update(phone="")
    draft(world, family)
    return {}


def _closed(world: World, family: Family) -> dict[str, Any]:
    draft(world, family)
    return {"at": world.campaign.registration_ends_at + dt.timedelta(minutes=1)}


SCENARIOS: dict[str, tuple[Setup, bool]] = {
    # name: (setup, the fast path decides it itself)
    "microdistrict": (_plain, True),
    "teacher": (_teacher, True),
    "open_stage2": (_other_school_stage2, True),
    "full": (_full, True),
    "no_phone": (_no_phone, True),
    "not_in_microdistrict": (_other_school_stage1, False),
    "documents_missing": (_no_documents, False),
    "outside_birth_window": (_outside_window, False),
    "language_not_offered": (_language_not_offered, False),
    "not_participating": (_not_participating, False),
    "closed": (_closed, False),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_fast_and_ordinary_paths_agree(
    name: str, client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup, decides = SCENARIOS[name]
    answers = []
    for enabled in (True, False):
        family = world.family()
        options = setup(world, family)
        spy = Spy(monkeypatch, enabled=enabled)
        response = submit(client, family, **options)
        answers.append(outcome(response, family))
        if enabled:
            assert spy.decided == (1 if decides and response.status_code == 201 else 0)
    fast, ordinary = answers
    assert fast == ordinary, name


def test_twin_above_quota_agrees(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = []
    for enabled in (False, True):
        born = dt.date(2019, 9, 1)
        family = world.family(births=[born, born])
        first = Family(parent=family.parent, children=[family.children[0]])
        second = Family(parent=family.parent, children=[family.children[1]])
        Spy(monkeypatch, enabled=False)
        draft(world, first)
        assert submit(client, first).status_code == 201
        spy = Spy(monkeypatch, enabled=enabled)
        draft(world, second)
        response = submit(client, second)
        assert response.status_code == 201, response.content
        answers.append((response.json()["route"], response.json()["above_quota"]))
        assert spy.decided == (1 if enabled else 0)
    assert answers[0] == answers[1] == ("twin", True)


def test_fast_submit_writes_everything_in_one_go(client: Client, world: World) -> None:
    family = world.family()
    draft(world, family)
    key = str(uuid.uuid4())
    response = submit(client, family, key=key)
    assert response.status_code == 201, response.content
    body = response.json()
    application = Application.objects.get(pk=body["id"])
    assert (application.route, application.position, body["position"]) == ("microdistrict", 1, 1)
    assert body["history"][0]["to_status"] == "registered"
    sms = Notification.objects.get(user=family.parent, event="application_registered")
    assert re.search(r"\b1\b", sms.body)  # the position, not the mark
    assert fastpath._POSITION_MARK not in sms.body
    # ADR 0022: the address encrypted at rest — the applicant's phone's own ciphertext, copied
    # by the statement — and an empty secret part, both read back through the model.
    assert (sms.address, sms.secret_body) == (family.parent.person.phone, "")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.address = p.phone FROM notifications_notification n, people_person p "
            "WHERE n.id = %s AND p.id = %s",
            [sms.pk, family.parent.person_id],
        )
        assert cursor.fetchone() == (True,)
    record = IdempotencyRecord.objects.get(user=family.parent, key=key)
    assert record.status_code == 201 and record.response["position"] == 1
    assert record.response["id"] == body["id"]
    pool = SeatPool.objects.get(school=world.school, language="ky")
    assert pool.taken == 1 and pool.accepted_count == 1
    # The same key again: the stored answer, nothing new (the ordinary path replays it).
    again = submit(client, family, key=key)
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert Application.objects.filter(child=family.child).count() == 1
    # ADR 0040: the registration's and its SMS's keys are time-ordered (UUIDv7).
    assert (application.pk.version, sms.pk.version) == (7, 7)


def test_a_parent_with_no_phone_is_registered_without_an_sms(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The statement is told only whether there is a number (the phone stays out of its
    parameters); with none, the registration is written and no SMS is queued."""
    family = world.family()
    _no_phone(world, family)
    spy = Spy(monkeypatch, enabled=True)
    response = submit(client, family)
    assert response.status_code == 201, response.content
    assert spy.decided == 1
    assert Application.objects.filter(child=family.child).count() == 1
    assert not Notification.objects.filter(user=family.parent).exists()


def test_second_submit_of_a_registered_child_is_refused(client: Client, world: World) -> None:
    family = world.family()
    draft(world, family)
    assert submit(client, family).status_code == 201
    draft(world, family, world.other_school)
    again = submit(client, family)
    assert again.status_code == 409 and again.json()["code"] == "already_registered"
    assert SeatPool.objects.get(school=world.other_school, language="ky").taken == 0


def test_fast_submit_writes_no_task_row_and_the_drain_sends_its_sms(
    client: Client, world: World, settings: Any
) -> None:
    """One commit per registration (issue 15): the SMS is the outbox row the statement wrote;
    no delivery task is enqueued, and the outbox drain sends it once."""
    from django_tasks_db.models import DBTaskResult

    from kattoo.notifications.backends import MemoryBackend
    from kattoo.notifications.models import DeliveryStatus
    from kattoo.notifications.tasks import notifications_drain

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    MemoryBackend.outbox.clear()
    family = world.family()
    draft(world, family)
    tasks_before = DBTaskResult.objects.count()
    response = submit(client, family, key=str(uuid.uuid4()))
    assert response.status_code == 201, response.content
    assert DBTaskResult.objects.count() == tasks_before  # no task row on the hot path
    sms = Notification.objects.get(user=family.parent, event="application_registered")
    assert sms.status == DeliveryStatus.QUEUED
    assert notifications_drain() >= 1
    sms.refresh_from_db()
    assert sms.status == DeliveryStatus.SENT
    assert [m["id"] for m in MemoryBackend.outbox].count(str(sms.pk)) == 1
    MemoryBackend.outbox.clear()


@pytest.mark.parametrize("filled", ["before the read", "between the read and the statement"])
def test_a_full_pool_is_refused_by_the_fast_path_itself_with_its_audit_row(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch, filled: str
) -> None:
    """Issue 15: a refusal on a full pool (with an Idempotency-Key, as clients send) is told
    by the fast path — the ordinary path is not run — and still leaves the refusal's audit row
    naming the draft's choice, and no idempotency record (as the ordinary path). A pool full
    when the facts are read is refused without the submit statement; one that filled after the
    read, by the statement's empty result."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from kattoo.audit.refusals import REFUSED

    def ordinary(**kwargs: Any) -> Any:
        raise AssertionError("the ordinary path ran")

    monkeypatch.setattr(importlib.import_module("kattoo.api.v1.drafts"), "draft_submit", ordinary)
    family = world.family()
    _full(world, family)
    if filled != "before the read":
        original = fastpath.draft_facts

        def one_seat_left(**kwargs: Any) -> Any:
            facts = original(**kwargs)
            return dataclasses.replace(facts, facts=dataclasses.replace(facts.facts, free_seats=1))

        monkeypatch.setattr(fastpath, "draft_facts", one_seat_left)
    key = str(uuid.uuid4())
    with CaptureQueriesContext(db) as queries:
        response = submit(client, family, key=key)
    assert response.status_code == 409, response.content
    statement_sent = any("INSERT INTO enrollment_application" in q["sql"] for q in queries)
    assert statement_sent == (filled != "before the read")
    assert response.json()["code"] == "no_free_seats"
    refusal = AuditEvent.objects.get(action=REFUSED, object_id=str(family.child.pk))
    assert refusal.data["school"] == world.school.pk and refusal.data["language"] == "ky"
    assert refusal.data["code"] == "no_free_seats" and refusal.data["attempt"] == "draft_submit"
    assert not IdempotencyRecord.objects.filter(user=family.parent, key=key).exists()
    assert Draft.objects.filter(child=family.child).exists()  # kept for another try
    # The draft is not read again for the audit row: the fast path's facts named its choice.
    assert not any('FROM "enrollment_draft"' in q["sql"] for q in queries.captured_queries)


def _last_id(table: str) -> int:
    """The last id the table's sequence handed out, in any session, committed or not (a
    sequence is not transactional): 0 before the first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(pg_sequence_last_value("
            "pg_get_serial_sequence(%s, 'id')::regclass), 0)",
            [table],
        )
        return int(cursor.fetchone()[0])


def test_with_no_seat_the_rows_written_before_the_seat_do_not_survive(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR 0032: the history row and the draft's deletion run before the seat's UPDATE. When
    the pool filled after the read, the UPDATE takes no seat and the whole statement fails —
    the history row it had inserted (its id is spent) and the draft's deletion are rolled back
    — and the fast path answers no_free_seats itself."""

    def ordinary(**kwargs: Any) -> Any:
        raise AssertionError("the ordinary path ran")

    monkeypatch.setattr(importlib.import_module("kattoo.api.v1.drafts"), "draft_submit", ordinary)
    family = world.family()
    _full(world, family)
    original = fastpath.draft_facts

    def one_seat_left(**kwargs: Any) -> Any:
        facts = original(**kwargs)
        return dataclasses.replace(facts, facts=dataclasses.replace(facts.facts, free_seats=1))

    monkeypatch.setattr(fastpath, "draft_facts", one_seat_left)
    history_before = ApplicationTransition.objects.count()
    spent_before = _last_id("enrollment_applicationtransition")
    response = submit(client, family, key=str(uuid.uuid4()))
    assert response.status_code == 409 and response.json()["code"] == "no_free_seats"
    assert _last_id("enrollment_applicationtransition") > spent_before  # it was inserted …
    assert ApplicationTransition.objects.count() == history_before  # … and did not survive
    assert Draft.objects.filter(child=family.child).exists()
    assert not Application.objects.filter(child=family.child).exists()
    pool = SeatPool.objects.get(school=world.school, language="ky")
    assert pool.taken == pool.capacity and pool.accepted_count == 0


def _waited_for(cursor: Any, thread: Any) -> bool:
    """Whether, within 10 s, another session waits for this cursor's transaction (the pool's
    row it holds) while ``thread`` runs."""
    for _ in range(200):
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'"
            " AND transactionid = pg_current_xact_id()::xid"
        )
        if cursor.fetchone()[0] > 0:
            return True
        thread.join(0.05)
    return False


def test_a_submit_waiting_for_the_pools_row_lock_has_written_its_history_and_deletion(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR 0032: while another transaction holds the pool's row lock, the blocked submit
    statement has already inserted its history row (the transitions' sequence moved) and
    deleted the draft (the draft's row is locked by it), and has not yet written what follows
    the seat (the audit events' sequence did not move). Released, it registers the child
    with that very history row."""
    import threading

    from django.db import OperationalError, connections, transaction

    def ordinary(**kwargs: Any) -> Any:
        raise AssertionError("the ordinary path ran")

    monkeypatch.setattr(importlib.import_module("kattoo.api.v1.drafts"), "draft_submit", ordinary)
    family = world.family()
    draft(world, family)
    draft_id = Draft.objects.get(child=family.child).pk
    pool = SeatPool.objects.get(school=world.school, language="ky")
    answers: list[Any] = []
    token = token_issue(user=family.parent, actor=SYSTEM)  # its audit row: before the count

    def submitter() -> None:
        try:
            with clock.frozen(IN_STAGE1):
                answers.append(
                    client.post(
                        f"/api/v1/drafts/{family.child.pk}/submit",
                        content_type="application/json",
                        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
                    )
                )
        finally:
            connections.close_all()

    thread = threading.Thread(target=submitter)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM enrollment_seatpool WHERE id = %s FOR UPDATE", [pool.pk])
        history_spent = _last_id("enrollment_applicationtransition")
        audit_spent = _last_id("audit_auditevent")
        thread.start()
        assert _waited_for(cursor, thread), "the submit never waited for the pool's row lock"
        blocked_history = _last_id("enrollment_applicationtransition")
        assert blocked_history > history_spent  # the history row: inserted before the seat
        assert _last_id("audit_auditevent") == audit_spent  # the audit row: not yet
        with pytest.raises(OperationalError), transaction.atomic():  # the draft: deleted
            cursor.execute(
                "SELECT 1 FROM enrollment_draft WHERE id = %s FOR UPDATE NOWAIT", [draft_id]
            )
    thread.join(30)
    assert not thread.is_alive()
    assert answers and answers[0].status_code == 201, answers and answers[0].content
    application = Application.objects.get(pk=answers[0].json()["id"])
    assert application.position == 1
    (first,) = ApplicationTransition.objects.filter(application=application)
    assert first.pk == blocked_history and first.to_status == "registered"
    assert not Draft.objects.filter(pk=draft_id).exists()


def test_the_ordinary_submit_locks_the_draft_before_the_pool_as_the_fast_path_does(
    world: World,
) -> None:
    """ADR 0032: ``services.draft_submit`` (the web form; the API when the fast path hands
    over) deletes the draft before it takes the seat — the fast path's order — so the same
    draft submitted through both at once waits instead of deadlocking: while the pool's row
    is held elsewhere, the waiting ordinary submit already holds the draft's row."""
    import threading

    from django.db import OperationalError, connections, transaction

    from kattoo.core.actors import Actor
    from kattoo.enrollment.services import draft_submit

    family = world.family()
    draft(world, family)
    saved = Draft.objects.get(child=family.child)
    pool = SeatPool.objects.get(school=world.school, language="ky")
    outcome: list[Any] = []

    def submitter() -> None:
        try:
            with clock.frozen(IN_STAGE1):
                outcome.append(
                    draft_submit(draft=saved, actor=Actor(user=family.parent, channel="web"))
                )
        except Exception as exc:
            outcome.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=submitter)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM enrollment_seatpool WHERE id = %s FOR UPDATE", [pool.pk])
        thread.start()
        assert _waited_for(cursor, thread), (
            "the ordinary submit never waited for the pool's row lock"
        )
        with pytest.raises(OperationalError), transaction.atomic():  # the draft: its row held
            cursor.execute(
                "SELECT 1 FROM enrollment_draft WHERE id = %s FOR UPDATE NOWAIT", [saved.pk]
            )
    thread.join(30)
    assert not thread.is_alive()
    assert isinstance(outcome[0], Application), outcome
    assert outcome[0].position == 1 and not Draft.objects.filter(pk=saved.pk).exists()


def test_a_racer_with_the_same_key_that_took_the_last_seat_is_replayed(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No seat left, but this key's record exists (a racer with the same request won): the
    answer is the racer's, replayed by the ordinary path, not a refusal."""
    family = world.family()
    draft(world, family)
    key = str(uuid.uuid4())
    first = submit(client, family, key=key)
    assert first.status_code == 201
    user = family.parent
    fastpath_draft = Draft.objects.create(
        user=user,
        campaign=world.campaign,
        child=family.child,
        school=world.school,
        language="ky",
        route="microdistrict",
        checked_at=clock.now(),
    )
    SeatPool.objects.filter(school=world.school, language="ky").update(taken=F("capacity"))
    assert IdempotencyRecord.objects.filter(user=user, key=key).exists()
    # The facts were read before the racer committed: they did not see the key yet.
    original = fastpath.draft_facts

    def before_the_racer(**kwargs: Any) -> Any:
        facts = original(**kwargs)
        return facts and dataclasses.replace(facts, key_used=False)

    monkeypatch.setattr(fastpath, "draft_facts", before_the_racer)
    again = submit(client, family, key=key)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    # Replayed, not refused: no refusal was recorded for it.
    assert not AuditEvent.objects.filter(
        action="registration.refused", object_id=str(family.child.pk)
    ).exists()
    fastpath_draft.delete()


def test_the_token_and_facts_read_finds_only_a_valid_tokens_holder(world: World) -> None:
    """The slim handler's one read (``token_draft_facts``) applies the token's rules of
    ``user_for_token``: an unknown, revoked or expired token, or an inactive account, reads
    nothing; a valid holder without a draft of this child reads the holder alone."""
    from kattoo.accounts.models import ApiToken, User, token_digest
    from kattoo.accounts.services import user_for_token

    family = world.family()
    draft(world, family)
    raw = token_issue(user=family.parent, actor=SYSTEM)
    digest = token_digest(raw)
    with clock.frozen(IN_STAGE1):
        holder, facts = fastpath.token_draft_facts(digest=digest, child_id=family.child.pk)
        assert holder is not None and facts is not None
        assert (holder.pk, holder.role, holder.person_id) == (
            family.parent.pk,
            "applicant",
            family.parent.person_id,
        )
        assert facts.draft_id is not None and facts.school == world.school
        # Another child's id: the holder, no facts.
        other = world.family()
        assert fastpath.token_draft_facts(digest=digest, child_id=other.child.pk) == (
            holder,
            None,
        )
        assert fastpath.token_draft_facts(digest=token_digest("nobody"), child_id=1) == (
            None,
            None,
        )
    token = ApiToken.objects.get(digest=digest)
    with clock.frozen(token.expires_at):
        assert user_for_token(raw) is None
        assert fastpath.token_draft_facts(digest=digest, child_id=family.child.pk) == (None, None)
    with clock.frozen(IN_STAGE1):
        User.objects.filter(pk=family.parent.pk).update(is_active=False)
        assert user_for_token(raw) is None
        assert fastpath.token_draft_facts(digest=digest, child_id=family.child.pk) == (None, None)
        User.objects.filter(pk=family.parent.pk).update(is_active=True)
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=clock.now())
        assert user_for_token(raw) is None
        assert fastpath.token_draft_facts(digest=digest, child_id=family.child.pk) == (None, None)


@pytest.mark.parametrize("language", ["ky", "ru", "uz", "en"])
def test_the_fast_paths_sms_reads_as_the_ordinary_paths(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    """The SMS text in the parent's language — the message, the school's name and the class
    language's — is the ordinary path's (``services.notify_application``), word for word,
    whatever the language the request was made in (``submit`` asks for English)."""
    fast, ordinary = world.family(), world.family()
    for family in (fast, ordinary):
        type(family.parent).objects.filter(pk=family.parent.pk).update(language=language)
        draft(world, family)
    spy = Spy(monkeypatch, enabled=True)
    assert submit(client, fast).status_code == 201
    spy.enabled = False
    assert submit(client, ordinary).status_code == 201
    assert spy.decided == 1

    def text(family: Family) -> str:
        application = Application.objects.get(child=family.child)
        sms = Notification.objects.get(user=family.parent, event="application_registered")
        assert sms.language == language
        name = f"{family.child.name} {family.child.surname}"
        assert name in sms.body
        body = sms.body.replace(name, "<child>")
        position = rf"\b{application.position}\b"  # its last mention (a school has a number)
        return re.sub(rf"{position}(?!.*{position})", "<position>", body, flags=re.DOTALL)

    assert text(fast) == text(ordinary)
    assert "<position>" in text(fast)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_hot_connections_parse_each_moment_once_as_django_does() -> None:
    """The campaign's moments come in every read: the connections the hot statements run on
    parse each text once (``_remembering``), into the value Django's loader makes."""
    if connection.vendor != "postgresql":
        pytest.skip("psycopg's loaders")
    moments = ["2027-04-01 04:00:00+00", "2027-06-01 04:00:00.123456+00", "2026-12-31 23:59:59+06"]
    query = "SELECT m::timestamptz FROM unnest(%s::text[]) m"
    with connection.cursor() as cursor:
        cursor.execute(query, [moments])
        djangos = [row[0] for row in cursor.fetchall()]
    raw = connection.connection
    fastpath._remembering(raw)
    remembered = raw.adapters.get_loader(fastpath._TIMESTAMPTZ, fastpath.pq.Format.TEXT)
    assert remembered.__name__ == "Remembered"
    fastpath._remembering(raw)  # once a connection: not extended again
    assert raw.adapters.get_loader(fastpath._TIMESTAMPTZ, fastpath.pq.Format.TEXT) is remembered
    reads = []
    for _ in range(3):
        with raw.cursor() as cursor:
            reads.append([row[0] for row in cursor.execute(query, [moments]).fetchall()])
    for read in reads:
        assert read == djangos
        assert [m.tzinfo for m in read] == [m.tzinfo for m in djangos]
    assert all(a is b for a, b in zip(reads[0], reads[2], strict=True))  # parsed once
    # Django's own cursors on the connection read the same values (its time zone's loader).
    with connection.cursor() as cursor:
        cursor.execute(query, [moments])
        assert [row[0] for row in cursor.fetchall()] == djangos


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_hot_statements_keep_one_cursor_a_connection() -> None:
    """A batch makes no cursor: the connection's own is kept with it, a new one once closed."""
    if connection.vendor != "postgresql":
        pytest.skip("psycopg's cursors")
    connection.ensure_connection()
    raw = connection.connection
    first = fastpath._cursor_of(raw)
    assert fastpath._cursor_of(raw) is first
    assert first.execute("SELECT 1").fetchone() == (1,)
    assert first.execute("SELECT 2").fetchone() == (2,)  # its results start afresh
    first.close()
    again = fastpath._cursor_of(raw)
    assert again is not first and again.execute("SELECT 3").fetchone() == (3,)


def test_the_campaigns_and_schools_shells_are_shared_while_their_values_hold() -> None:
    moment = dt.datetime(2027, 4, 1, 4, tzinfo=dt.UTC)
    values = (7, dt.date(2019, 9, 1), dt.date(2020, 8, 31), moment, moment, moment, 1, 3)
    campaign = fastpath._campaign_shell(*values)
    assert fastpath._campaign_shell(*values) is campaign
    assert campaign.pk == 7 and campaign.stage1_starts_at == moment
    later = fastpath._campaign_shell(*values[:3], moment + dt.timedelta(days=1), *values[4:])
    assert later is not campaign and later.stage1_starts_at == moment + dt.timedelta(days=1)
    school = fastpath._school_shell(5, "№5 мектеби", "Школа №5", "", "School No. 5")
    assert fastpath._school_shell(5, "№5 мектеби", "Школа №5", "", "School No. 5") is school
    renamed = fastpath._school_shell(5, "№5 мектеби", "Школа №5 имени", "", "School No. 5")
    assert renamed is not school and renamed.name_ru == "Школа №5 имени"
