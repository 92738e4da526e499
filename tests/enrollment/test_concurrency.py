"""Seat races on real PostgreSQL: the guarantees of allocation.py under contention.

Many threads, each with its own database connection, hit one pool at the same instant.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection, connections

from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import ACTIVE_STATUSES, Application, SeatPool
from kattoo.enrollment.services import application_cancel, application_register

from ..conftest import World

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="concurrency is proven on PostgreSQL"
    ),
]


def race(jobs: list[Callable[[], object]]) -> Counter[str]:
    """Run every job in its own thread, released together; count outcomes by error code."""
    barrier = threading.Barrier(len(jobs))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(job: Callable[[], object]) -> None:
        try:
            barrier.wait()
            job()
            result = "ok"
        except RuleViolation as exc:
            result = exc.code
        except Exception as exc:
            result = f"error:{type(exc).__name__}:{exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def assert_pool_consistent(pool: SeatPool) -> None:
    pool.refresh_from_db()
    active = Application.objects.filter(pool=pool, status__in=ACTIVE_STATUSES).count()
    assert pool.taken == active
    assert pool.taken <= pool.capacity
    positions = list(Application.objects.filter(pool=pool).values_list("position", flat=True))
    assert len(positions) == len(set(positions))


def test_exactly_capacity_registrations_win_a_race(world: World, at_stage1) -> None:
    pool = SeatPool.objects.get(school=world.school, language="ky")
    families = [world.family() for _ in range(pool.capacity + 15)]

    def job(family) -> Callable[[], object]:
        return lambda: application_register(
            campaign=world.campaign,
            user=family.parent,
            child=family.child,
            school=world.school,
            language="ky",
            actor=Actor(user=family.parent),
        )

    outcomes = race([job(f) for f in families])
    assert outcomes == Counter({"ok": pool.capacity, "no_free_seats": 15})
    assert_pool_consistent(pool)
    pool.refresh_from_db()
    assert pool.taken == pool.capacity == 25
    assert sorted(Application.objects.filter(pool=pool).values_list("position", flat=True)) == list(
        range(1, 26)
    )


def test_one_child_racing_itself_gets_one_seat(world: World, at_stage2) -> None:
    family = world.family()
    schools = [world.school, world.other_school] * 6

    def job(school) -> Callable[[], object]:
        return lambda: application_register(
            campaign=world.campaign,
            user=family.parent,
            child=family.child,
            school=school,
            language="ky",
            actor=Actor(user=family.parent),
        )

    outcomes = race([job(s) for s in schools])
    assert outcomes == Counter({"ok": 1, "already_registered": 11})
    assert Application.objects.filter(child=family.child, status__in=ACTIVE_STATUSES).count() == 1
    for pool in SeatPool.objects.filter(
        school__in=[world.school, world.other_school], language="ky"
    ):
        assert_pool_consistent(pool)


def test_cancellations_and_registrations_interleave_without_losing_seats(
    world: World, at_stage1
) -> None:
    pool = SeatPool.objects.get(school=world.school, language="ky")
    holders = [world.family() for _ in range(pool.capacity)]
    applications = [
        application_register(
            campaign=world.campaign,
            user=f.parent,
            child=f.child,
            school=world.school,
            language="ky",
            actor=Actor(user=f.parent),
        )
        for f in holders
    ]
    newcomers = [world.family() for _ in range(20)]
    jobs: list[Callable[[], object]] = [
        (lambda a=a: application_cancel(application=a, actor=Actor(user=None)))
        for a in applications[:10]
    ]
    jobs += [
        (
            lambda f=f: application_register(
                campaign=world.campaign,
                user=f.parent,
                child=f.child,
                school=world.school,
                language="ky",
                actor=Actor(user=f.parent),
            )
        )
        for f in newcomers
    ]
    outcomes = race(jobs)
    assert outcomes["ok"] >= 10, outcomes  # every cancellation succeeds
    assert not [k for k in outcomes if k.startswith("error")]
    assert_pool_consistent(pool)
    pool.refresh_from_db()
    # Seats freed by cancellations may go to newcomers, never beyond capacity.
    assert pool.taken <= pool.capacity
    assert connection.vendor == "postgresql"
