"""Races on real PostgreSQL: the district reinstating refused registrations at the same instant
as newcomers register for the last free seats, and an officer pressing twice, never overbook
the pool and decide each appeal once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection  # noqa: F401  (read by the skipif condition)

from kattoo.accounts.models import Role
from kattoo.appeals.models import Appeal, AppealStatus
from kattoo.appeals.services import appeal_file, appeal_reinstate
from kattoo.core.actors import Actor
from kattoo.enrollment.models import ACTIVE_STATUSES, Application, Status
from kattoo.enrollment.services import application_refuse
from kattoo.notifications.models import Notification

from ..conftest import SYSTEM, World
from ..enrollment.test_concurrency import race
from ..factories import UserFactory
from ..waitlist.conftest import Town, shrink

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="concurrency is proven on PostgreSQL"
    ),
]

SEATS = 4


def test_reinstatements_racing_registrations_never_overbook(world: World, at_stage1) -> None:
    pool = shrink(world, SEATS)
    town = Town(world=world, pool=pool, holders=[])
    families = [world.family() for _ in range(SEATS)]
    holders = [town.register(f) for f in families]
    appeals: list[Appeal] = []
    for family, application in zip(families[:3], holders[:3], strict=True):
        application_refuse(application=application, reason_code="other", reason="x", actor=SYSTEM)
        appeals.append(
            appeal_file(
                campaign=world.campaign,
                user=family.parent,
                subject="refusal",
                text="The refusal was unlawful.",
                application=application,
                actor=Actor(user=family.parent),
            )
        )
    officer = Actor(user=UserFactory(role=Role.DISTRICT, district=world.school.district))
    # Three seats are free now; three reinstatements (one pressed twice) and four newcomers race.
    jobs: list[Callable[[], object]] = [
        (lambda a=a: appeal_reinstate(appeal=a, actor=officer)) for a in appeals
    ]
    jobs.append(lambda: appeal_reinstate(appeal=appeals[0], actor=officer))
    jobs += [(lambda f=f: town.register(f)) for f in [world.family() for _ in range(4)]]
    outcomes = race(jobs)

    assert not [o for o in outcomes if o.startswith("error:")], outcomes
    pool.refresh_from_db()
    active = Application.objects.filter(pool=pool, status__in=ACTIVE_STATUSES).count()
    assert pool.taken == active == SEATS  # every seat taken, none twice
    assert outcomes["ok"] == 3  # three seats went to reinstatements or newcomers
    reinstated = Appeal.objects.filter(status=AppealStatus.ANSWERED).count()
    assert (
        Application.objects.filter(
            pk__in=[a.application_id for a in appeals], status=Status.REGISTERED
        ).count()
        == reinstated
    )
    # The double press decided once: one answer, one SMS per decided appeal.
    assert Notification.objects.filter(event="appeal_reinstated").count() == reinstated
    assert outcomes["invalid_status_transition"] + outcomes["no_free_seats"] >= 1
