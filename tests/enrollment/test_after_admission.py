"""After admission: withdrawal by the family, transfer by a commission decision (§17), the
school's ПМПК proposal and the parent's answer (§18). Every end of an admission frees its seat to
the waitlist as a cancellation does, and the pool stays consistent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Count, Q

from kattoo.accounts.models import Role, User
from kattoo.audit.models import AuditEvent
from kattoo.catalog.models import School
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment.after_admission import (
    application_after_admission_abilities,
    application_transfer,
    application_withdraw,
    pmpk_proposal_answer,
    pmpk_proposals_visible_to,
    pmpk_propose,
    transfers_visible_to,
    withdrawals_visible_to,
)
from kattoo.enrollment.models import (
    ACTIVE_STATUSES,
    AdmissionTransfer,
    Application,
    PmpkAnswer,
    PmpkOutcome,
    SeatPool,
    Status,
)
from kattoo.enrollment.schoolwork import pmpk_outcome_record, pmpk_refer
from kattoo.enrollment.selectors import applications_visible_to
from kattoo.enrollment.services import (
    application_admit,
    application_cancellations,
    application_register,
)
from kattoo.notifications.models import Notification
from kattoo.waitlist.models import EntryStatus

from ..conftest import SYSTEM, Family, World, build_school
from ..factories import UserFactory
from ..waitlist.conftest import Town, shrink


def admit(world: World, family: Family, school: School | None = None) -> Application:
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=school or world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )
    return application_admit(application=application, actor=SYSTEM)


def pool_of(school: School, language: str = "ky") -> SeatPool:
    return SeatPool.objects.get(school=school, language=language)


def assert_pools_consistent() -> None:
    for pool in SeatPool.objects.annotate(
        active=Count(
            "applications", filter=Q(applications__status__in=ACTIVE_STATUSES), distinct=True
        ),
        above=Count(
            "applications",
            filter=Q(applications__status__in=ACTIVE_STATUSES, applications__above_quota=True),
            distinct=True,
        ),
        offered=Count(
            "waitlist_entries",
            filter=Q(waitlist_entries__status=EntryStatus.OFFERED),
            distinct=True,
        ),
    ):
        assert pool.taken == pool.active
        assert pool.held == pool.offered
        assert pool.taken + pool.held <= pool.capacity
        assert pool.extra_seats == pool.above


@pytest.fixture
def family(world: World) -> Family:
    return world.family()


@pytest.fixture
def admitted(world: World, family: Family, at_stage1) -> Application:
    return admit(world, family)


@pytest.fixture
def neighbour(world: World) -> School:
    """A second school of world.school's district (with its own Kyrgyz pool of 25)."""
    school = build_school(world.campaign, sizes=[("ky", 25)])
    School.objects.filter(pk=school.pk).update(district=world.school.district)
    school.refresh_from_db()
    return school


@pytest.fixture
def officer(world: World) -> User:
    return UserFactory(role=Role.DISTRICT, district=world.school.district)


@pytest.fixture
def director(world: World) -> Actor:
    return Actor(user=UserFactory(role=Role.SCHOOL, school=world.school))


def sms(user: User, event: str) -> list[Notification]:
    return list(Notification.objects.filter(user=user, event=event))


# ---- withdrawal ------------------------------------------------------------------------------


def test_a_family_withdraws_an_admitted_child_and_the_seat_is_freed(
    world: World, family: Family, admitted: Application
) -> None:
    parent = family.parent
    application_withdraw(
        application=admitted, user=parent, reason="We move to Osh.", actor=Actor(user=parent)
    )
    admitted.refresh_from_db()
    assert admitted.status == Status.WITHDRAWN
    last = admitted.transitions.last()
    assert (last.from_status, last.to_status, last.reason) == (
        "admitted",
        "withdrawn",
        "We move to Osh.",
    )
    assert pool_of(world.school).taken == 0
    # Not a cancellation (§20 counts those before admission).
    assert application_cancellations(campaign=world.campaign, child=family.child) == 0
    assert sms(parent, "application_withdrawn")
    assert AuditEvent.objects.filter(action="application.withdraw", object_id=str(admitted.pk))
    assert_pools_consistent()


def test_the_withdrawn_child_may_be_registered_again(
    world: World, family: Family, admitted: Application
) -> None:
    application_withdraw(application=admitted, user=family.parent, actor=Actor(user=family.parent))
    again = admit(world, family)
    assert again.status == Status.ADMITTED


def test_only_an_admission_is_withdrawn(world: World, family: Family, at_stage1) -> None:
    registered = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )
    with pytest.raises(RuleViolation, match="invalid_status_transition"):
        application_withdraw(
            application=registered, user=family.parent, actor=Actor(user=family.parent)
        )
    registered.refresh_from_db()
    assert registered.status == Status.REGISTERED


def test_only_the_childs_parent_withdraws(
    world: World, admitted: Application, director: Actor
) -> None:
    stranger = world.family(street=world.elsewhere).parent
    with pytest.raises(RuleViolation, match="not_found"):
        application_withdraw(application=admitted, user=stranger, actor=Actor(user=stranger))
    assert director.user is not None
    with pytest.raises(RuleViolation, match="forbidden"):
        application_withdraw(application=admitted, user=director.user, actor=director)
    admitted.refresh_from_db()
    assert admitted.status == Status.ADMITTED


def test_a_withdrawal_offers_the_seat_to_the_first_in_line(world: World, at_stage1) -> None:
    pool = shrink(world)
    town = Town(world=world, pool=pool, holders=[])
    families = [world.family() for _ in range(2)]
    holders = [admit(world, f) for f in families]
    first, second = town.join(world.family()), town.join(world.family())
    application_withdraw(
        application=holders[0], user=families[0].parent, actor=Actor(user=families[0].parent)
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (EntryStatus.OFFERED, EntryStatus.WAITING)
    pool.refresh_from_db()
    assert (pool.taken, pool.held, pool.capacity) == (1, 1, 2)
    assert_pools_consistent()


def test_the_abilities_say_who_may_do_what(
    world: World, family: Family, admitted: Application, officer: User, director: Actor
) -> None:
    assert application_after_admission_abilities(family.parent, admitted)["withdraw"]
    assert application_after_admission_abilities(officer, admitted)["transfer"]
    assert director.user is not None
    assert application_after_admission_abilities(director.user, admitted)["pmpk_propose"]
    other_officer = UserFactory(role=Role.DISTRICT, district=world.other_school.district)
    assert not application_after_admission_abilities(other_officer, admitted)["transfer"]


# ---- transfer by a commission decision -------------------------------------------------------


def transfer(application: Application, officer: User, school: School, number: str = "17"):
    return application_transfer(
        application=application,
        officer=officer,
        school=school,
        language="ky",
        number=number,
        decided_on=dt.date(2026, 4, 1),
        actor=Actor(user=officer),
    )


def test_the_district_transfers_an_admitted_child_by_a_decision(
    world: World, family: Family, admitted: Application, neighbour: School, officer: User
) -> None:
    record = transfer(admitted, officer, neighbour)
    admitted.refresh_from_db()
    new = record.to_application
    assert admitted.status == Status.TRANSFERRED
    assert "17" in admitted.transitions.last().reason
    assert (new.status, new.school_id, new.route, new.above_quota) == (
        Status.ADMITTED,
        neighbour.pk,
        "commission",
        False,
    )
    assert (new.user_id, new.applicant_id, new.child_id) == (
        admitted.user_id,
        admitted.applicant_id,
        admitted.child_id,
    )
    assert (pool_of(world.school).taken, pool_of(neighbour).taken) == (0, 1)
    # The new admission is in the parent's account, with the decision.
    assert applications_visible_to(family.parent).filter(pk=new.pk).exists()
    assert (record.number, record.decided_on) == ("17", dt.date(2026, 4, 1))
    assert sms(family.parent, "application_transferred")
    assert AuditEvent.objects.filter(action="application.transfer", object_id=str(record.pk))
    # The new registration is counted from the audit like every other (positions.py).
    assert AuditEvent.objects.filter(action="application.register", object_id=str(new.pk))
    assert list(transfers_visible_to(officer)) == [record]
    assert_pools_consistent()


def test_a_transfer_into_a_full_school_is_above_the_quota(
    world: World, admitted: Application, neighbour: School, officer: User
) -> None:
    SeatPool.objects.filter(school=neighbour).update(quota_seats=1, capacity=1)
    # Fill the neighbour's only seat with another child's transfer.
    other = transfer(admit(world, world.family()), officer, neighbour, number="16").to_application
    assert not other.above_quota
    record = transfer(admitted, officer, neighbour)
    pool = pool_of(neighbour)
    assert record.to_application.above_quota
    assert (pool.taken, pool.capacity, pool.extra_seats) == (2, 2, 1)
    assert_pools_consistent()


def test_a_transfer_frees_the_old_seat_to_the_waitlist(
    world: World, neighbour: School, officer: User, at_stage1
) -> None:
    pool = shrink(world)
    town = Town(world=world, pool=pool, holders=[])
    holders = [admit(world, world.family()) for _ in range(2)]
    waiting = town.join(world.family())
    transfer(holders[0], officer, neighbour)
    waiting.refresh_from_db()
    assert waiting.status == EntryStatus.OFFERED
    assert_pools_consistent()


def test_transfer_refusals(
    world: World, family: Family, admitted: Application, neighbour: School, officer: User
) -> None:
    other_officer = UserFactory(role=Role.DISTRICT, district=world.other_school.district)
    with pytest.raises(RuleViolation, match="not_found"):
        transfer(admitted, other_officer, world.other_school)
    with pytest.raises(RuleViolation, match="not_found"):
        transfer(admitted, officer, world.other_school)  # another district's school
    with pytest.raises(RuleViolation, match="transfer_same_school"):
        transfer(admitted, officer, world.school)
    with pytest.raises(RuleViolation, match="forbidden"):
        transfer(admitted, family.parent, neighbour)
    School.objects.filter(pk=neighbour.pk).update(ownership="private", opted_in=False)
    neighbour.refresh_from_db()
    assert not neighbour.participates
    with pytest.raises(RuleViolation, match="not_found"):  # §31
        transfer(admitted, officer, neighbour)
    School.objects.filter(pk=neighbour.pk).update(ownership="state")
    neighbour.refresh_from_db()
    with pytest.raises(FieldError):
        application_transfer(
            application=admitted,
            officer=officer,
            school=neighbour,
            language="ky",
            number="18",
            decided_on=dt.date(2027, 1, 1),
            actor=Actor(user=officer),
        )
    admitted.refresh_from_db()
    assert admitted.status == Status.ADMITTED
    assert not AdmissionTransfer.objects.exists()


def test_a_decision_number_names_one_transfer_and_only_admissions_move(
    world: World, admitted: Application, neighbour: School, officer: User
) -> None:
    record = transfer(admitted, officer, neighbour)
    with pytest.raises(RuleViolation, match="invalid_status_transition"):
        transfer(admitted, officer, neighbour, number="99")  # already transferred
    second = admit(world, world.family())
    with pytest.raises(RuleViolation, match="decision_number_taken"):
        transfer(second, officer, neighbour, number=record.number)
    second.refresh_from_db()
    assert second.status == Status.ADMITTED
    assert_pools_consistent()


# ---- §18: the ПМПК proposal ------------------------------------------------------------------


def concluded(application: Application, director: Actor, outcome: str) -> None:
    referral = pmpk_refer(application=application, note="ПМПК № 4", actor=director)
    pmpk_outcome_record(referral=referral, outcome=outcome, actor=director)


def test_a_proposal_rests_on_the_conclusion(admitted: Application, director: Actor) -> None:
    with pytest.raises(RuleViolation, match="pmpk_conclusion_required"):
        pmpk_propose(application=admitted, kind="continue_here", note="", actor=director)
    concluded(admitted, director, PmpkOutcome.STAYS)
    with pytest.raises(RuleViolation, match="pmpk_conclusion_required"):
        pmpk_propose(application=admitted, kind="special_school", note="", actor=director)
    with pytest.raises(FieldError):
        pmpk_propose(application=admitted, kind="elsewhere", note="", actor=director)
    proposal = pmpk_propose(
        application=admitted, kind="continue_here", note="With a tutor.", actor=director
    )
    assert proposal.is_pending


def test_the_parent_agrees_to_a_special_school_and_the_seat_is_freed(
    world: World, family: Family, admitted: Application, director: Actor, officer: User
) -> None:
    concluded(admitted, director, PmpkOutcome.SPECIAL_SCHOOL)
    proposal = pmpk_propose(
        application=admitted, kind="special_school", note="School No. 7", actor=director
    )
    assert sms(family.parent, "pmpk_proposed")
    with pytest.raises(RuleViolation, match="pmpk_proposal_pending"):
        pmpk_propose(application=admitted, kind="special_school", note="", actor=director)
    # Nothing changes until the parent answers.
    admitted.refresh_from_db()
    assert admitted.status == Status.ADMITTED
    answered = pmpk_proposal_answer(
        proposal=proposal, agree=True, user=family.parent, actor=Actor(user=family.parent)
    )
    assert answered.answer == PmpkAnswer.AGREED and answered.answered_at is not None
    admitted.refresh_from_db()
    assert admitted.status == Status.WITHDRAWN
    assert admitted.transitions.last().reason_code == "special_school"
    assert pool_of(world.school).taken == 0
    # The district sees the proposal and its answer; the parent and the school see it too.
    assert list(pmpk_proposals_visible_to(officer)) == [proposal]
    assert list(pmpk_proposals_visible_to(family.parent)) == [proposal]
    assert director.user is not None
    assert list(pmpk_proposals_visible_to(director.user)) == [proposal]
    assert list(withdrawals_visible_to(officer)) == [admitted]
    assert list(pmpk_proposals_visible_to(world.family().parent)) == []
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"pmpk.propose", "pmpk.answer"} <= actions
    with pytest.raises(RuleViolation, match="invalid_status_transition"):
        pmpk_proposal_answer(
            proposal=proposal, agree=False, user=family.parent, actor=Actor(user=family.parent)
        )
    assert_pools_consistent()


@pytest.mark.parametrize(
    ("outcome", "kind", "agree"),
    [
        (PmpkOutcome.SPECIAL_SCHOOL, "special_school", False),
        (PmpkOutcome.SPECIAL_SCHOOL, "continue_here", True),
        (PmpkOutcome.STAYS, "continue_here", False),
    ],
)
def test_the_admission_stays_unless_the_parent_agrees_to_a_special_school(
    world: World,
    family: Family,
    admitted: Application,
    director: Actor,
    outcome: str,
    kind: str,
    agree: bool,
) -> None:
    concluded(admitted, director, outcome)
    proposal = pmpk_propose(application=admitted, kind=kind, note="", actor=director)
    answered = pmpk_proposal_answer(
        proposal=proposal, agree=agree, user=family.parent, actor=Actor(user=family.parent)
    )
    assert answered.answer == (PmpkAnswer.AGREED if agree else PmpkAnswer.DECLINED)
    admitted.refresh_from_db()
    assert admitted.status == Status.ADMITTED
    assert pool_of(world.school).taken == 1
    # A new proposal may follow an answered one.
    assert pmpk_propose(application=admitted, kind="continue_here", note="", actor=director)


def test_only_the_parent_answers_and_only_the_school_proposes(
    world: World, admitted: Application, director: Actor
) -> None:
    concluded(admitted, director, PmpkOutcome.SPECIAL_SCHOOL)
    other_director = Actor(user=UserFactory(role=Role.SCHOOL, school=world.other_school))
    with pytest.raises(RuleViolation, match="forbidden"):
        pmpk_propose(application=admitted, kind="special_school", note="", actor=other_director)
    proposal = pmpk_propose(application=admitted, kind="special_school", note="", actor=director)
    stranger = world.family(street=world.elsewhere).parent
    with pytest.raises(RuleViolation, match="not_found"):
        pmpk_proposal_answer(
            proposal=proposal, agree=True, user=stranger, actor=Actor(user=stranger)
        )
    assert director.user is not None
    with pytest.raises(RuleViolation, match="forbidden"):
        pmpk_proposal_answer(proposal=proposal, agree=True, user=director.user, actor=director)
    proposal.refresh_from_db()
    assert proposal.is_pending


def test_a_representative_without_an_accepted_act_does_not_withdraw(
    world: World, admitted: Application
) -> None:
    from kattoo.core import clock
    from kattoo.people.models import ActStatus, ChildLink, GuardianAct, Relation

    from ..factories import PersonFactory

    # §21: a representative whose act is not accepted cannot change the parent's registration.
    aunt = PersonFactory()
    user = UserFactory(username=aunt.pin, person=aunt)
    link = ChildLink.objects.create(
        applicant=aunt,
        child=admitted.child,
        relation=Relation.REPRESENTATIVE,
        verified_at=clock.now(),
    )
    act = GuardianAct.objects.create(link=link, kind="court", number="5", uploaded_at=clock.now())
    with pytest.raises(RuleViolation, match="guardian_document_required"):
        application_withdraw(application=admitted, user=user, actor=Actor(user=user))
    GuardianAct.objects.filter(pk=act.pk).update(status=ActStatus.ACCEPTED)
    application_withdraw(application=admitted, user=user, actor=Actor(user=user))
    admitted.refresh_from_db()
    assert admitted.status == Status.WITHDRAWN
