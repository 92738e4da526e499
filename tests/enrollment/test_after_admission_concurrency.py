"""Races on real PostgreSQL: withdrawals and transfers of admitted children running at the same
instant as registrations, waitlist joins, offers, accepts, declines and the sweep never overbook
a pool, never lose a freed seat, and offer each freed seat once, to the first in line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection  # noqa: F401  (read by the skipif condition)

from kattoo.accounts.models import Role
from kattoo.catalog.models import School
from kattoo.core.actors import Actor
from kattoo.enrollment.after_admission import application_transfer, application_withdraw
from kattoo.enrollment.models import ACTIVE_STATUSES, Application, SeatPool, Status
from kattoo.enrollment.services import application_admit, application_register
from kattoo.waitlist.models import EntryStatus, WaitlistEntry
from kattoo.waitlist.services import offer_accept, offer_decline, waitlist_sweep

from ..conftest import SYSTEM, Family, World, build_school
from ..factories import UserFactory
from ..waitlist.conftest import Town, shrink
from .test_concurrency import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="concurrency is proven on PostgreSQL"
    ),
]

SEATS = 6


def assert_consistent(pool: SeatPool) -> None:
    pool.refresh_from_db()
    offered = WaitlistEntry.objects.filter(pool=pool, status=EntryStatus.OFFERED).count()
    active = Application.objects.filter(pool=pool, status__in=ACTIVE_STATUSES).count()
    above = Application.objects.filter(
        pool=pool, status__in=ACTIVE_STATUSES, above_quota=True
    ).count()
    assert pool.held == offered
    assert pool.taken == active
    assert pool.taken + pool.held <= pool.capacity
    assert pool.extra_seats == above
    # Never lost: while children wait, no seat stays free.
    if WaitlistEntry.objects.filter(pool=pool, status=EntryStatus.WAITING).exists():
        assert pool.taken + pool.held == pool.capacity


def full_of_admissions(world: World) -> tuple[Town, list[Application]]:
    pool = shrink(world, SEATS)
    town = Town(world=world, pool=pool, holders=[])
    families = [world.family() for _ in range(SEATS)]
    town.holders = [town.register(f) for f in families]
    admitted = [application_admit(application=a, actor=SYSTEM) for a in town.holders]
    return town, admitted


def withdraw(application: Application) -> Callable[[], object]:
    def job() -> object:
        return application_withdraw(
            application=application, user=application.user, actor=Actor(user=application.user)
        )

    return job


def test_withdrawals_racing_registrations_and_joins_never_overbook(world: World, at_stage1) -> None:
    town, admitted = full_of_admissions(world)
    waiting = [town.join(world.family()) for _ in range(8)]
    newcomers = [world.family() for _ in range(10)]
    jobs: list[Callable[[], object]] = [withdraw(a) for a in admitted[:4]]
    # The same parent pressing twice: one wins, the other is refused.
    jobs.append(withdraw(admitted[0]))
    jobs += [(lambda f=f: town.register(f)) for f in newcomers]
    jobs += [(lambda f=f: town.join(f)) for f in [world.family() for _ in range(3)]]
    jobs += [waitlist_sweep, waitlist_sweep]
    outcomes = race(jobs)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert outcomes["invalid_status_transition"] == 1
    # Newcomers never jump the line: every freed seat is held for the first in line.
    assert outcomes["no_free_seats"] == 10
    offered = list(
        WaitlistEntry.objects.filter(pool=town.pool, status=EntryStatus.OFFERED).values_list(
            "pk", flat=True
        )
    )
    assert offered == [e.pk for e in waiting[:4]]
    assert Application.objects.filter(pool=town.pool, status=Status.WITHDRAWN).count() == 4
    assert_consistent(town.pool)


def test_withdrawals_and_transfers_racing_offers_never_overbook(world: World, at_stage1) -> None:
    town, admitted = full_of_admissions(world)
    neighbour = build_school(world.campaign, sizes=[("ky", 25)], street=world.elsewhere)
    School.objects.filter(pk=neighbour.pk).update(district=world.school.district)
    neighbour.refresh_from_db()
    officer = UserFactory(role=Role.DISTRICT, district=world.school.district)
    mover = world.family(street=world.elsewhere)
    incoming = application_admit(application=_register(world, mover, neighbour), actor=SYSTEM)
    for _ in range(10):
        town.join(world.family())
    for application in admitted[:2]:
        withdraw(application)()
    offers = list(WaitlistEntry.objects.filter(pool=town.pool, status=EntryStatus.OFFERED))
    assert len(offers) == 2

    def transfer(application: Application, school: School, number: str) -> Callable[[], object]:
        return lambda: application_transfer(
            application=application,
            officer=officer,
            school=school,
            language="ky",
            number=number,
            decided_on=dt.date(2026, 4, 1),
            actor=Actor(user=officer),
        )

    jobs: list[Callable[[], object]] = [
        lambda e=offers[0]: offer_accept(entry=e, user=e.user, actor=Actor(user=e.user)),
        lambda e=offers[1]: offer_decline(entry=e, actor=Actor(user=e.user)),
        withdraw(admitted[2]),
        withdraw(admitted[3]),
        # Out of the pool and into it (two pools locked, in opposite directions).
        transfer(admitted[4], neighbour, "T-1"),
        transfer(incoming, world.school, "T-2"),
        waitlist_sweep,
    ]
    jobs += [(lambda f=f: town.register(f)) for f in [world.family() for _ in range(6)]]
    outcomes = race(jobs)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert outcomes["no_free_seats"] == 6
    assert_consistent(town.pool)
    assert_consistent(SeatPool.objects.get(school=neighbour, language="ky"))
    town.pool.refresh_from_db()
    # Every freed seat was held for a waiting child at once, so the transfer in found none free
    # and came above the quota by its decision: one more seat, and every seat taken or held.
    assert town.pool.capacity == SEATS + 1
    assert town.pool.taken + town.pool.held == town.pool.capacity
    assert Application.objects.get(
        pool=town.pool, child=mover.child, status=Status.ADMITTED
    ).above_quota


def _register(world: World, family: Family, school: School) -> Application:
    return application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=school,
        language="ky",
        actor=Actor(user=family.parent),
    )
