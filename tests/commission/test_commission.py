"""§9, §26: the commission places a child; above quota when the pool is full."""

from __future__ import annotations

import datetime as dt

import pytest

from kattoo.accounts.models import Role
from kattoo.audit.models import AuditEvent
from kattoo.catalog.models import Ownership, School
from kattoo.commission.models import CommissionDecision
from kattoo.commission.services import UnregisteredChild, commission_child_link, commission_place
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import Application, Route, SeatPool
from kattoo.enrollment.selectors import applications_visible_to
from kattoo.notifications.models import Notification
from kattoo.people.models import ChildLink, Person
from kattoo.people.services import person_refresh

from ..conftest import SYSTEM, World
from ..factories import DistrictFactory, UserFactory, registry_person


def place(world: World, family, officer, number: str):
    return commission_place(
        campaign=world.campaign,
        officer=officer,
        child=family.child,
        applicant=family.parent.person,
        school=world.school,
        language="ky",
        number=number,
        decided_on=clock.today(),
        ground="over_age",
        documents_checked=True,
        actor=Actor(user=officer),
    )


def test_over_age_child_placed_in_a_free_seat_then_above_quota(world: World, at_stage2) -> None:
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    old = world.family(births=[dt.date(2018, 3, 3)])
    decision = place(world, old, officer, "КДД-12")
    assert decision.application.route == Route.COMMISSION and not decision.application.above_quota
    SeatPool.objects.filter(school=world.school, language="ky").update(taken=25)
    late = world.family(births=[dt.date(2018, 4, 4)])
    above = place(world, late, officer, "КДД-13")
    assert above.application.above_quota
    pool = SeatPool.objects.get(school=world.school, language="ky")
    assert (pool.capacity, pool.taken, pool.extra_seats) == (26, 26, 1)


def test_only_the_district_of_the_school(world: World, at_stage2) -> None:
    outsider = UserFactory(role=Role.DISTRICT, district=DistrictFactory())
    with pytest.raises(RuleViolation, match="not_found"):
        place(world, world.family(), outsider, "X-1")


def test_a_decision_number_is_recorded_once(world: World, at_stage2) -> None:
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    place(world, world.family(births=[dt.date(2018, 3, 3)]), officer, "КДД-1")
    with pytest.raises(RuleViolation, match="decision_number_taken"):
        place(world, world.family(births=[dt.date(2018, 4, 4)]), officer, " КДД-1 ")


def test_a_child_younger_than_the_window_is_refused(world: World, at_stage2) -> None:
    # §9: the commission places older children, never a child younger than the window.
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    young = world.family(births=[dt.date(2021, 1, 5)])
    with pytest.raises(RuleViolation, match="commission_child_too_young"):
        place(world, young, officer, "КДД-Y")
    assert not CommissionDecision.objects.exists()


def test_over_age_ground_needs_a_child_older_than_the_window(world: World, at_stage2) -> None:
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    in_window = world.family()
    with pytest.raises(RuleViolation, match="commission_not_over_age"):
        place(world, in_window, officer, "КДД-W")
    # the same child may be placed for another ground: a late registration (§26), once the
    # registration has ended
    with clock.frozen(clock.bishkek(2026, 9, 10, 12, 0)):
        decision = commission_place(
            campaign=world.campaign,
            officer=officer,
            child=in_window.child,
            applicant=in_window.parent.person,
            school=world.school,
            language="ky",
            number="КДД-L",
            decided_on=dt.date(2026, 9, 10),
            ground="late",
            documents_checked=False,
            actor=Actor(user=officer),
        )
    assert decision.application.route == Route.COMMISSION


@pytest.mark.parametrize("ownership", [Ownership.PRIVATE, Ownership.MIXED])
def test_never_into_a_school_that_does_not_take_part(
    world: World, at_stage2, ownership: str
) -> None:
    # §31: a private or mixed school takes part only when it opts in.
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    School.objects.filter(pk=world.school.pk).update(ownership=ownership, opted_in=False)
    world.school.refresh_from_db()
    with pytest.raises(RuleViolation, match="school_not_participating"):
        place(world, world.family(births=[dt.date(2018, 3, 3)]), officer, "КДД-P")
    School.objects.filter(pk=world.school.pk).update(opted_in=True)
    world.school.refresh_from_db()
    assert place(world, world.family(births=[dt.date(2018, 3, 3)]), officer, "КДД-P").pk


def test_the_placed_child_appears_in_the_parents_account_with_an_sms(
    world: World, at_stage2
) -> None:
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    family = world.family(births=[dt.date(2018, 3, 3)])
    decision = place(world, family, officer, "КДД-20")
    assert decision.application.user_id == officer.pk
    visible = applications_visible_to(family.parent)
    assert list(visible.values_list("pk", flat=True)) == [decision.application_id]
    sms = Notification.objects.get(event="commission_placed")
    assert sms.user_id == family.parent.pk
    assert "КДД-20" in sms.body


def unregistered_place(world: World, officer, applicant, number: str, **child):
    return commission_place(
        campaign=world.campaign,
        officer=officer,
        unregistered=UnregisteredChild(
            surname="Токтогулов",
            name="Алмаз",
            birth_date=child.get("birth_date", dt.date(2017, 11, 2)),
            sex="M",
            certificate_series="I-АН",
            certificate_number="123456",
        ),
        applicant=applicant,
        school=world.school,
        language="ky",
        number=number,
        decided_on=clock.today(),
        ground=child.get("ground", "no_documents"),
        documents_checked=True,
        actor=Actor(user=officer),
    )


def test_a_child_the_registry_does_not_know_is_placed_then_linked(world: World, at_stage2) -> None:
    # §9: no PIN yet — placed under a temporary identifier, linked to the PIN later.
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    family = world.family(births=[dt.date(2019, 5, 5)])
    parent = family.parent.person
    decision = unregistered_place(world, officer, parent, "КДД-30")
    assert decision.awaits_link and decision.temporary_id.startswith("0")
    assert len(decision.temporary_id) == 14
    provisional = decision.child
    assert (provisional.pin, provisional.surname) == (decision.temporary_id, "Токтогулов")
    assert provisional.birth_certificate_series == "I-АН"
    assert not provisional.xroad_id
    # in the parent's account at once, as their ward by the decision, and told by SMS
    assert ChildLink.objects.get(applicant=parent, child=provisional).relation == "representative"
    assert decision.application_id in set(
        applications_visible_to(family.parent).values_list("pk", flat=True)
    )
    assert Notification.objects.filter(event="commission_placed", user=family.parent).exists()

    # the registry now has the child
    record = registry_person(
        sex="M", born=dt.date(2017, 11, 2), mother=parent.pin, surname="Токтогулов"
    )
    world.registry.add_person(record)
    real = person_refresh(pin=record["pin"], actor=SYSTEM)
    linked = commission_child_link(
        decision=decision, officer=officer, child=real, actor=Actor(user=officer)
    )
    assert linked.linked_at is not None and not linked.awaits_link
    assert linked.child_id == real.pk
    assert Application.objects.get(pk=decision.application_id).child_id == real.pk
    assert ChildLink.objects.get(applicant=parent, child=real).relation == "mother"
    assert not Person.objects.filter(pin=decision.temporary_id).exists()
    assert AuditEvent.objects.filter(action="commission.child_link").count() == 1
    with pytest.raises(RuleViolation, match="commission_already_linked"):
        commission_child_link(
            decision=decision, officer=officer, child=real, actor=Actor(user=officer)
        )


def test_linking_refuses_a_child_that_does_not_match(world: World, at_stage2) -> None:
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    family = world.family(births=[dt.date(2018, 1, 1)])
    decision = unregistered_place(world, officer, family.parent.person, "КДД-31")
    with pytest.raises(RuleViolation, match="commission_child_mismatch"):
        commission_child_link(
            decision=decision, officer=officer, child=family.child, actor=Actor(user=officer)
        )
    outsider = UserFactory(role=Role.DISTRICT, district=DistrictFactory())
    with pytest.raises(RuleViolation, match="not_found"):
        commission_child_link(
            decision=decision, officer=outsider, child=family.child, actor=Actor(user=officer)
        )
    assert CommissionDecision.objects.get(pk=decision.pk).awaits_link


def test_an_unregistered_child_younger_than_the_window_is_refused(world: World, at_stage2) -> None:
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    family = world.family()
    with pytest.raises(RuleViolation, match="commission_child_too_young"):
        unregistered_place(
            world, officer, family.parent.person, "КДД-32", birth_date=dt.date(2021, 3, 1)
        )
    assert not Person.objects.filter(pin__startswith="0").exists()
