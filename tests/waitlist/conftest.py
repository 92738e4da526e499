from __future__ import annotations

from dataclasses import dataclass

import pytest

from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application, SeatPool
from kattoo.enrollment.services import application_register
from kattoo.waitlist.models import WaitlistEntry
from kattoo.waitlist.services import waitlist_join

from ..conftest import Family, World

SEATS = 2


@dataclass
class Town:
    """The world's Kyrgyz pool made small (two seats) and filled."""

    world: World
    pool: SeatPool
    holders: list[Application]

    def register(self, family: Family) -> Application:
        return application_register(
            campaign=self.world.campaign,
            user=family.parent,
            child=family.child,
            school=self.world.school,
            language="ky",
            actor=Actor(user=family.parent),
        )

    def join(self, family: Family) -> WaitlistEntry:
        return waitlist_join(
            campaign=self.world.campaign,
            user=family.parent,
            child=family.child,
            school=self.world.school,
            language="ky",
            actor=Actor(user=family.parent),
        )

    def refreshed_pool(self) -> SeatPool:
        self.pool.refresh_from_db()
        return self.pool


def shrink(world: World, seats: int = SEATS) -> SeatPool:
    """Two seats instead of the legal minimum of 25, so a test fills the pool in two steps."""
    pool = SeatPool.objects.get(campaign=world.campaign, school=world.school, language="ky")
    SeatPool.objects.filter(pk=pool.pk).update(quota_seats=seats, capacity=seats)
    pool.refresh_from_db()
    return pool


@pytest.fixture
def town(world: World, at_stage1) -> Town:
    pool = shrink(world)
    town = Town(world=world, pool=pool, holders=[])
    town.holders = [town.register(world.family()) for _ in range(SEATS)]
    return town
