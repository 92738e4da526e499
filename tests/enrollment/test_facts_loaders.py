"""The two loaders of ``eligibility.Facts`` return equal facts (property), so the ordinary
path and the opening-minute fast path decide alike; and the father-only co-twin case end to
end: what the school list offers is what registration (through the fast path) accepts.

PostgreSQL only: the SQL loader is PostgreSQL's query."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kattoo.accounts.models import User, token_digest
from kattoo.accounts.services import applicant_for_pin, token_issue
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import MicrodistrictAddress, Ownership, Parity, School, Teacher
from kattoo.core import clock
from kattoo.enrollment import fastpath
from kattoo.enrollment.eligibility import Facts
from kattoo.enrollment.facts import (
    co_twin_filter,
    eligibility_facts,
    facts_stamp,
    stored_columns,
)
from kattoo.enrollment.models import Application, Draft, SeatPool, Status
from kattoo.enrollment.selectors import schools_open_to_child
from kattoo.people.models import ActKind, ChildLink, GuardianAct, Person, Relation
from kattoo.people.services import applicant_children_sync

from ..conftest import STAGE1, SYSTEM, World
from ..factories import PersonFactory, SchoolFactory, StreetFactory, UserFactory, registry_person

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    # A fixture, not a skipif string: hypothesis' wrapper hides this module's globals.
    if connection.vendor != "postgresql":
        pytest.skip("the SQL loader is PostgreSQL's query")


# House numbers as the address register writes them: letters, fractions, none, padding, and
# digits of another script (not a house number for either loader).
HOUSES = ["1", "2", "12", "12а", "13б", " 7/2", "б/н", "", "0014", "٣", "41", "40А"]
RANGES = st.one_of(
    st.none(),  # the whole street
    st.tuples(
        st.integers(0, 20),
        st.integers(0, 30),
        st.sampled_from([Parity.ALL, Parity.ODD, Parity.EVEN]),
    ).map(lambda t: (min(t[0], t[1]), max(t[0], t[1]), t[2])),
)


@dataclass(frozen=True)
class Scene:
    streets: int
    lines: list[tuple[int, int, Any]]  # (school, street, range)
    mother: bool  # a father-only family has none on the birth act
    father: bool
    homes: list[tuple[int, str]]  # mother, father, child, representative: (street, house)
    kids: int  # born the same day: twins, triplets
    twin_school: list[tuple[int, bool, str]]  # per other kid: (school, above quota, status)
    applicant: str  # mother / father / representative
    act: str  # none / pending / accepted / rejected (a representative's)
    wards: int  # other wards the representative registered
    own_children: int  # the representative's own registered children
    # other wards the commission placed (§9, §26), each after a registration the representative
    # made in that status ("" none: the placement alone)
    placed_wards: list[str]
    teacher: str  # "" / mother / father / applicant / stranger
    teacher_school: int
    chosen: int
    language: str
    participates: bool
    registered: str  # "" / registered / cancelled
    certificate: bool
    passport: bool


SCENES = st.builds(
    Scene,
    streets=st.integers(1, 2),
    lines=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1), RANGES), min_size=0, max_size=5),
    mother=st.booleans(),
    father=st.booleans(),
    homes=st.lists(st.tuples(st.integers(0, 1), st.sampled_from(HOUSES)), min_size=4, max_size=4),
    kids=st.integers(1, 3),
    twin_school=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.booleans(),
            st.sampled_from([Status.REGISTERED, Status.ADMITTED, Status.CANCELLED]),
        ),
        min_size=2,
        max_size=2,
    ),
    applicant=st.sampled_from(["mother", "father", "representative"]),
    act=st.sampled_from(["none", "pending", "accepted", "rejected"]),
    wards=st.integers(0, 3),
    own_children=st.integers(0, 2),
    placed_wards=st.lists(
        st.sampled_from(["", Status.CANCELLED, Status.REFUSED, Status.TRANSFERRED]), max_size=2
    ),
    teacher=st.sampled_from(["", "mother", "father", "applicant", "stranger"]),
    teacher_school=st.integers(0, 2),
    chosen=st.integers(0, 2),
    language=st.sampled_from(["ky", "ru", "uz"]),
    participates=st.booleans(),
    registered=st.sampled_from(["", Status.REGISTERED, Status.CANCELLED]),
    certificate=st.booleans(),
    passport=st.booleans(),
)


def _house_example(house: str, line: tuple[int, int, str]) -> Scene:
    """A father-only family on one street whose house only the range can place."""
    return Scene(
        streets=1,
        lines=[(0, 0, line)],
        mother=False,
        father=True,
        homes=[(0, house)] * 4,
        kids=2,
        twin_school=[(1, False, Status.REGISTERED)] * 2,
        applicant="father",
        act="none",
        wards=0,
        own_children=0,
        placed_wards=[],
        teacher="",
        teacher_school=0,
        chosen=0,
        language="ky",
        participates=True,
        registered="",
        certificate=True,
        passport=True,
    )


class Builder:
    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.schools = [SchoolFactory() for _ in range(3)]
        self.pools: dict[tuple[int, str], SeatPool] = {}
        for school in self.schools:
            for language, seats in (("ky", 25), ("ru", 0)):
                self.pools[(school.pk, language)] = SeatPool.objects.create(
                    campaign=campaign,
                    school=school,
                    language=language,
                    quota_seats=seats,
                    extra_seats=3,
                    capacity=seats + 3,
                )
        clerk = PersonFactory()
        self.clerk = UserFactory(username=clerk.pin, person=clerk)

    def register(self, child: Person, applicant: Person, school: School, **fields: Any) -> None:
        pool = self.pools[(school.pk, "ky")]
        pool.taken += 1
        SeatPool.objects.filter(pk=pool.pk).update(taken=pool.taken)
        now = clock.now()
        Application.objects.create(
            campaign=self.campaign,
            child=child,
            applicant=applicant,
            user=self.clerk,
            school=school,
            language="ky",
            pool=pool,
            route=fields.pop("route", "microdistrict"),
            position=pool.taken,
            created_at=now,
            status_changed_at=now,
            **fields,
        )


def build(scene: Scene, builder: Builder) -> tuple[User, Person, School, str]:
    streets = [StreetFactory() for _ in range(scene.streets)]
    for school_index, street_index, line in scene.lines:
        house_from, house_to, parity = line if line else (None, None, Parity.ALL)
        MicrodistrictAddress.objects.create(
            school=builder.schools[school_index],
            street=streets[street_index % scene.streets],
            house_from=house_from,
            house_to=house_to,
            parity=parity,
        )

    def person(home: tuple[int, str], **fields: Any) -> Person:
        street, house = home
        return PersonFactory(
            address_street_code=streets[street % scene.streets].code if house != "" else "",
            address_house=house,
            **fields,
        )

    mother = person(scene.homes[0], sex="F") if scene.mother or not scene.father else None
    father = person(scene.homes[1], sex="M") if scene.father else None
    born = dt.date(2019, 9, 1)
    kids = [
        person(
            scene.homes[2],
            birth_date=born,
            mother_pin=mother.pin if mother else "",
            father_pin=father.pin if father else "",
            birth_certificate_number="A1" if scene.certificate or i else "",
        )
        for i in range(scene.kids)
    ]
    child = kids[0]
    if scene.applicant == "representative" or (scene.applicant == "father" and not father):
        applicant = person(scene.homes[3], sex="F")
        relation = Relation.REPRESENTATIVE
    elif scene.applicant == "father" and father is not None:
        applicant, relation = father, Relation.FATHER
    else:
        applicant = mother or father
        assert applicant is not None
        relation = Relation.MOTHER if applicant is mother else Relation.FATHER
    if not scene.passport:
        Person.objects.filter(pk=applicant.pk).update(passport_number="")
        applicant.refresh_from_db()
    user = UserFactory(username=applicant.pin, person=applicant)
    link = ChildLink.objects.create(
        applicant=applicant, child=child, relation=relation, verified_at=clock.now()
    )
    if scene.act != "none":
        GuardianAct.objects.create(
            link=link, kind=ActKind.COURT, status=scene.act, uploaded_at=clock.now()
        )
    for kid, (school_index, above, status) in zip(kids[1:], scene.twin_school, strict=False):
        builder.register(
            kid, applicant, builder.schools[school_index], above_quota=above, status=status
        )
    # §21: wards registered as representative count; the person's own children do not.
    for i in range(scene.wards + scene.own_children):
        other = PersonFactory(birth_date=dt.date(2020, 1, 1) + dt.timedelta(days=i))
        ChildLink.objects.create(
            applicant=applicant,
            child=other,
            relation=Relation.REPRESENTATIVE if i < scene.wards else Relation.MOTHER,
            verified_at=clock.now(),
        )
        builder.register(other, applicant, builder.schools[i % 3])
    # §21: a ward the commission placed is not one the representative registered; a ward
    # registered by the representative before the placement counts by that registration.
    for i, earlier in enumerate(scene.placed_wards):
        other = PersonFactory(birth_date=dt.date(2018, 6, 1) + dt.timedelta(days=i))
        ChildLink.objects.create(
            applicant=applicant,
            child=other,
            relation=Relation.REPRESENTATIVE,
            verified_at=clock.now(),
        )
        if earlier:
            builder.register(other, applicant, builder.schools[i % 3], status=earlier)
        builder.register(other, applicant, builder.schools[(i + 1) % 3], route="commission")
    if scene.teacher:
        pins = {
            "mother": mother.pin if mother else "",
            "father": father.pin if father else "",
            "applicant": applicant.pin,
            "stranger": PersonFactory().pin,
        }
        if pins[scene.teacher]:
            Teacher.objects.create(
                school=builder.schools[scene.teacher_school],
                pin=pins[scene.teacher],
                added_at=clock.now(),
            )
    school = builder.schools[scene.chosen]
    if not scene.participates:
        School.objects.filter(pk=school.pk).update(ownership=Ownership.PRIVATE, opted_in=False)
        school.refresh_from_db()
    if scene.registered:
        builder.register(child, applicant, builder.schools[0], status=scene.registered)
    return user, child, school, scene.language


# Writes the opening minute makes without touching a draft's stored facts: co-twins' and the
# child's registrations move, seats are taken, a school or a pool changes.
CHURN = ["twins_above", "twins_cancel", "twins_here", "child_cancel", "seats", "private"]


def opening_minute_change(
    change: str, *, campaign: Campaign, child: Person, school: School
) -> None:
    twins = co_twin_filter(child)
    co_twins = Application.objects.filter(
        campaign=campaign, child__in=Person.objects.filter(twins) if twins else []
    )
    if change == "twins_above":
        co_twins.update(above_quota=~F("above_quota"))
    elif change == "twins_cancel":
        co_twins.update(status=Status.CANCELLED)
    elif change == "twins_here":
        co_twins.update(school=school, status=Status.REGISTERED, above_quota=False)
    elif change == "child_cancel":
        Application.objects.filter(campaign=campaign, child=child).update(status=Status.CANCELLED)
    elif change == "seats":
        SeatPool.objects.filter(school=school).update(taken=F("capacity"))
    elif change == "private":
        School.objects.filter(pk=school.pk).update(ownership=Ownership.PRIVATE, opted_in=False)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(scene=SCENES, churn=st.lists(st.sampled_from(CHURN), max_size=3))
@example(scene=_house_example("٣", (1, 5, Parity.ALL)), churn=[])  # not a digit for either
@example(scene=_house_example("12а", (10, 12, Parity.EVEN)), churn=[])  # a letter after it
@example(scene=_house_example(" 7/2", (7, 7, Parity.ODD)), churn=["twins_above"])
@example(  # §21: a representative with a ward registered, one placed by the commission, and
    # one placed after a registration she cancelled
    scene=dataclasses.replace(
        _house_example("12", (0, 20, Parity.ALL)),
        applicant="representative",
        act="accepted",
        wards=1,
        placed_wards=["", Status.CANCELLED],
    ),
    churn=[],
)
def test_both_loaders_return_equal_facts(
    campaign: Campaign, scene: Scene, churn: list[str]
) -> None:
    """The full SQL read, and the read of a draft's stored facts (ADR 0029) — also after what
    may change in the opening minute without touching them — equal the ORM's facts."""
    with transaction.atomic():
        builder = Builder(campaign)
        user, child, school, language = build(scene, builder)
        draft = Draft.objects.create(
            user=user,
            campaign=campaign,
            child=child,
            school=school,
            language=language,
            route="microdistrict",
            checked_at=clock.now(),
        )
        assert user.person is not None

        def orm() -> Facts:
            return eligibility_facts(
                campaign=campaign,
                applicant=Person.objects.get(pk=user.person_id),
                child=Person.objects.get(pk=child.pk),
                school=School.objects.get(pk=school.pk),
                pool=SeatPool.objects.filter(
                    campaign=campaign, school=school, language=language
                ).first(),
            )

        digest = token_digest(token_issue(user=user, actor=SYSTEM))

        def by_token() -> fastpath.DraftFacts | None:
            """The slim handler's one read (the token's holder with the facts) equals the
            facts read alone, field for field."""
            holder, read = fastpath.token_draft_facts(digest=digest, child_id=child.pk)
            assert holder is not None
            assert (holder.pk, holder.role, holder.person_id, holder.language) == (
                user.pk,
                user.role,
                user.person_id,
                user.language,
            )
            alone = fastpath.draft_facts(user=user, child_id=child.pk)
            assert read == alone
            return read

        sql = by_token()
        assert sql is not None and not sql.stored
        assert orm() == sql.facts
        # What draft_save stores, then the submit's read of it.
        stamp = facts_stamp(school_id=school.pk, child_id=child.pk, applicant_id=user.person.pk)
        Draft.objects.filter(pk=draft.pk).update(**stored_columns(sql.facts, stamp=stamp))
        stored = by_token()
        assert stored is not None and stored.stored
        assert orm() == stored.facts
        for change in churn:
            opening_minute_change(change, campaign=campaign, child=child, school=school)
            stored = by_token()
            assert stored is not None and stored.stored
            assert orm() == stored.facts
        transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True)
def test_father_only_co_twin_school_list_and_registration_agree(
    client: Client, world: World
) -> None:
    """§25 with a birth act that names only the father: the co-twin's school is offered in
    stage 1 (outside the family's microdistrict) and the fast path registers the twin there
    above quota. Before, the list looked only at the mother's PIN."""
    father = registry_person(sex="M", born=dt.date(1985, 5, 5), street=world.elsewhere)
    born = dt.date(2019, 9, 1)
    first = registry_person(sex="F", born=born, street=world.home, father=father["pin"])
    second = registry_person(sex="M", born=born, street=world.elsewhere, father=father["pin"])
    for person in (father, first, second):
        world.registry.add_person(person)
    user = applicant_for_pin(pin=father["pin"], actor=SYSTEM)
    assert user.person is not None
    links = {
        link.child.pin: link
        for link in applicant_children_sync(applicant=user.person, actor=SYSTEM)
    }
    assert {link.relation for link in links.values()} == {Relation.FATHER}
    twin, child = links[first["pin"]].child, links[second["pin"]].child
    assert child.mother_pin == "" and child.father_pin == father["pin"]
    at = STAGE1 + dt.timedelta(seconds=5)
    token = token_issue(user=user, actor=SYSTEM)
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}

    def school_ids() -> set[int]:
        with clock.frozen(at):
            return set(
                schools_open_to_child(
                    campaign=world.campaign, child=child, applicant=user.person
                ).values_list("pk", flat=True)
            )

    assert world.school.pk not in school_ids()  # no twin registered there yet
    with clock.frozen(at):
        response = client.post(
            "/api/v1/applications",
            {"child": str(twin.pk), "school": str(world.school.pk), "language": "ky"},
            content_type="application/json",
            headers=headers,
        )
    assert response.status_code == 201, response.content
    assert response.json()["route"] == "microdistrict"
    assert world.school.pk in school_ids()
    Draft.objects.create(
        user=user,
        campaign=world.campaign,
        child=child,
        school=world.school,
        language="ky",
        route="twin",
        checked_at=clock.now(),
    )
    draft = fastpath.draft_facts(user=user, child_id=child.pk)
    assert draft is not None and draft.facts.twin_in_quota and not draft.facts.in_microdistrict
    with clock.frozen(at):
        submitted = client.post(
            f"/api/v1/drafts/{child.pk}/submit", content_type="application/json", headers=headers
        )
    assert submitted.status_code == 201, submitted.content
    assert (submitted.json()["route"], submitted.json()["above_quota"]) == ("twin", True)
    assert not Draft.objects.filter(child=child).exists()  # the fast path's statement ran
