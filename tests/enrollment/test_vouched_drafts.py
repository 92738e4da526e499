"""A draft vouched for by its writers (ADR 0046): the short read of the opening minute takes
the relation, the child's names and birth date and the applicant's phone from the draft, and
every write that changes one of them takes the vouch away (the triggers of enrollment
migration 0014), whoever writes — a registry refresh, the family sync, a key rotation or a
plain UPDATE. Each test saves a draft, makes one write and checks what the short read then
answers: the same as the full read, from the rows as they are now. PostgreSQL: the triggers
and the short read are PostgreSQL's.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from kattoo.accounts.models import User, token_digest
from kattoo.accounts.services import token_issue
from kattoo.core import clock
from kattoo.enrollment import fastpath
from kattoo.enrollment import services as enrollment_services
from kattoo.enrollment.facts import Facts
from kattoo.enrollment.models import Draft
from kattoo.enrollment.services import draft_save, drafts_facts_store
from kattoo.people.encryption import personal_data_reencrypt
from kattoo.people.models import ChildLink, Person, Relation
from kattoo.people.services import person_refresh

from ..conftest import BEFORE, STAGE1, SYSTEM, Family, World, waits_for_a_lock
from ..factories import PersonFactory
from ..people.test_encryption import _forget_keys

pytestmark = pytest.mark.postgres

unvouch = importlib.import_module(
    "kattoo.enrollment.migrations.0014_drafts_vouched_for_by_their_writers"
)


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers and the short read are PostgreSQL's")


def save(world: World, family: Family, child: Person | None = None) -> None:
    with clock.frozen(BEFORE):
        draft_save(
            campaign=world.campaign,
            user=family.parent,
            child=child or family.child,
            school=world.school,
            language="ky",
            actor=SYSTEM,
        )


def vouched(child: Person) -> dict[str, Any] | None:
    facts = Draft.objects.get(child=child).facts
    assert facts is not None
    return facts.get("vouched")


def read(family: Family, child: Person | None = None) -> tuple[fastpath.DraftFacts, int]:
    """The slim handler's read of the draft, checked against the full read; and how many
    statements it took (one: the short row held)."""
    child = child or family.child
    digest = token_digest(token_issue(user=family.parent, actor=SYSTEM))
    with clock.frozen(STAGE1), CaptureQueriesContext(connection) as queries:
        holder, facts = fastpath.token_draft_facts(digest=digest, child_id=child.pk)
    assert holder is not None and facts is not None
    with clock.frozen(STAGE1):
        assert facts == fastpath.draft_facts(user=family.parent, child_id=child.pk)
    reads = [q for q in queries if q["sql"].lstrip().upper().startswith(("WITH", "SELECT"))]
    return facts, len(reads)


def _update(model: type, pk: int, **values: Any) -> None:
    model._default_manager.filter(pk=pk).update(**values)  # type: ignore[attr-defined]


# Each write, as any writer could make it: the trigger does not care who.
TOUCHING: dict[str, Callable[[Family], None]] = {
    "the child's surname": lambda f: _update(Person, f.child.pk, surname="Жаңыбаев"),
    "the child's name": lambda f: _update(Person, f.child.pk, name="Жаңы"),
    "the child's birth date": lambda f: _update(Person, f.child.pk, birth_date=dt.date(2019, 9, 2)),
    "the child's facts' epoch": lambda f: _update(
        Person, f.child.pk, facts_epoch=F("facts_epoch") + 1
    ),
    "the applicant's facts' epoch": lambda f: _update(
        Person, f.parent.person_id, facts_epoch=F("facts_epoch") + 1
    ),
    "the link's relation": lambda f: ChildLink.objects.filter(
        applicant_id=f.parent.person_id, child=f.child
    ).update(relation=Relation.REPRESENTATIVE),
    "the link removed": lambda f: ChildLink.objects.filter(
        applicant_id=f.parent.person_id, child=f.child
    ).delete(),
    "the link moved to another child": lambda f: ChildLink.objects.filter(
        applicant_id=f.parent.person_id, child=f.child
    ).update(child=PersonFactory()),
}  # fmt: skip

# Writes to the same rows that change nothing the short read takes.
UNTOUCHING: dict[str, Callable[[Family], None]] = {
    "the child's address text": lambda f: _update(Person, f.child.pk, address_text="x"),
    "the applicant's e-mail": lambda f: _update(Person, f.parent.person_id, email="a@b.kg"),
    "the link's verification": lambda f: ChildLink.objects.filter(
        applicant_id=f.parent.person_id, child=f.child
    ).update(verified_at=clock.now()),
    # A registry refresh of unchanged data writes the row again: the phone's ciphertext is new.
    "the same values written again": lambda f: Person.objects.get(pk=f.parent.person_id).save(),
}


@pytest.mark.parametrize("write", TOUCHING, ids=list(TOUCHING))
def test_a_write_of_what_the_short_read_takes_takes_the_vouch_away(
    world: World, write: str
) -> None:
    family, other = world.family(), world.family()
    save(world, family)
    save(world, other)
    assert vouched(family.child) is not None
    facts, reads = read(family)
    assert facts.stored and reads == 1  # the short row held

    TOUCHING[write](family)

    assert vouched(family.child) is None
    assert vouched(other.child) is not None  # another family's draft is not touched
    if write.startswith("the link"):
        # No link, or not a parent's: the full read tells (the ordinary path refuses).
        digest = token_digest(token_issue(user=family.parent, actor=SYSTEM))
        with clock.frozen(STAGE1):
            _holder, short = fastpath.token_draft_facts(digest=digest, child_id=family.child.pk)
            assert short == fastpath.draft_facts(user=family.parent, child_id=family.child.pk)
        assert short is None or short.facts.relation == Relation.REPRESENTATIVE
        return
    facts, reads = read(family)
    assert reads == 2  # read in full, from the rows as they are now
    child = Person.objects.get(pk=family.child.pk)
    assert (facts.child.surname, facts.child.name) == (child.surname, child.name)
    assert facts.facts.birth_date == child.birth_date
    # Saved again, it is vouched for with what is now true.
    save(world, family)
    stored = vouched(family.child)
    assert stored is not None
    assert (stored["surname"], stored["name"], stored["birth_date"]) == (
        child.surname,
        child.name,
        child.birth_date.isoformat(),
    )
    facts, reads = read(family)
    assert reads == 1 and facts.child.surname == child.surname


@pytest.mark.parametrize("write", UNTOUCHING, ids=list(UNTOUCHING))
def test_a_write_of_anything_else_keeps_the_vouch(world: World, write: str) -> None:
    family = world.family()
    save(world, family)
    before = vouched(family.child)
    UNTOUCHING[write](family)
    assert vouched(family.child) == before
    _facts, reads = read(family)
    assert reads == 1


def test_a_registry_refresh_that_renames_the_child(world: World) -> None:
    """The registry corrects the child's name: the refresh writes it (no fact of a rule moved,
    so the epochs stay), and the SMS and the answer must name the child as now registered."""
    family = world.family()
    save(world, family)
    child = family.population[2]
    world.registry.add_person({**child, "name": "Айпери"})
    person_refresh(pin=child["pin"], actor=SYSTEM)
    assert vouched(family.child) is None
    facts, reads = read(family)
    assert reads == 2 and facts.child.name == "Айпери"
    assert drafts_facts_store(campaign=world.campaign, actor=SYSTEM) == 1
    facts, reads = read(family)
    assert reads == 1 and facts.child.name == "Айпери"


@pytest.fixture
def keys(settings: Any) -> Iterator[Any]:
    _forget_keys()
    yield settings
    _forget_keys()


def test_a_key_rotation_re_encrypts_the_drafts_phone_and_keeps_the_vouch(
    world: World, keys: Any
) -> None:
    """The draft keeps the applicant's phone encrypted, like the person's: the rotation
    re-encrypts both, nothing it writes is a change of what the draft copies, and the SMS's
    address still reads once the old key is dropped."""
    keys.FERNET_KEYS = ["old-key"]
    _forget_keys()
    family = world.family()
    save(world, family)
    before = _raw_phone(family.child)
    keys.FERNET_KEYS = ["new-key", "old-key"]
    _forget_keys()
    personal_data_reencrypt(actor=SYSTEM)
    assert vouched(family.child) is not None
    assert _raw_phone(family.child) != before
    keys.FERNET_KEYS = ["new-key"]  # the old key is gone: the draft's copy still reads
    _forget_keys()
    facts, reads = read(family)
    assert reads == 1 and facts.has_phone and facts.phone_sealed is not None
    assert (
        _decrypted_phone(facts.phone_sealed) == Person.objects.get(pk=family.parent.person_id).phone
    )


def _raw_phone(child: Person) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM enrollment_draft WHERE child_id = %s", [child.pk])
        return bytes(cursor.fetchone()[0])


def _decrypted_phone(sealed: bytes) -> str:
    field = Draft._meta.get_field("phone")
    return str(field.from_db_value(sealed, None, connection))  # type: ignore[attr-defined]


def test_a_draft_not_vouched_for_is_read_in_full(world: World) -> None:
    """A draft saved before the triggers (no ``vouched``), and one whose user now stands for
    another person, are read in full: the short row's stamp check says so."""
    family = world.family()
    save(world, family)
    facts = Draft.objects.get(child=family.child).facts
    assert facts is not None
    Draft.objects.filter(child=family.child).update(
        facts={k: v for k, v in facts.items() if k != "vouched"}
    )
    short, reads = read(family)
    assert reads == 2 and short.stored  # its stamp still holds: the full read uses it
    assert drafts_facts_store(campaign=world.campaign, actor=SYSTEM) == 1
    assert vouched(family.child) is not None

    # The draft's user now stands for another person, without a link to the child.
    User.objects.filter(pk=family.parent.pk).update(person=PersonFactory())
    digest = token_digest(token_issue(user=family.parent, actor=SYSTEM))
    with clock.frozen(STAGE1):
        _holder, moved = fastpath.token_draft_facts(digest=digest, child_id=family.child.pk)
    assert moved is None  # the new person has no link to the child: no facts row


def test_going_back_leaves_no_vouched_draft(world: World) -> None:
    """Backwards, nothing would keep ``vouched`` true: the migration removes it with the
    triggers (and forwards again puts the triggers back)."""
    family = world.family()
    save(world, family)
    executor = MigrationExecutor(connection)
    target = [("enrollment", "0013_time_ordered_ids")]
    latest = [("enrollment", "0014_drafts_vouched_for_by_their_writers")]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks on the table
        executor.migrate(target)
        facts = Draft.objects.filter(child=family.child).values_list("facts", flat=True).get()
        assert facts is not None and "vouched" not in facts and "stamp" in facts
        executor.loader.build_graph()
        executor.migrate(latest)
    save(world, family)
    _update(Person, family.child.pk, surname="Жаңыбаев")
    assert vouched(family.child) is None


# -- the race with a draft's save (PostgreSQL's locks; each side on its own connection) --------


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _waits_on_a_lock(pid: int) -> bool:
    """Whether the backend ``pid`` is waiting for a lock, within 30 s."""

    def fetch(sql: str, params: list[Any]) -> Any:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    return waits_for_a_lock(fetch, pid=pid)


class _Side(threading.Thread):
    """One side of the race, on a connection of its own; its pid and error are kept."""

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self.work, self.pid, self.error = work, 0, None
        self.started_work = threading.Event()

    def run(self) -> None:
        try:
            self.pid = _backend_pid()
            self.started_work.set()
            self.work()
        except BaseException as exc:  # told by the test
            self.error = exc
        finally:
            self.started_work.set()
            connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_write_during_a_save_waits_for_it_then_takes_the_vouch_away(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The save has read the child (its names are decided) when a rename comes: the rename
    waits for the save's commit, and its trigger, run after it, sees the saved draft."""
    family = world.family()
    decided, release = threading.Event(), threading.Event()
    original = enrollment_services.stored_columns

    def held(facts: Facts, **kwargs: Any) -> dict[str, Any]:
        decided.set()
        assert release.wait(30)
        return original(facts, **kwargs)

    monkeypatch.setattr(enrollment_services, "stored_columns", held)
    saver = _Side(lambda: save(world, family))
    saver.start()
    assert decided.wait(30)
    renamer = _Side(lambda: _update(Person, family.child.pk, surname="Жаңыбаев"))
    renamer.start()
    assert renamer.started_work.wait(30)
    assert _waits_on_a_lock(renamer.pid)  # on the save's lock of the child's row
    release.set()
    saver.join(30)
    renamer.join(30)
    assert saver.error is None and renamer.error is None
    assert vouched(family.child) is None
    facts, reads = read(family)
    assert reads == 2 and facts.child.surname == "Жаңыбаев"


@pytest.mark.django_db(transaction=True)
def test_a_save_during_a_write_waits_for_it_and_keeps_what_it_wrote(world: World) -> None:
    """The rename has written the child's row and not committed when the save comes: the
    save waits for it, then decides from the renamed child."""
    family = world.family()
    written, release = threading.Event(), threading.Event()

    def rename() -> None:
        with transaction.atomic():
            _update(Person, family.child.pk, surname="Жаңыбаев")
            written.set()
            assert release.wait(30)

    renamer = _Side(rename)
    renamer.start()
    assert written.wait(30)
    saver = _Side(lambda: save(world, family))
    saver.start()
    assert saver.started_work.wait(30)
    assert _waits_on_a_lock(saver.pid)
    release.set()
    renamer.join(30)
    saver.join(30)
    assert saver.error is None and renamer.error is None
    stored = vouched(family.child)
    assert stored is not None and stored["surname"] == "Жаңыбаев"
    facts, reads = read(family)
    assert reads == 1 and facts.child.surname == "Жаңыбаев"


def test_the_triggers_statements_find_the_drafts_by_index() -> None:
    """A registry write of one family must not read every draft of the country: each
    statement of the clearing function has a plan on an index (with sequential scans
    priced out, a statement that has none still scans; an OR between the child's and the
    user's condition was such a statement)."""
    body = re.search(r"AS \$\$(.*?)\$\$", unvouch.CREATE[0], re.S)
    assert body is not None
    statements = [s for s in re.sub(r"--[^\n]*", "", body.group(1)).split(";") if s.strip()]
    assert len(statements) == 2
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for statement in statements:
            cursor.execute("EXPLAIN " + statement.replace("people)", "'{1,2}'::bigint[])"))
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan on enrollment_draft" not in plan, plan
            assert "Index" in plan, plan


def test_anonymisation_clears_the_drafts_copy_of_the_phone(
    world: World, settings: Any, at_stage1: dt.datetime
) -> None:
    """A draft of a campaign past its retention keeps no copy of the parent's phone once the
    parent is anonymised: the anonymisation bumps the epoch, and the trigger clears it."""
    from kattoo.campaigns.models import Campaign
    from kattoo.retention.services import campaign_ended_at, personal_data_purge

    settings.KATTOO_RETENTION = {"DAYS_AFTER_CAMPAIGN": 365}
    family = world.family()
    save(world, family)
    assert Draft.objects.get(child=family.child).phone
    Campaign.objects.filter(pk=world.campaign.pk).update(is_active=False)
    with clock.frozen(campaign_ended_at(world.campaign) + dt.timedelta(days=366)):
        personal_data_purge(actor=SYSTEM)
    applicant = Person.objects.get(pk=family.parent.person_id)
    assert applicant.anonymised_at is not None and applicant.phone == ""
    draft = Draft.objects.get(child=family.child)
    assert draft.phone is None and draft.facts is not None and "vouched" not in draft.facts


@pytest.mark.parametrize(
    "member, written",
    [(0, lambda v: float(v)), (1, lambda v: v + 1), (3, lambda v: v + 1), (3, lambda v: None)],
    ids=["the school as 5.0", "another school epoch", "another applicant", "no applicant"],
)
def test_a_stamp_that_differs_in_any_member_or_form_is_read_in_full(
    world: World, member: int, written: Callable[[Any], Any]
) -> None:
    """The short read compares the stamp's members as text (session 35): only the whole
    numbers ``facts_stamp`` writes hold; any other value, or the same number written as a
    float, makes the read take the full path, whose answer is the same."""
    family = world.family()
    save(world, family)
    short, reads = read(family)
    assert reads == 1 and short.stored  # the stamp as saved holds
    draft = Draft.objects.get(child=family.child)
    assert draft.facts is not None
    stamp = list(draft.facts["stamp"])
    stamp[member] = written(stamp[member])
    Draft.objects.filter(pk=draft.pk).update(facts={**draft.facts, "stamp": stamp})
    _short, reads = read(family)
    assert reads == 2  # not fresh: read again in full, and the same facts (``read``)
