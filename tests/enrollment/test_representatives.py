"""Legal representatives (§20, §21): the limit counts wards, not the person's own children;
a representative whose act is not accepted cannot cancel the registration a parent made."""

from __future__ import annotations

import datetime as dt

import pytest

from kattoo.accounts.models import Role, User
from kattoo.accounts.services import applicant_for_pin
from kattoo.commission.services import commission_place
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.abilities import application_abilities
from kattoo.enrollment.models import Application, Status
from kattoo.enrollment.services import application_cancel, application_register
from kattoo.people.models import ActKind, ActStatus, ChildLink, GuardianAct, Person, Relation
from kattoo.people.services import applicant_children_sync

from ..conftest import SYSTEM, World
from ..factories import UserFactory, registry_person


def refused(code: str):
    return pytest.raises(RuleViolation, match=f"^{code}$")


def register(world: World, user: User, child: Person) -> Application:
    return application_register(
        campaign=world.campaign,
        user=user,
        child=child,
        school=world.school,
        language="ky",
        actor=Actor(user=user),
    )


def accept_act(link: ChildLink, status: str = ActStatus.ACCEPTED) -> GuardianAct:
    return GuardianAct.objects.create(
        link=link, kind=ActKind.COURT, status=status, uploaded_at=clock.now()
    )


def test_an_aunt_with_two_children_of_her_own_may_register_her_orphaned_niece(
    world: World, at_stage1
) -> None:
    """§21 "a legal representative may register no more than two children": her own two
    registered children are not wards; the third ward is refused."""
    aunt = registry_person(sex="F", born=dt.date(1988, 1, 1), street=world.home)
    own = [
        registry_person(sex="M", born=born, street=world.home, mother=aunt["pin"])
        for born in (dt.date(2019, 2, 2), dt.date(2020, 3, 3))
    ]
    wards = [
        registry_person(sex="F", born=dt.date(2019, 4, 4 + i), street=world.home) for i in range(3)
    ]
    for person in (aunt, *own, *wards):
        world.registry.add_person(person)
    for ward in wards:
        world.registry.add_ward(aunt["pin"], ward["pin"])
    user = applicant_for_pin(pin=aunt["pin"], actor=SYSTEM)
    assert user.person is not None
    links = {
        link.child.pin: link
        for link in applicant_children_sync(applicant=user.person, actor=SYSTEM)
    }
    for kid in own:
        assert links[kid["pin"]].relation == Relation.MOTHER
        register(world, user, links[kid["pin"]].child)
    for ward in wards:
        accept_act(links[ward["pin"]])
    first, second, third = (links[w["pin"]].child for w in wards)
    assert register(world, user, first).status == Status.REGISTERED  # the orphaned niece
    assert register(world, user, second).status == Status.REGISTERED
    with refused("guardian_limit_reached"):
        register(world, user, third)


def test_a_ward_the_commission_placed_is_not_one_she_registered(world: World, at_stage1) -> None:
    """§21 "a legal representative may register no more than two children": a ward the
    district commission placed (§9, §26) is the commission's decision, not her registration,
    so she may still register two wards; the third is refused. A registration she cancelled
    still counts (§21 counts the children she registered, as before)."""
    aunt = registry_person(sex="F", born=dt.date(1988, 1, 1), street=world.home)
    over_age = registry_person(sex="M", born=dt.date(2018, 5, 5), street=world.home)
    wards = [
        registry_person(sex="F", born=dt.date(2019, 4, 4 + i), street=world.home) for i in range(3)
    ]
    for person in (aunt, over_age, *wards):
        world.registry.add_person(person)
    for ward in (over_age, *wards):
        world.registry.add_ward(aunt["pin"], ward["pin"])
    user = applicant_for_pin(pin=aunt["pin"], actor=SYSTEM)
    assert user.person is not None
    links = {
        link.child.pin: link
        for link in applicant_children_sync(applicant=user.person, actor=SYSTEM)
    }
    for link in links.values():
        accept_act(link)
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    placed = commission_place(
        campaign=world.campaign,
        officer=officer,
        child=links[over_age["pin"]].child,
        applicant=user.person,
        school=world.school,
        language="ky",
        number="КДД-3",
        decided_on=clock.today(),
        ground="over_age",
        documents_checked=True,
        actor=Actor(user=officer),
    )
    assert placed.application.applicant_id == user.person.pk
    first, second, third = (links[w["pin"]].child for w in wards)
    assert register(world, user, first).status == Status.REGISTERED
    second_application = register(world, user, second)  # the placement does not count
    assert second_application.status == Status.REGISTERED
    with refused("guardian_limit_reached"):  # two registrations do
        register(world, user, third)
    application_cancel(application=second_application, actor=Actor(user=user))
    with refused("guardian_limit_reached"):  # and a cancelled one still counts
        register(world, user, third)


@pytest.fixture
def shared_child(world: World):
    """A child registered by the mother; a relative is linked as legal representative too."""
    family = world.family()
    relative = registry_person(sex="F", born=dt.date(1975, 5, 5), street=world.home)
    world.registry.add_person(relative)
    world.registry.add_ward(relative["pin"], family.population[2]["pin"])
    user = applicant_for_pin(pin=relative["pin"], actor=SYSTEM)
    assert user.person is not None
    (link,) = applicant_children_sync(applicant=user.person, actor=SYSTEM)
    assert link.relation == Relation.REPRESENTATIVE and link.child == family.child
    return family, user, link


@pytest.mark.parametrize("act", [None, ActStatus.PENDING, ActStatus.REJECTED])
def test_a_representative_without_an_accepted_act_cannot_cancel_the_parents_registration(
    world: World, at_stage1, shared_child, act: str | None
) -> None:
    """§21 (and §18: the school checks the act): until the act is accepted, the
    representative can neither cancel nor change what the parent did."""
    family, relative, link = shared_child
    application = register(world, family.parent, family.child)
    if act:
        accept_act(link, act)
    abilities = application_abilities(relative, application)
    assert not abilities.cancel and abilities.cancel_refusal == "guardian_document_required"
    with refused("guardian_document_required"):
        application_cancel(application=application, actor=Actor(user=relative))
    assert Application.objects.get(pk=application.pk).status == Status.REGISTERED
    # The parent may, and so may the representative once the school accepts the act.
    assert application_abilities(family.parent, application).cancel


def test_a_representative_with_an_accepted_act_may_cancel(
    world: World, at_stage1, shared_child
) -> None:
    family, relative, link = shared_child
    application = register(world, family.parent, family.child)
    accept_act(link)
    assert application_abilities(relative, application).cancel
    cancelled = application_cancel(application=application, actor=Actor(user=relative))
    assert cancelled.status == Status.CANCELLED
