"""§9, §26: the commission places a child; above quota when the pool is full."""

from __future__ import annotations

import datetime as dt

import pytest

from kattoo.accounts.models import Role
from kattoo.commission.services import commission_place
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import Route, SeatPool

from ..conftest import World
from ..factories import DistrictFactory, UserFactory


def place(world: World, family, officer, number: str):
    return commission_place(
        campaign=world.campaign,
        officer=officer,
        child=family.child,
        applicant=family.parent.person,
        school=world.school,
        language="ky",
        number=number,
        decided_on=dt.date(2026, 9, 10),
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
