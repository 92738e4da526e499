"""Property test: random sequences of register / admit / cancel / withdraw / transfer (two schools
of one district, small pools, a waitlist) never break the pools' invariants: ``taken`` is the
number of active registrations, ``held`` the number of open offers, ``taken + held <=
capacity``, above-quota seats are exactly the extra capacity, one active registration per child,
and a freed seat is never left free while a child waits."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kattoo.accounts.models import Role
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import School
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.after_admission import application_transfer, application_withdraw
from kattoo.enrollment.models import ACTIVE_STATUSES, Application, SeatPool, Status
from kattoo.enrollment.services import (
    application_admit,
    application_cancel,
    application_register,
)
from kattoo.people.models import ChildLink, Relation
from kattoo.waitlist.models import EntryStatus, WaitlistEntry
from kattoo.waitlist.services import waitlist_join

from ..conftest import STAGE1, SYSTEM, build_school
from ..factories import PersonFactory, StreetFactory, UserFactory

EXPECTED = {
    "no_free_seats",
    "already_registered",
    "already_waiting",
    "waitlist_not_needed",
    "cancel_limit_reached",
    "invalid_status_transition",
    "transfer_same_school",
}
NOW = STAGE1 + dt.timedelta(hours=1)


class AfterAdmission(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.campaign = Campaign.objects.get(code="2026-2027")
        street = StreetFactory()
        self.schools = [
            build_school(self.campaign, sizes=[("ky", 20)], street=street) for _ in range(2)
        ]
        School.objects.filter(pk=self.schools[1].pk).update(district=self.schools[0].district)
        for school in self.schools:
            school.refresh_from_db()
        # Three seats each instead of the legal 25, so full pools and waitlists come often.
        SeatPool.objects.filter(school__in=self.schools).update(quota_seats=3, capacity=3)
        self.officer = UserFactory(role=Role.DISTRICT, district=self.schools[0].district)
        mother = PersonFactory(address_street_code=street.code, address_house="5")
        self.parent = UserFactory(username=mother.pin, person=mother)
        self.actor = Actor(user=self.parent)
        self.children = []
        for i in range(12):
            child = PersonFactory(
                birth_date=dt.date(2019, 1, 1) + dt.timedelta(days=i),
                mother_pin=mother.pin,
                address_street_code=street.code,
                address_house="5",
            )
            ChildLink.objects.create(
                applicant=mother, child=child, relation=Relation.MOTHER, verified_at=clock.now()
            )
            self.children.append(child)
        self.decisions = 0

    def _active(self, child: int) -> Application | None:
        return Application.objects.filter(
            child=self.children[child], status__in=ACTIVE_STATUSES
        ).first()

    def _try(self, step) -> None:
        try:
            with clock.frozen(NOW):
                step()
        except RuleViolation as exc:
            assert exc.code in EXPECTED, exc.code

    @rule(child=st.integers(0, 11), school=st.integers(0, 1))
    def register_or_wait(self, child: int, school: int) -> None:
        def step() -> None:
            kwargs = {
                "campaign": self.campaign,
                "user": self.parent,
                "child": self.children[child],
                "school": self.schools[school],
                "language": "ky",
                "actor": self.actor,
            }
            try:
                application_register(**kwargs)
            except RuleViolation as exc:
                if exc.code != "no_free_seats":
                    raise
                waitlist_join(**kwargs)

        self._try(step)

    @rule(
        child=st.integers(0, 11),
        action=st.sampled_from(["admit", "cancel", "withdraw", "transfer"]),
    )
    def act(self, child: int, action: str) -> None:
        application = self._active(child)
        if application is None:
            return

        def step() -> None:
            if action == "admit":
                application_admit(application=application, actor=SYSTEM)
            elif action == "cancel":
                application_cancel(application=application, actor=self.actor)
            elif action == "withdraw":
                application_withdraw(application=application, user=self.parent, actor=self.actor)
            else:
                self.decisions += 1
                target = self.schools[1 - self.schools.index(application.school)]
                application_transfer(
                    application=application,
                    officer=self.officer,
                    school=target,
                    language="ky",
                    number=str(self.decisions),
                    decided_on=dt.date(2026, 4, 1),
                    actor=Actor(user=self.officer),
                )

        self._try(step)

    @invariant()
    def pools_are_consistent(self) -> None:
        for pool in SeatPool.objects.filter(school__in=self.schools):
            active = Application.objects.filter(pool=pool, status__in=ACTIVE_STATUSES)
            offered = WaitlistEntry.objects.filter(pool=pool, status=EntryStatus.OFFERED)
            assert pool.taken == active.count()
            assert pool.held == offered.count()
            assert pool.taken + pool.held <= pool.capacity
            assert pool.capacity == pool.quota_seats + pool.extra_seats
            assert pool.extra_seats == active.filter(above_quota=True).count()
            if WaitlistEntry.objects.filter(pool=pool, status=EntryStatus.WAITING).exists():
                assert pool.taken + pool.held == pool.capacity

    @invariant()
    def one_active_per_child(self) -> None:
        assert not (
            Application.objects.filter(child__in=self.children, status__in=ACTIVE_STATUSES)
            .values("child")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .exists()
        )

    @invariant()
    def every_transfer_left_one_admission(self) -> None:
        # A transferred admission always has its successor, admitted or later ended itself.
        transferred = Application.objects.filter(
            child__in=self.children, status=Status.TRANSFERRED
        ).annotate(n=Count("transfer_out", filter=Q(transfer_out__isnull=False)))
        assert all(a.n == 1 for a in transferred)


AfterAdmission.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def test_after_admission_invariants(campaign) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(AfterAdmission, settings=AfterAdmission.TestCase.settings)
