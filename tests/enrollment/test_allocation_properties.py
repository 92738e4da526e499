"""Property test: random sequences of register / cancel / admit / refuse never break the
allocation invariants (checked after every step, against the database)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import Teacher
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import ACTIVE_STATUSES, Application, SeatPool, Status
from kattoo.enrollment.services import (
    application_admit,
    application_cancel,
    application_refuse,
    application_register,
)
from kattoo.people.models import ChildLink, Relation

from ..conftest import STAGE1, build_school
from ..factories import MicrodistrictAddressFactory, PersonFactory, StreetFactory, UserFactory

EXPECTED_REFUSALS = {
    "no_free_seats",
    "already_registered",
    "cancel_limit_reached",
    "invalid_status_transition",
    "not_in_microdistrict",
    "language_not_offered",
}


class Allocation(RuleBasedStateMachine):
    applications = Bundle("applications")

    def __init__(self) -> None:
        super().__init__()
        self.campaign = Campaign.objects.get(code="2026-2027")
        street = StreetFactory()
        # Small pools (25 seats is the legal minimum) so "full" is reached often.
        self.schools = [
            build_school(self.campaign, sizes=[("ky", 20)], street=street),
            build_school(self.campaign, sizes=[("ky", 20), ("ru", 20)], street=street),
        ]
        MicrodistrictAddressFactory(school=self.schools[1], street=street)
        mother = PersonFactory(address_street_code=street.code, address_house="5")
        self.parent = UserFactory(username=mother.pin, person=mother)
        self.children = []
        for i in range(60):
            child = PersonFactory(
                birth_date=dt.date(2019, 1, 1) + dt.timedelta(days=i % 5),
                mother_pin=mother.pin,
                address_street_code=street.code,
                address_house="5",
            )
            ChildLink.objects.create(
                applicant=mother, child=child, relation=Relation.MOTHER, verified_at=clock.now()
            )
            self.children.append(child)
        self.actor = Actor(user=self.parent)

    @rule(
        target=applications,
        child=st.integers(0, 59),
        school=st.integers(0, 1),
        language=st.sampled_from(["ky", "ru"]),
    )
    def register(self, child: int, school: int, language: str):
        try:
            with clock.frozen(STAGE1 + dt.timedelta(hours=1)):
                return application_register(
                    campaign=self.campaign,
                    user=self.parent,
                    child=self.children[child],
                    school=self.schools[school],
                    language=language,
                    actor=self.actor,
                ).pk
        except RuleViolation as exc:
            assert exc.code in EXPECTED_REFUSALS, exc.code
            return None

    @rule()
    def become_teacher(self) -> None:
        Teacher.objects.get_or_create(
            school=self.schools[0], pin=self.parent.person.pin, defaults={"added_at": clock.now()}
        )

    @rule(application=applications, action=st.sampled_from(["cancel", "admit", "refuse"]))
    def act(self, application, action: str) -> None:
        if application is None:
            return
        app = Application.objects.get(pk=application)
        try:
            if action == "cancel":
                application_cancel(application=app, actor=self.actor)
            elif action == "admit":
                application_admit(application=app, actor=self.actor)
            else:
                application_refuse(
                    application=app, reason_code="other", reason="reason", actor=self.actor
                )
        except RuleViolation as exc:
            assert exc.code in EXPECTED_REFUSALS, exc.code

    @invariant()
    def pools_are_consistent(self) -> None:
        for pool in SeatPool.objects.filter(school__in=self.schools).annotate(
            active=Count("applications", filter=Q(applications__status__in=ACTIVE_STATUSES)),
            above=Count(
                "applications",
                filter=Q(applications__status__in=ACTIVE_STATUSES, applications__above_quota=True),
            ),
        ):
            assert pool.taken == pool.active
            assert pool.taken <= pool.capacity
            assert pool.capacity == pool.quota_seats + pool.extra_seats
            # §24/§25: above-quota seats raise capacity by exactly the number admitted.
            assert pool.extra_seats == pool.above
            assert pool.taken - pool.above <= pool.quota_seats

    @invariant()
    def one_active_per_child(self) -> None:
        counts = (
            Application.objects.filter(child__in=self.children, status__in=ACTIVE_STATUSES)
            .values("child")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
        )
        assert not counts.exists()

    @invariant()
    def cancellations_within_limit(self) -> None:
        over = (
            Application.objects.filter(child__in=self.children, status=Status.CANCELLED)
            .values("child")
            .annotate(n=Count("id"))
            .filter(n__gt=self.campaign.cancel_limit)
        )
        assert not over.exists()


Allocation.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def test_allocation_invariants(campaign) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(Allocation, settings=Allocation.TestCase.settings)
