"""The facts a draft stores when it is saved (ADR 0029) and every write that touches them.

A draft keeps the facts no write of the opening minute can change (documents, teacher parent,
microdistrict, the candidate co-twins) with the epochs they were decided at. Each test stores
a draft's facts, makes one write that changes the answer, and checks that the opening-minute
loader (``fastpath.draft_facts``) then answers what the ORM loader answers from scratch — and
that the stale answer would have been a different decision. PostgreSQL: the loader is SQL.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.test import Client

from kattoo.accounts.models import User
from kattoo.accounts.services import token_issue
from kattoo.audit.models import AuditEvent
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import Stage
from kattoo.campaigns.services import campaign_update
from kattoo.campaigns.validation import two_year_window_end
from kattoo.catalog.importing.service import catalog_import
from kattoo.catalog.models import MicrodistrictAddress, Ownership, School, Street, Teacher
from kattoo.catalog.services import microdistrict_address_add, teacher_add, teacher_remove
from kattoo.core import clock
from kattoo.enrollment import fastpath
from kattoo.enrollment import services as enrollment_services
from kattoo.enrollment.eligibility import Decision, Facts, decide
from kattoo.enrollment.facts import eligibility_facts, facts_stamp, stored_columns
from kattoo.enrollment.models import Application, Draft, SeatPool
from kattoo.enrollment.services import draft_save, drafts_facts_store
from kattoo.people.models import ChildLink, Person, Relation
from kattoo.people.services import applicant_children_sync, person_refresh

from ..catalog.test_importing import small_catalog
from ..conftest import BEFORE, STAGE1, SYSTEM, Family, World
from ..factories import PersonFactory, StreetFactory, UserFactory, registry_person

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the opening-minute loader is PostgreSQL's query")


def store(campaign: Campaign, user: User, child: Person, school: School, language: str) -> None:
    """What ``draft_save`` stores, without its refusal: a draft of any scene."""
    assert user.person_id is not None
    with transaction.atomic():  # the stamp's locks (ADR 0046) last until the draft is written
        stamp = facts_stamp(school_id=school.pk, child_id=child.pk, applicant_id=user.person_id)
        pool = SeatPool.objects.filter(campaign=campaign, school=school, language=language).first()
        facts = eligibility_facts(
            campaign=campaign,
            applicant=stamp.applicant,
            child=stamp.child,
            school=school,
            pool=pool,
        )
        Draft.objects.update_or_create(
            user=user,
            campaign=campaign,
            child=child,
            defaults={
                "school": school,
                "language": language,
                "route": "microdistrict",
                "checked_at": clock.now(),
                **stored_columns(facts, stamp=stamp),
            },
        )


def orm_facts(campaign: Campaign, user: User, child_id: int) -> Facts:
    draft = Draft.objects.select_related("school", "child").get(user=user, child_id=child_id)
    applicant = Person.objects.get(pk=user.person_id)
    return eligibility_facts(
        campaign=Campaign.objects.get(pk=campaign.pk),
        applicant=applicant,
        child=Person.objects.get(pk=child_id),
        school=draft.school,
        pool=SeatPool.objects.filter(
            campaign=campaign, school=draft.school, language=draft.language
        ).first(),
    )


def loaded(user: User, child_id: int) -> fastpath.DraftFacts:
    draft = fastpath.draft_facts(user=user, child_id=child_id)
    assert draft is not None
    return draft


def stale_and_fresh(
    campaign: Campaign, user: User, child_id: int, *, stored: bool
) -> tuple[Facts, Decision]:
    """The decision before the write (from the stored facts) and after it, which the loader
    must give (equal to the ORM's from scratch). ``stored``: whether the stored facts may still
    be used after the write (live facts) or must have been dropped (touched ones)."""
    now = loaded(user, child_id)
    assert now.stored is stored
    assert now.facts == orm_facts(campaign, user, child_id)
    return now.facts, decide(now.facts, Stage.STAGE1)


def decision_now(user: User, child_id: int) -> Decision:
    return decide(loaded(user, child_id).facts, Stage.STAGE1)


def prepared(world: World, family: Family, school: School | None = None) -> Decision:
    store(world.campaign, family.parent, family.child, school or world.school, "ky")
    draft = loaded(family.parent, family.child.pk)
    assert draft.stored  # nothing touched them: the submit reads no full facts
    assert draft.facts == orm_facts(world.campaign, family.parent, family.child.pk)
    return decide(draft.facts, Stage.STAGE1)


def test_draft_save_stores_the_static_facts_with_their_stamp(world: World) -> None:
    family = world.family()
    with clock.frozen(BEFORE):
        draft_save(
            campaign=world.campaign,
            user=family.parent,
            child=family.child,
            school=world.school,
            language="ky",
            actor=SYSTEM,
        )
    stored = Draft.objects.get(child=family.child).facts
    child, parent = family.child, family.parent.person
    assert parent is not None
    assert stored == {
        "stamp": [world.school.pk, 0, child.facts_epoch, parent.pk, parent.facts_epoch],
        "certificate": True,
        "passport": True,
        "teacher": False,
        "microdistrict": True,
        "twins": [],
        "phone": True,
        # ADR 0046: what the short read takes from the draft, vouched for by its writers.
        "vouched": {
            "relation": "mother",
            "surname": child.surname,
            "name": child.name,
            "birth_date": child.birth_date.isoformat(),
        },
    }
    assert Draft.objects.get(child=family.child).phone == parent.phone != ""
    draft = loaded(family.parent, child.pk)
    assert draft.stored and decide(draft.facts, Stage.STAGE1).route == "microdistrict"
    assert draft.has_phone


def test_whether_the_parent_has_a_phone_is_stored_and_a_refresh_that_drops_it_is_seen(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registration's SMS needs to know whether there is a number. A fresh draft says so
    from its stored facts, without decrypting the phone (issue 15); a sign-in refresh that
    finds the phone gone from the registry makes the stored facts stale, and the full read
    then decrypts it and finds none."""
    family = world.family()
    assert prepared(world, family).allowed
    decrypted: list[str] = []
    real = fastpath._decrypted

    def spy(model: type, field: str, value: Any) -> Any:
        decrypted.append(field)
        return real(model, field, value)

    monkeypatch.setattr(fastpath, "_decrypted", spy)
    fresh = loaded(family.parent, family.child.pk)
    assert fresh.stored and fresh.has_phone
    assert "phone" not in decrypted

    mother = family.population[0]
    world.registry.add_person({**mother, "contacts": {"phone": "", "email": ""}})
    person_refresh(pin=mother["pin"], actor=SYSTEM, applicant=True)
    after = loaded(family.parent, family.child.pk)
    assert not after.stored  # the phone is one of the family's facts: the epoch moved
    assert not after.has_phone
    assert "phone" in decrypted
    # A refresh that finds the same number changes nothing.
    prepared(world, family)
    world.registry.add_person({**mother, "contacts": {"phone": "", "email": ""}})
    person_refresh(pin=mother["pin"], actor=SYSTEM, applicant=True)
    again = loaded(family.parent, family.child.pk)
    assert again.stored and not again.has_phone


def test_registry_refresh_of_the_other_parent_drops_the_microdistrict(world: World) -> None:
    """§10 through the father's address: he moves away, the registry says so, and the child's
    stored microdistrict no longer holds — the refresh touched a person who is neither the
    child nor the applicant."""
    family = world.family(street=world.elsewhere, father_street=world.home)
    assert prepared(world, family).route == "microdistrict"
    father = family.population[1]
    moved = registry_person(sex="M", born=dt.date(1988, 7, 9), street=world.elsewhere)
    world.registry.add_person({**father, "address": moved["address"]})
    person_refresh(pin=father["pin"], actor=SYSTEM)
    facts, decision = stale_and_fresh(world.campaign, family.parent, family.child.pk, stored=False)
    assert not facts.in_microdistrict
    assert decision.codes == ["not_in_microdistrict"]


def test_registry_refresh_of_the_child_drops_the_documents(world: World) -> None:
    family = world.family()
    assert prepared(world, family).allowed
    child = family.population[2]
    world.registry.add_person({**child, "birthAct": {**child["birthAct"], "certificateNumber": ""}})
    person_refresh(pin=child["pin"], actor=SYSTEM)
    _facts, decision = stale_and_fresh(world.campaign, family.parent, family.child.pk, stored=False)
    assert decision.codes == ["documents_missing"]


def test_a_co_twin_the_registry_adds_later_is_checked_at_submit(world: World) -> None:
    """§25: the stored co-twin ids were decided without her; the family's sync that brings
    her in drops them, and her quota seat at the school routes the child above quota."""
    family = world.family(street=world.elsewhere)
    decision = prepared(world, family)
    assert decision.codes == ["not_in_microdistrict"]
    mother, father, child = family.population
    twin = registry_person(
        sex="F",
        born=dt.date.fromisoformat(child["dateOfBirth"]),
        street=world.home,
        mother=mother["pin"],
        father=father["pin"],
    )
    world.registry.add_person(twin)
    assert family.parent.person is not None
    applicant_children_sync(applicant=family.parent.person, actor=SYSTEM)
    sister = Person.objects.get(pin=twin["pin"])
    register(world, family.parent, sister, world.school)
    facts, decision = stale_and_fresh(world.campaign, family.parent, family.child.pk, stored=False)
    assert facts.twin_in_quota
    assert (decision.route, decision.above_quota, decision.allowed) == ("twin", True, True)


def test_a_stored_co_twin_registered_after_the_draft_is_seen_without_a_full_read(
    world: World,
) -> None:
    family = world.family(street=world.elsewhere, births=[dt.date(2019, 9, 1)] * 2)
    child, sister = family.children
    assert prepared(world, family).codes == ["not_in_microdistrict"]
    register(world, family.parent, sister, world.school)
    facts, decision = stale_and_fresh(world.campaign, family.parent, child.pk, stored=True)
    assert facts.twin_in_quota
    assert decision.route == "twin"
    # Above the quota, the co-twin opens nothing (§25): the stored ids, read live.
    Application.objects.filter(child=sister).update(above_quota=True)
    assert decision_now(family.parent, child.pk).codes == ["not_in_microdistrict"]


def register(world: World, user: User, child: Person, school: School) -> None:
    pool = SeatPool.objects.get(campaign=world.campaign, school=school, language="ky")
    now = clock.now()
    Application.objects.create(
        campaign=world.campaign,
        child=child,
        applicant=user.person,
        user=user,
        school=school,
        language="ky",
        pool=pool,
        route="microdistrict",
        position=pool.taken + 1,
        created_at=now,
        status_changed_at=now,
    )


def test_teacher_removal_and_addition_decide_again(world: World) -> None:
    """§24: a draft at a school outside the microdistrict, on the mother's teaching post."""
    family = world.family()
    mother = family.population[0]
    Teacher.objects.create(school=world.other_school, pin=mother["pin"], added_at=clock.now())
    assert prepared(world, family, world.other_school).route == "teacher"
    with clock.frozen(BEFORE):  # before the quota lock: the school removes at once
        teacher_remove(teacher=Teacher.objects.get(pin=mother["pin"]), actor=SYSTEM)
    _facts, decision = stale_and_fresh(world.campaign, family.parent, family.child.pk, stored=False)
    assert decision.codes == ["not_in_microdistrict"]

    store(world.campaign, family.parent, family.child, world.other_school, "ky")
    with clock.frozen(BEFORE):  # before the quota lock: straight onto the roster
        teacher_add(school=world.other_school, pin=mother["pin"], full_name="", actor=SYSTEM)
    _facts, decision = stale_and_fresh(world.campaign, family.parent, family.child.pk, stored=False)
    assert decision.route == "teacher"


def test_a_microdistrict_address_added_by_the_school(world: World) -> None:
    far = StreetFactory(settlement=world.home.settlement)
    family = world.family(street=far)
    assert prepared(world, family).codes == ["not_in_microdistrict"]
    microdistrict_address_add(
        school=world.school, street=far, house_from=None, house_to=None, note="act", actor=SYSTEM
    )
    _facts, decision = stale_and_fresh(world.campaign, family.parent, family.child.pk, stored=False)
    assert decision.route == "microdistrict" and decision.allowed


def test_a_catalog_import_that_drops_a_microdistrict_line(campaign: Campaign) -> None:
    catalog_import(data=small_catalog(), actor=SYSTEM)
    school = School.objects.get(code="S-1")
    SeatPool.objects.create(
        campaign=campaign, school=school, language="ky", quota_seats=25, capacity=25
    )
    street = Street.objects.get(code="1100102")
    mother = PersonFactory(address_street_code=street.code, address_house="3")
    child = PersonFactory(
        birth_date=dt.date(2019, 9, 1),
        mother_pin=mother.pin,
        address_street_code=street.code,
        address_house="3",
    )
    user = UserFactory(username=mother.pin, person=mother)
    ChildLink.objects.create(
        applicant=mother, child=child, relation=Relation.MOTHER, verified_at=clock.now()
    )
    store(campaign, user, child, school, "ky")
    assert loaded(user, child.pk).stored
    assert decision_now(user, child.pk).route == "microdistrict"
    data = small_catalog()
    data["microdistricts"] = [
        line for line in data["microdistricts"] if line["street"] != "1100102"
    ]
    catalog_import(data=data, actor=SYSTEM)
    assert not MicrodistrictAddress.objects.filter(school=school, street=street).exists()
    _facts, decision = stale_and_fresh(campaign, user, child.pk, stored=False)
    assert decision.codes == ["not_in_microdistrict"]


# Participation, the campaign's dates and window, and the pools are read live at submit from
# the rows the statement reads anyway: the stored facts stay valid and the answer changes.


def test_a_school_that_stops_taking_part(world: World) -> None:
    family = world.family()
    assert prepared(world, family).allowed
    School.objects.filter(pk=world.school.pk).update(ownership=Ownership.PRIVATE, opted_in=False)
    _facts, decision = stale_and_fresh(world.campaign, family.parent, family.child.pk, stored=True)
    assert decision.codes == ["not_found"]  # §31


def test_the_campaign_moves_its_birth_window(world: World) -> None:
    family = world.family()
    assert prepared(world, family).allowed
    born = family.child.birth_date + dt.timedelta(days=1)  # the child is now too old
    with clock.frozen(BEFORE):
        campaign_update(
            campaign=world.campaign,
            values={"birth_from": born, "birth_to": two_year_window_end(born)},
            actor=SYSTEM,
        )
    _facts, decision = stale_and_fresh(world.campaign, family.parent, family.child.pk, stored=True)
    assert decision.codes == ["outside_birth_window"]


def test_a_pool_without_quota_seats_in_the_language(world: World) -> None:
    family = world.family()
    assert prepared(world, family).allowed
    SeatPool.objects.filter(campaign=world.campaign, school=world.school, language="ky").update(
        quota_seats=0, capacity=F("extra_seats")
    )
    _facts, decision = stale_and_fresh(world.campaign, family.parent, family.child.pk, stored=True)
    assert decision.codes == ["language_not_offered"]


@pytest.mark.django_db(transaction=True)
def test_the_submit_after_a_teacher_removal_answers_from_fresh_facts(
    client: Client, world: World
) -> None:
    """End to end: the fast path must not register the child on the removed teacher's route."""
    family = world.family()
    mother = family.population[0]
    Teacher.objects.create(school=world.other_school, pin=mother["pin"], added_at=clock.now())
    with clock.frozen(BEFORE):
        draft_save(
            campaign=world.campaign,
            user=family.parent,
            child=family.child,
            school=world.other_school,
            language="ky",
            actor=SYSTEM,
        )
    with clock.frozen(BEFORE):  # before the quota lock: the school removes at once
        teacher_remove(teacher=Teacher.objects.get(pin=mother["pin"]), actor=SYSTEM)
    token = token_issue(user=family.parent, actor=SYSTEM)
    headers: dict[str, Any] = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    with clock.frozen(STAGE1 + dt.timedelta(seconds=3)):
        response = client.post(
            f"/api/v1/drafts/{family.child.pk}/submit",
            content_type="application/json",
            headers=headers,
        )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "not_in_microdistrict"
    assert re.search("microdistrict", response.json()["detail"])
    assert not Application.objects.filter(child=family.child).exists()


@pytest.mark.django_db(transaction=True)
def test_a_roster_change_committed_while_the_draft_is_saved(
    monkeypatch: pytest.MonkeyPatch, world: World
) -> None:
    """The race the epochs close: the draft's save has read its facts (the mother teaches at
    the school) when the school's removal of her commits, before the draft is written. The
    stored facts are then wrong, and their stamp says so: the submit reads the full facts."""
    family = world.family()
    mother = family.population[0]
    Teacher.objects.create(school=world.other_school, pin=mother["pin"], added_at=clock.now())
    original = enrollment_services.stored_columns

    def removal_commits_meanwhile(facts: Facts, **kwargs: Any) -> dict[str, Any]:
        def remove() -> None:
            try:
                with clock.frozen(BEFORE):  # before the quota lock: the school removes at once
                    teacher_remove(teacher=Teacher.objects.get(pin=mother["pin"]), actor=SYSTEM)
            finally:
                connection.close()

        thread = threading.Thread(target=remove)  # its own connection, its own transaction
        thread.start()
        thread.join()
        return original(facts, **kwargs)

    monkeypatch.setattr(enrollment_services, "stored_columns", removal_commits_meanwhile)
    with clock.frozen(BEFORE):
        draft_save(
            campaign=world.campaign,
            user=family.parent,
            child=family.child,
            school=world.other_school,
            language="ky",
            actor=SYSTEM,
        )
    assert not Teacher.objects.filter(pin=mother["pin"]).exists()
    assert Draft.objects.get(child=family.child).facts["teacher"] is True  # decided before
    _facts, decision = stale_and_fresh(world.campaign, family.parent, family.child.pk, stored=False)
    assert decision.codes == ["not_in_microdistrict"]


def test_drafts_facts_store_stores_again_only_the_stale(world: World) -> None:
    """After the touching write, the command decides the stale draft's facts again: its
    submit reads them (fresh), and a draft whose stamp holds is left alone."""
    family, other = world.family(), world.family(street=world.elsewhere)
    mother = family.population[0]
    Teacher.objects.create(school=world.other_school, pin=mother["pin"], added_at=clock.now())
    prepared(world, family, world.other_school)
    prepared(world, other, world.other_school)
    untouched = Draft.objects.get(child=other.child).facts
    with clock.frozen(BEFORE):  # before the quota lock: the school removes at once
        teacher_remove(teacher=Teacher.objects.get(pin=mother["pin"]), actor=SYSTEM)
    assert not loaded(family.parent, family.child.pk).stored
    assert not loaded(other.parent, other.child.pk).stored  # the school's epoch moved

    assert drafts_facts_store(campaign=world.campaign, actor=SYSTEM) == 2
    for each in (family, other):
        draft = loaded(each.parent, each.child.pk)
        assert draft.stored
        assert draft.facts == orm_facts(world.campaign, each.parent, each.child.pk)
    assert not loaded(family.parent, family.child.pk).facts.teacher_parent
    assert Draft.objects.get(child=other.child).facts["teacher"] == untouched["teacher"]
    out = io.StringIO()
    call_command("drafts_facts_store", stdout=out)  # nothing stale is left
    assert out.getvalue().strip() == "drafts: facts stored again for 0"
    assert AuditEvent.objects.filter(action="draft.facts_store").count() == 1


def test_the_token_read_is_short_for_a_vouched_parents_draft_and_full_otherwise(
    world: World,
) -> None:
    """The slim handler's read (``token_draft_facts``) reads the short row — the draft alone:
    no stale-draft fallbacks, no representative's act or wards, no link or person rows — in
    one statement when the draft is vouched for and the applicant is a parent; a stale draft
    and a representative's are read again in full. Every time the facts equal the full
    read's."""
    from django.test.utils import CaptureQueriesContext

    from kattoo.accounts.models import token_digest

    family = world.family()
    store(world.campaign, family.parent, family.child, world.school, "ky")
    digest = token_digest(token_issue(user=family.parent, actor=SYSTEM))

    def read() -> tuple[fastpath.DraftFacts, int]:
        with CaptureQueriesContext(connection) as queries:
            holder, facts = fastpath.token_draft_facts(digest=digest, child_id=family.child.pk)
        assert holder is not None and facts is not None
        assert facts == fastpath.draft_facts(user=family.parent, child_id=family.child.pk)
        reads = [q for q in queries if q["sql"].lstrip().upper().startswith(("WITH", "SELECT"))]
        return facts, len(reads)

    with clock.frozen(STAGE1):
        facts, reads = read()
        assert facts.stored and reads == 1
        # A write touched the school's facts: the stored ones no longer hold.
        School.objects.filter(pk=world.school.pk).update(facts_epoch=F("facts_epoch") + 1)
        facts, reads = read()
        assert not facts.stored and reads == 2
        store(world.campaign, family.parent, family.child, world.school, "ky")
        facts, reads = read()
        assert facts.stored and reads == 1
        # §21: a representative's act and wards are read in full.
        ChildLink.objects.filter(applicant=family.parent.person, child=family.child).update(
            relation=Relation.REPRESENTATIVE
        )
        facts, reads = read()
        assert facts.facts.relation == Relation.REPRESENTATIVE and reads == 2


def test_the_short_read_leaves_out_the_fallbacks_and_the_people() -> None:
    """What makes the short read short (issue 15, ADR 0033, ADR 0046): none of the tables only
    a stale draft or a representative needs, and neither the link nor the person rows nor the
    key, so the read takes fewer relation locks."""
    short = fastpath._TOKEN_FACTS
    for table in (
        "catalog_teacher",
        "catalog_street",
        "catalog_microdistrictaddress",
        "people_guardianact",
        "people_childlink",
        "people_person",
        "enrollment_idempotencyrecord",
    ):
        assert table in fastpath._FACTS
        assert table not in short
