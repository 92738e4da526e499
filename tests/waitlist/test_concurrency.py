"""Races on real PostgreSQL: a freed seat is offered once and never lost, and
``taken + held <= capacity`` holds while cancellations, joins, registrations, accepts and
declines of one pool run at the same instant."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection  # noqa: F401  (read by the skipif condition)

from kattoo.core.actors import Actor
from kattoo.enrollment.models import ACTIVE_STATUSES, Application, SeatPool
from kattoo.enrollment.services import application_cancel
from kattoo.waitlist.models import EntryStatus, WaitlistEntry
from kattoo.waitlist.services import offer_accept, offer_decline, waitlist_sweep

from ..enrollment.test_concurrency import race
from .conftest import Town, shrink

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
    assert pool.held == offered
    assert pool.taken == active
    assert pool.taken + pool.held <= pool.capacity
    # Never lost: while children wait, no seat stays free.
    if WaitlistEntry.objects.filter(pool=pool, status=EntryStatus.WAITING).exists():
        assert pool.taken + pool.held == pool.capacity


def test_freed_seats_go_once_each_to_the_first_in_line(world, at_stage1) -> None:
    pool = shrink(world, SEATS)
    town = Town(world=world, pool=pool, holders=[])
    town.holders = [town.register(world.family()) for _ in range(SEATS)]
    waiting = [town.join(world.family()) for _ in range(10)]
    newcomers = [world.family() for _ in range(10)]
    jobs: list[Callable[[], object]] = [
        (lambda a=a: application_cancel(application=a, actor=Actor(user=None)))
        for a in town.holders[:4]
    ]
    jobs += [(lambda f=f: town.register(f)) for f in newcomers]
    jobs += [(lambda f=f: town.join(f)) for f in [world.family() for _ in range(4)]]
    outcomes = race(jobs)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    # Newcomers never jump the line: the four freed seats are held for the first four.
    assert outcomes["no_free_seats"] == 10
    offered = list(
        WaitlistEntry.objects.filter(pool=pool, status=EntryStatus.OFFERED).values_list(
            "pk", flat=True
        )
    )
    assert offered == [e.pk for e in waiting[:4]]
    assert_consistent(pool)


def test_accepts_and_declines_race_without_double_offers(world, at_stage1) -> None:
    pool = shrink(world, SEATS)
    town = Town(world=world, pool=pool, holders=[])
    town.holders = [town.register(world.family()) for _ in range(SEATS)]
    waiting = [town.join(world.family()) for _ in range(12)]
    for application in town.holders[:4]:
        application_cancel(application=application, actor=Actor(user=None))
    offers = list(WaitlistEntry.objects.filter(pool=pool, status=EntryStatus.OFFERED))
    assert len(offers) == 4
    jobs: list[Callable[[], object]] = []
    for i, entry in enumerate(offers):
        if i % 2:
            jobs.append(lambda e=entry: offer_decline(entry=e, actor=Actor(user=e.user)))
        else:
            jobs.append(
                lambda e=entry: offer_accept(entry=e, user=e.user, actor=Actor(user=e.user))
            )
        # The same parent pressing twice: one wins, the other is refused.
        jobs.append(lambda e=entry: offer_decline(entry=e, actor=Actor(user=e.user)))
    jobs += [
        (lambda a=a: application_cancel(application=a, actor=Actor(user=None)))
        for a in town.holders[4:]
    ]
    jobs.append(waitlist_sweep)
    outcomes = race(jobs)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert outcomes["invalid_status_transition"] == 4
    assert_consistent(pool)
    pool.refresh_from_db()
    # Every freed seat is taken or held; children still wait, so none is free.
    assert pool.taken + pool.held == pool.capacity
    assert WaitlistEntry.objects.filter(pool=pool, status=EntryStatus.WAITING).exists()
    assert len(waiting) == 12
