"""The rules of registration, one by one (§8, §10, §20, §24, §25, §27)."""

from __future__ import annotations

import datetime as dt

import pytest

from kattoo.audit.models import AuditEvent
from kattoo.catalog.models import Ownership, Teacher
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import Application, ApplicationTransition, Route, SeatPool, Status
from kattoo.enrollment.services import (
    application_admit,
    application_cancel,
    application_refuse,
    application_register,
)
from kattoo.people.models import ActKind, ActStatus, ChildLink, GuardianAct, Person, Relation

from ..conftest import BEFORE, SYSTEM, World
from ..factories import registry_person


def register(world: World, family, *, child=None, school=None, language: str = "ky") -> Application:
    return application_register(
        campaign=world.campaign,
        user=family.parent,
        child=child or family.child,
        school=school or world.school,
        language=language,
        actor=Actor(user=family.parent),
    )


def pool(world: World, school=None, language: str = "ky") -> SeatPool:
    return SeatPool.objects.get(
        campaign=world.campaign, school=school or world.school, language=language
    )


def refused(code: str):
    return pytest.raises(RuleViolation, match=f"^{code}$")


def test_stage1_registration_takes_a_seat_with_route_and_position(world: World, at_stage1) -> None:
    family = world.family()
    application = register(world, family)
    assert application.status == Status.REGISTERED
    assert application.route == Route.MICRODISTRICT
    assert application.position == 1
    assert pool(world).taken == 1
    assert (
        ApplicationTransition.objects.filter(
            application=application, to_status="registered"
        ).count()
        == 1
    )
    audit = AuditEvent.objects.get(action="application.register", object_id=str(application.pk))
    assert audit.actor_id == family.parent.pk and audit.data["position"] == 1


def test_positions_follow_the_order_of_acceptance(world: World, at_stage1) -> None:
    first, second = world.family(), world.family()
    assert register(world, first).position == 1
    assert register(world, second).position == 2


def test_stage1_refuses_a_school_outside_the_microdistrict(world: World, at_stage1) -> None:
    family = world.family()
    with refused("not_in_microdistrict"):
        register(world, family, school=world.other_school)
    assert pool(world, world.other_school).taken == 0
    assert not Application.objects.exists()


def test_stage1_accepts_the_other_parents_address(world: World, at_stage1) -> None:
    family = world.family(street=world.elsewhere, father_street=world.home)
    assert register(world, family).route == Route.MICRODISTRICT


def test_stage2_opens_any_school_as_open_route(world: World, at_stage2) -> None:
    family = world.family()
    application = register(world, family, school=world.other_school)
    assert application.route == Route.OPEN


def test_before_stage1_registration_is_closed(world: World) -> None:
    family = world.family()
    with clock.frozen(BEFORE), refused("registration_closed"):
        register(world, family)


def test_after_registration_ends_it_is_closed(world: World) -> None:
    family = world.family()
    with (
        clock.frozen(world.campaign.registration_ends_at + dt.timedelta(seconds=1)),
        refused("registration_closed"),
    ):
        register(world, family)


@pytest.mark.parametrize("born", [dt.date(2018, 12, 31), dt.date(2021, 1, 1)])
def test_birth_window_is_enforced(world: World, at_stage1, born: dt.date) -> None:
    family = world.family(births=[born])
    with refused("outside_birth_window"):
        register(world, family)


def test_language_must_be_offered(world: World, at_stage1) -> None:
    family = world.family()
    with refused("language_not_offered"):
        register(world, family, language="uz")


def test_one_active_registration_per_child(world: World, at_stage2) -> None:
    family = world.family()
    register(world, family)
    with refused("already_registered"):
        register(world, family, school=world.other_school)
    assert pool(world, world.other_school).taken == 0


def test_the_applicant_must_be_the_childs_parent(world: World, at_stage1) -> None:
    family, stranger = world.family(), world.family()
    with refused("not_your_child"):
        register(world, stranger, child=family.child)


def test_full_pool_refuses_and_changes_nothing(world: World, at_stage1) -> None:
    SeatPool.objects.filter(pk=pool(world).pk).update(taken=25)
    family = world.family()
    with refused("no_free_seats"):
        register(world, family)
    assert pool(world).taken == 25
    assert not Application.objects.exists()
    assert not AuditEvent.objects.filter(action="application.register").exists()


def test_cancel_frees_the_seat_and_counts(world: World, at_stage1) -> None:
    family = world.family()
    application = register(world, family)
    application_cancel(application=application, actor=Actor(user=family.parent))
    application.refresh_from_db()
    assert application.status == Status.CANCELLED
    assert pool(world).taken == 0
    assert [t.to_status for t in application.transitions.all()] == ["registered", "cancelled"]


def test_the_third_cancellation_blocks_cancelling(world: World, at_stage1) -> None:
    family = world.family()
    for _ in range(3):
        application_cancel(application=register(world, family), actor=SYSTEM)
    last = register(world, family)  # §20: one more registration is allowed …
    with refused("cancel_limit_reached"):  # … and it cannot be cancelled
        application_cancel(application=last, actor=SYSTEM)
    assert pool(world).taken == 1
    assert pool(world).accepted_count == 4


def test_teacher_child_is_above_quota_even_when_full(world: World, at_stage1) -> None:
    family = world.family(street=world.elsewhere)
    assert family.parent.person is not None
    Teacher.objects.create(school=world.school, pin=family.parent.person.pin, added_at=clock.now())
    SeatPool.objects.filter(pk=pool(world).pk).update(taken=25)
    application = register(world, family)
    assert application.route == Route.TEACHER and application.above_quota
    p = pool(world)
    assert (p.capacity, p.taken, p.extra_seats, p.quota_seats) == (26, 26, 1, 25)
    application_cancel(application=application, actor=SYSTEM)
    p = pool(world)
    assert (p.capacity, p.taken, p.extra_seats) == (25, 25, 0)


def test_co_twin_is_admitted_above_quota(world: World, at_stage1) -> None:
    family = world.family(births=[dt.date(2019, 3, 3)] * 3)
    first = register(world, family, child=family.children[0])
    assert not first.above_quota
    SeatPool.objects.filter(pk=pool(world).pk).update(taken=25)  # the pool fills up
    second = register(world, family, child=family.children[1])
    third = register(world, family, child=family.children[2])
    assert second.route == third.route == Route.TWIN
    p = pool(world)
    assert (p.capacity, p.taken, p.extra_seats) == (27, 27, 2)


def test_twin_of_a_child_elsewhere_gets_no_extra_seat_here(world: World, at_stage2) -> None:
    family = world.family(births=[dt.date(2019, 3, 3)] * 2)
    register(world, family, child=family.children[0], school=world.other_school)
    assert register(world, family, child=family.children[1]).route == Route.MICRODISTRICT


@pytest.fixture
def representative(world: World):
    child_data = registry_person(sex="M", born=dt.date(2019, 10, 10), street=world.home)
    rep_data = registry_person(sex="F", born=dt.date(1970, 1, 1), street=world.home)
    for p in (child_data, rep_data):
        world.registry.add_person(p)
    world.registry.add_ward(rep_data["pin"], child_data["pin"])
    from kattoo.accounts.services import applicant_for_pin
    from kattoo.people.services import applicant_children_sync

    user = applicant_for_pin(pin=rep_data["pin"], actor=SYSTEM)
    assert user.person is not None
    links = applicant_children_sync(applicant=user.person, actor=SYSTEM)
    assert [link.relation for link in links] == [Relation.REPRESENTATIVE]
    return user, links[0]


def test_representative_needs_an_act_on_file_not_rejected(
    world: World, at_stage1, representative
) -> None:
    user, link = representative
    call = dict(
        campaign=world.campaign,
        user=user,
        child=link.child,
        school=world.school,
        language="ky",
        actor=SYSTEM,
    )
    with refused("guardian_document_required"):
        application_register(**call)
    GuardianAct.objects.create(
        link=link, kind=ActKind.COURT, status=ActStatus.REJECTED, uploaded_at=clock.now()
    )
    with refused("guardian_document_required"):
        application_register(**call)
    GuardianAct.objects.create(
        link=link, kind=ActKind.COURT, uploaded_at=clock.now()
    )  # waits for the school (§18)
    assert application_register(**call).status == Status.REGISTERED


def test_representative_registers_at_most_two_children(
    world: World, at_stage1, representative
) -> None:
    user, first_link = representative
    links = [first_link]
    for _ in range(2):
        kid = registry_person(sex="F", born=dt.date(2020, 2, 2), street=world.home)
        world.registry.add_person(kid)
        world.registry.add_ward(user.person.pin, kid["pin"])
    from kattoo.people.services import applicant_children_sync

    links = applicant_children_sync(applicant=user.person, actor=SYSTEM)
    assert len(links) == 3
    for link in links:
        GuardianAct.objects.create(
            link=link, kind=ActKind.SOCIAL, status=ActStatus.ACCEPTED, uploaded_at=clock.now()
        )
    for link in links[:2]:
        application_register(
            campaign=world.campaign,
            user=user,
            child=link.child,
            school=world.school,
            language="ky",
            actor=SYSTEM,
        )
    with refused("guardian_limit_reached"):
        application_register(
            campaign=world.campaign,
            user=user,
            child=links[2].child,
            school=world.school,
            language="ky",
            actor=SYSTEM,
        )


def test_non_participating_private_school_is_not_offered(world: World, at_stage2) -> None:
    world.other_school.ownership = Ownership.PRIVATE
    world.other_school.save()
    family = world.family()
    with refused("not_found"):
        register(world, family, school=world.other_school)


def test_admit_and_refuse_follow_the_state_machine(world: World, at_stage1) -> None:
    a, b = world.family(), world.family()
    admitted = application_admit(application=register(world, a), actor=SYSTEM)
    refused_app = application_refuse(
        application=register(world, b),
        reason_code="false_data",
        reason="wrong documents",
        actor=SYSTEM,
    )
    assert admitted.status == Status.ADMITTED and refused_app.status == Status.REFUSED
    assert pool(world).taken == 1
    with refused("invalid_status_transition"):
        application_cancel(application=admitted, actor=SYSTEM)
    with refused("invalid_status_transition"):
        application_admit(application=refused_app, actor=SYSTEM)


def test_child_link_relation_is_from_the_birth_act(world: World) -> None:
    family = world.family()
    assert {link.relation for link in ChildLink.objects.filter(applicant=family.parent.person)} == {
        Relation.MOTHER
    }


def test_without_identity_documents_only_the_commission_places_the_child(
    world: World, at_stage1
) -> None:
    family = world.family()

    Person.objects.filter(pk=family.parent.person.pk).update(passport_number="")
    family.parent.person.refresh_from_db()
    with refused("documents_missing"):
        register(world, family)
    Person.objects.filter(pk=family.parent.person.pk).update(passport_number="1234567")
    Person.objects.filter(pk=family.child.pk).update(birth_certificate_number="")
    family.parent.person.refresh_from_db()
    family.child.refresh_from_db()
    with refused("documents_missing"):
        register(world, family)
    assert not Application.objects.exists()


def test_refusals_say_when_the_next_stage_opens(world: World) -> None:
    family = world.family()
    with clock.frozen(BEFORE), pytest.raises(RuleViolation) as early:
        register(world, family)
    assert "2026-04-01 10:00" in early.value.detail
    with clock.frozen(clock.bishkek(2026, 4, 2, 9, 0)), pytest.raises(RuleViolation) as stage1:
        register(world, family, school=world.other_school)
    assert stage1.value.code == "not_in_microdistrict" and "2026-06-01 10:00" in stage1.value.detail
    with clock.frozen(clock.bishkek(2026, 9, 1, 9, 0)), pytest.raises(RuleViolation) as late:
        register(world, family)
    assert "2026-08-31 00:00" in late.value.detail
