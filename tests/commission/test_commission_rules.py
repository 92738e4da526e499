"""§9, §26, §21: a commission placement's ground must fit the child's facts, and a legal
representative the decision names gets the decision as an accepted act, so can then act."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from kattoo.accounts.models import Role, User
from kattoo.accounts.services import applicant_for_pin
from kattoo.audit.models import AuditEvent
from kattoo.commission.models import CommissionDecision
from kattoo.commission.services import (
    UnregisteredChild,
    commission_child_check,
    commission_child_link,
    commission_place,
)
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment.abilities import application_abilities
from kattoo.enrollment.after_admission import application_withdraw
from kattoo.enrollment.models import Application, SeatPool, Status
from kattoo.enrollment.services import application_admit, application_cancel
from kattoo.notifications.models import Notification
from kattoo.people.models import ActKind, ActStatus, ChildLink, GuardianAct, Person
from kattoo.people.services import guardian_act_upload, person_refresh

from ..conftest import STAGE1, STAGE2, SYSTEM, World
from ..factories import UserFactory, registry_person

# 2026: registration ends 2026-08-31 00:00 Asia/Bishkek (the campaign's data).
AFTER_DEADLINE = clock.bishkek(2026, 9, 2, 11, 0)


@pytest.fixture
def officer(world: World) -> User:
    return UserFactory(role=Role.DISTRICT, district=world.school.district)


def place(world: World, officer: User, child: Person, applicant: Person, **kw):
    args = {
        "campaign": world.campaign,
        "officer": officer,
        "child": child,
        "applicant": applicant,
        "school": world.school,
        "language": "ky",
        "number": "КДД-1",
        "decided_on": clock.today(),
        "ground": "late",
        "documents_checked": True,
        "actor": Actor(user=officer),
        **kw,
    }
    return commission_place(**args)


# ---- the ground against the facts (§9, §26) ---------------------------------------------------


@pytest.mark.parametrize(
    ("at", "decided_on", "allowed"),
    [
        (STAGE1 + dt.timedelta(days=1), dt.date(2026, 4, 2), False),  # stage 1: not late
        (STAGE2 + dt.timedelta(days=1), dt.date(2026, 6, 2), False),  # stage 2: still open
        (clock.bishkek(2026, 8, 30, 23, 59), dt.date(2026, 8, 30), False),  # the last minute
        (AFTER_DEADLINE, dt.date(2026, 8, 30), False),  # decided before the deadline
        (clock.bishkek(2026, 8, 31, 0, 0), dt.date(2026, 8, 31), True),  # the first minute after
        (AFTER_DEADLINE, dt.date(2026, 9, 1), True),
    ],
)
def test_late_only_once_the_ordinary_registration_has_ended(
    world: World, at: dt.datetime, decided_on: dt.date, allowed: bool
) -> None:
    # §26: "late" is after the registration deadline of §27, by a decision taken after it.
    def check() -> None:
        commission_child_check(
            campaign=world.campaign,
            birth_date=dt.date(2019, 5, 5),
            ground="late",
            documents=True,
            decided_on=decided_on,
            now=at,
        )

    if allowed:
        check()
    else:
        with pytest.raises(RuleViolation, match="commission_not_late"):
            check()


def test_a_late_placement_during_stage_2_is_refused_and_nothing_changes(
    world: World, officer: User, at_stage2
) -> None:
    family = world.family()
    taken = SeatPool.objects.get(school=world.school, language="ky").taken
    with pytest.raises(RuleViolation, match="commission_not_late"):
        place(world, officer, family.child, family.parent.person)
    assert not CommissionDecision.objects.exists()
    assert not Application.objects.filter(child=family.child).exists()
    assert SeatPool.objects.get(school=world.school, language="ky").taken == taken
    assert not Notification.objects.filter(event="commission_placed").exists()


def test_a_late_placement_after_the_deadline(world: World, officer: User) -> None:
    family = world.family()
    with clock.frozen(AFTER_DEADLINE):
        decision = place(world, officer, family.child, family.parent.person)
    assert decision.ground == "late" and decision.application.status == Status.REGISTERED


def test_no_documents_needs_a_missing_document(world: World, officer: User, at_stage2) -> None:
    # §9: the registry holds the child's birth certificate and the mother's passport.
    family = world.family()
    with pytest.raises(RuleViolation, match="commission_documents_present"):
        place(world, officer, family.child, family.parent.person, ground="no_documents")
    assert not CommissionDecision.objects.exists()
    # a child whose birth certificate the registry does not hold
    Person.objects.filter(pk=family.child.pk).update(birth_certificate_number="")
    family.child.refresh_from_db()
    decision = place(world, officer, family.child, family.parent.person, ground="no_documents")
    assert decision.ground == "no_documents"


def test_over_age_is_born_before_the_windows_first_day(world: World, officer: User) -> None:
    # §9: the window's first day is inside it; the day before is over age.
    inside = world.family(births=[dt.date(2019, 1, 1)])
    with pytest.raises(RuleViolation, match="commission_not_over_age"):
        place(world, officer, inside.child, inside.parent.person, ground="over_age")
    older = world.family(births=[dt.date(2018, 12, 31)])
    decision = place(world, officer, older.child, older.parent.person, ground="over_age")
    assert decision.ground == "over_age"


# ---- the decision's date ------------------------------------------------------------------------

# 23:30 in Bishkek on 2026-09-01 is 17:30 UTC the same day; 00:30 on 2026-09-02 is still
# 2026-09-01 in UTC: "today" is Bishkek's.
LAST_HALF_HOUR = clock.bishkek(2026, 9, 1, 23, 30)
FIRST_HALF_HOUR = clock.bishkek(2026, 9, 2, 0, 30)


@pytest.mark.parametrize("registry_child", [True, False])
def test_a_decision_dated_after_today_is_refused_and_nothing_changes(
    world: World, officer: User, registry_child: bool
) -> None:
    """A decision is recorded after it is taken: dated tomorrow it is refused at its field,
    before any row is written — no placement, no provisional child, no link, no act (whose
    date would be the decision's), no audit row, no SMS."""
    family = world.family()
    aunt = aunt_of(world)
    assert aunt.person is not None
    taken = SeatPool.objects.get(school=world.school, language="ky").taken
    audited = AuditEvent.objects.count()
    people = Person.objects.count()
    links = ChildLink.objects.count()
    child_args: dict = (
        {"child": family.child, "ground": "late"}
        if registry_child
        else {
            "child": None,
            "unregistered": UnregisteredChild(
                surname="Токтогулов", name="Алмаз", birth_date=dt.date(2017, 11, 2), sex="M"
            ),
            "ground": "no_documents",
        }
    )
    with (
        clock.frozen(LAST_HALF_HOUR),
        translation.override("ru"),
        pytest.raises(FieldError) as refused,
    ):
        place(world, officer, applicant=aunt.person, decided_on=dt.date(2026, 9, 2), **child_args)
    assert (refused.value.field, refused.value.code) == ("decided_on", "in_future")
    # the transfer's message (enrollment.after_admission), in the officer's language
    assert refused.value.message == "Дата решения не может быть позже сегодняшней."
    assert not CommissionDecision.objects.exists()
    assert not Application.objects.exists()
    assert AuditEvent.objects.count() == audited
    assert (Person.objects.count(), ChildLink.objects.count()) == (people, links)
    assert not GuardianAct.objects.exists()
    assert SeatPool.objects.get(school=world.school, language="ky").taken == taken
    assert not Notification.objects.filter(event="commission_placed").exists()
    # the same decision once its day has come in Bishkek (still the day before in UTC)
    with clock.frozen(FIRST_HALF_HOUR):
        decision = place(
            world, officer, applicant=aunt.person, decided_on=dt.date(2026, 9, 2), **child_args
        )
    assert decision.decided_on == dt.date(2026, 9, 2)
    assert GuardianAct.objects.get().issued_on == dt.date(2026, 9, 2)


# ---- a legal representative named by the decision (§21) ---------------------------------------


def aunt_of(world: World) -> User:
    """A relative who is not a parent by the birth act: the decision names her."""
    record = registry_person(sex="F", born=dt.date(1984, 6, 6), surname="Токтогулова")
    world.registry.add_person(record)
    user = applicant_for_pin(pin=record["pin"], actor=SYSTEM)
    assert user.person is not None
    return user


def test_the_decision_is_the_representatives_accepted_act_and_she_can_cancel(
    world: World, officer: User
) -> None:
    family = world.family()
    aunt = aunt_of(world)
    assert aunt.person is not None
    with clock.frozen(AFTER_DEADLINE):
        decision = place(world, officer, family.child, aunt.person, number="КДД-7")
        link = ChildLink.objects.get(applicant=aunt.person, child=family.child)
        assert link.relation == "representative"
        act = GuardianAct.objects.get(link=link)
        assert (act.kind, act.number, act.issued_on) == (
            ActKind.COMMISSION,
            "КДД-7",
            decision.decided_on,
        )
        assert act.status == ActStatus.ACCEPTED and act.reviewed_at is not None
        assert not act.file
        event = AuditEvent.objects.get(action="commission.place")
        assert event.data["act"] == act.pk and event.actor_id == officer.pk
        # §21: with the act accepted, the representative may cancel the placement
        application = decision.application
        abilities = application_abilities(aunt, application)
        assert abilities.cancel and abilities.appeal
        application_cancel(application=application, actor=Actor(user=aunt))
    application.refresh_from_db()
    assert application.status == Status.CANCELLED


def test_the_representative_withdraws_an_admitted_placement(world: World, officer: User) -> None:
    family = world.family()
    aunt = aunt_of(world)
    assert aunt.person is not None
    with clock.frozen(AFTER_DEADLINE):
        decision = place(world, officer, family.child, aunt.person)
        application = application_admit(application=decision.application, actor=SYSTEM)
        assert application_abilities(aunt, application).withdraw
        application_withdraw(application=application, user=aunt, actor=Actor(user=aunt))
    application.refresh_from_db()
    assert application.status == Status.WITHDRAWN


def test_a_parent_gets_no_act_and_an_accepted_act_is_not_doubled(
    world: World, officer: User
) -> None:
    family = world.family()
    with clock.frozen(AFTER_DEADLINE):
        place(world, officer, family.child, family.parent.person)
    assert not GuardianAct.objects.exists()  # the mother by the birth act needs none
    second = world.family()
    aunt = aunt_of(world)
    assert aunt.person is not None
    link = ChildLink.objects.create(
        applicant=aunt.person, child=second.child, relation="representative", verified_at=STAGE1
    )
    GuardianAct.objects.create(
        link=link, kind=ActKind.COURT, status=ActStatus.ACCEPTED, uploaded_at=STAGE1
    )
    with clock.frozen(AFTER_DEADLINE):
        place(world, officer, second.child, aunt.person, number="КДД-2")
    assert list(GuardianAct.objects.values_list("kind", flat=True)) == [ActKind.COURT]


def test_the_act_follows_the_link_to_the_registrys_child(world: World, officer: User) -> None:
    aunt = aunt_of(world)
    assert aunt.person is not None
    with clock.frozen(STAGE2):
        decision = commission_place(
            campaign=world.campaign,
            officer=officer,
            unregistered=UnregisteredChild(
                surname="Токтогулов", name="Алмаз", birth_date=dt.date(2017, 11, 2), sex="M"
            ),
            applicant=aunt.person,
            school=world.school,
            language="ky",
            number="КДД-9",
            decided_on=dt.date(2026, 6, 1),
            ground="no_documents",
            documents_checked=True,
            actor=Actor(user=officer),
        )
        record = registry_person(sex="M", born=dt.date(2017, 11, 2), surname="Токтогулов")
        world.registry.add_person(record)
        real = person_refresh(pin=record["pin"], actor=SYSTEM)
        commission_child_link(
            decision=decision, officer=officer, child=real, actor=Actor(user=officer)
        )
    act = GuardianAct.objects.get()
    assert (act.link.child_id, act.link.applicant_id) == (real.pk, aunt.person.pk)
    assert act.status == ActStatus.ACCEPTED
    application = Application.objects.get(pk=decision.application_id)
    assert application_abilities(aunt, application).cancel


def test_a_representative_cannot_upload_a_commission_act(world: World) -> None:
    # §21: only a court act or an act of the social-development authority is uploaded.
    family = world.family()
    aunt = aunt_of(world)
    assert aunt.person is not None
    link = ChildLink.objects.create(
        applicant=aunt.person, child=family.child, relation="representative", verified_at=STAGE1
    )
    pdf = SimpleUploadedFile("act.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    with pytest.raises(FieldError):
        guardian_act_upload(
            link=link,
            kind="commission",
            number="1",
            issued_on=None,
            file=pdf,
            actor=Actor(user=aunt),
        )
    assert not GuardianAct.objects.exists()
