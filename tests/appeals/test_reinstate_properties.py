"""Property test: random sequences of register / refuse / file an appeal / reinstate / cancel /
join the waitlist (one small pool) never break the pool's invariants: ``taken`` is the number
of active registrations, ``held`` the number of open offers, ``taken + held <= capacity``,
one active registration per child, positions unique in the pool, and a reinstatement never
displaces anyone (it happens only into a free seat)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from kattoo.accounts.models import Role
from kattoo.appeals.models import Appeal, AppealStatus
from kattoo.appeals.services import appeal_file, appeal_reinstate
from kattoo.campaigns.models import Campaign
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import ACTIVE_STATUSES, Application, SeatPool, Status
from kattoo.enrollment.services import application_cancel, application_refuse, application_register
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
}
NOW = STAGE1 + dt.timedelta(hours=1)
REINSTATED: list[str] = []  # the runs' successful reinstatements: the rule is exercised


class Reinstatements(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.campaign = Campaign.objects.get(code="2026-2027")
        street = StreetFactory()
        self.school = build_school(self.campaign, sizes=[("ky", 20)], street=street)
        # Three seats instead of the legal 25, so a full pool and a waitlist come often.
        SeatPool.objects.filter(school=self.school).update(quota_seats=3, capacity=3)
        self.pool = SeatPool.objects.get(school=self.school)
        self.officer = UserFactory(role=Role.DISTRICT, district=self.school.district)
        mother = PersonFactory(address_street_code=street.code, address_house="5")
        self.parent = UserFactory(username=mother.pin, person=mother)
        self.actor = Actor(user=self.parent)
        self.children = []
        for i in range(8):
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

    @initialize()
    def one_refused(self) -> None:
        """A refusal to appeal against from the start, so reinstatements are tried early."""
        with clock.frozen(NOW):
            application = application_register(
                campaign=self.campaign,
                user=self.parent,
                child=self.children[0],
                school=self.school,
                language="ky",
                actor=self.actor,
            )
            application_refuse(
                application=application, reason_code="other", reason="x", actor=SYSTEM
            )

    def _try(self, step) -> None:
        try:
            with clock.frozen(NOW):
                step()
        except RuleViolation as exc:
            assert exc.code in EXPECTED, exc.code

    @rule(child=st.integers(0, 7), wait=st.booleans())
    def register_or_wait(self, child: int, wait: bool) -> None:
        def step() -> None:
            kwargs = {
                "campaign": self.campaign,
                "user": self.parent,
                "child": self.children[child],
                "school": self.school,
                "language": "ky",
                "actor": self.actor,
            }
            try:
                application_register(**kwargs)
            except RuleViolation as exc:
                if exc.code != "no_free_seats" or not wait:
                    raise
                waitlist_join(**kwargs)

        self._try(step)

    @rule(child=st.integers(0, 7), action=st.sampled_from(["refuse", "cancel"]))
    def end(self, child: int, action: str) -> None:
        application = Application.objects.filter(
            child=self.children[child], status__in=ACTIVE_STATUSES
        ).first()
        if application is None:
            return

        def step() -> None:
            if action == "refuse":
                application_refuse(
                    application=application, reason_code="other", reason="x", actor=SYSTEM
                )
            else:
                application_cancel(application=application, actor=self.actor)

        self._try(step)

    @rule(pick=st.integers(0, 50))
    def appeal_and_reinstate(self, pick: int) -> None:
        refused_now = list(
            Application.objects.filter(child__in=self.children, status=Status.REFUSED).order_by(
                "created_at", "pk"
            )
        )
        if not refused_now:
            return
        refused = refused_now[pick % len(refused_now)]
        free_before = SeatPool.objects.get(pk=self.pool.pk).free

        def step() -> None:
            appeal = appeal_file(
                campaign=self.campaign,
                user=self.parent,
                subject="refusal",
                text="The refusal was unlawful.",
                application=refused,
                actor=self.actor,
            )
            try:
                appeal_reinstate(appeal=appeal, actor=Actor(user=self.officer))
            except RuleViolation:
                assert Appeal.objects.get(pk=appeal.pk).status == AppealStatus.OPEN
                raise
            # only into a free seat: nobody is displaced
            assert free_before >= 1
            REINSTATED.append(str(refused.pk))

        self._try(step)

    @invariant()
    def pool_is_consistent(self) -> None:
        pool = SeatPool.objects.get(pk=self.pool.pk)
        active = Application.objects.filter(pool=pool, status__in=ACTIVE_STATUSES)
        offered = WaitlistEntry.objects.filter(pool=pool, status=EntryStatus.OFFERED)
        assert pool.taken == active.count()
        assert pool.held == offered.count()
        assert pool.taken + pool.held <= pool.capacity
        assert pool.capacity == pool.quota_seats + pool.extra_seats
        assert pool.extra_seats == active.filter(above_quota=True).count()

    @invariant()
    def one_active_per_child_and_unique_positions(self) -> None:
        assert not (
            Application.objects.filter(child__in=self.children, status__in=ACTIVE_STATUSES)
            .values("child")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .exists()
        )
        positions = list(
            Application.objects.filter(pool=self.pool).values_list("position", flat=True)
        )
        assert len(positions) == len(set(positions))


Reinstatements.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def test_reinstatement_invariants(campaign) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    REINSTATED.clear()
    run_state_machine_as_test(Reinstatements, settings=Reinstatements.TestCase.settings)
    assert REINSTATED
