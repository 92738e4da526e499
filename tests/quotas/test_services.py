"""Director changes, confirmation, the automatic lock, district approval, history (§11, §17)."""

from __future__ import annotations

import datetime as dt

import pytest

from kattoo.audit.models import AuditEvent
from kattoo.core import clock
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import SeatPool
from kattoo.quotas.models import ClassSet, QuotaEvent, QuotaStatus
from kattoo.quotas.selectors import QuotaState, quota_of, quota_state
from kattoo.quotas.services import (
    QuotaOperation,
    quota_approve,
    quota_change,
    quota_compute,
    quota_confirm,
)

from ..conftest import BEFORE, SYSTEM, build_school

AFTER_LOCK = clock.bishkek(2026, 3, 28, 0, 0)


@pytest.fixture
def quota(campaign):
    school = build_school(campaign, sizes=[("ky", 30), ("ru", 20)], first=["ky", "ru"])
    return quota_of(school.pk, campaign)


def pools(quota) -> dict[str, tuple[int, int]]:
    return {
        p.language: (p.quota_seats, p.capacity)
        for p in SeatPool.objects.filter(school=quota.school)
    }


def kinds(quota) -> list[str]:
    return list(
        QuotaEvent.objects.filter(quota=quota).order_by("id").values_list("kind", flat=True)
    )


def class_sets(quota) -> list[tuple[str, int]]:
    return list(
        ClassSet.objects.filter(quota=quota).order_by("number").values_list("language", "seats")
    )


def change(quota, *ops: QuotaOperation):
    with clock.frozen(BEFORE):
        return quota_change(quota=quota, operations=list(ops), actor=SYSTEM)


def violation(code: str = "quota_rule_violation"):
    return pytest.raises(RuleViolation, match=f"^{code}$")


def test_computed_quota_makes_pools(quota) -> None:
    assert class_sets(quota) == [("ky", 30), ("ru", 25)]
    assert pools(quota) == {"ky": (30, 30), "ru": (25, 25)}
    assert kinds(quota) == ["computed"]


def test_director_may_raise_add_kyrgyz_and_switch_to_kyrgyz(quota) -> None:
    change(quota, QuotaOperation("raise", class_set=1, seats=42))
    change(quota, QuotaOperation("add", seats=30))
    change(quota, QuotaOperation("to_kyrgyz", class_set=2))
    assert pools(quota) == {"ky": (42 + 30 + 25, 97), "ru": (0, 0)}
    assert kinds(quota) == ["computed", "changed", "changed", "changed"]
    assert AuditEvent.objects.filter(action="quota.changed", object_id=str(quota.pk)).count() == 3


@pytest.mark.parametrize(
    "op",
    [
        QuotaOperation("raise", class_set=1, seats=43),  # above 42
        QuotaOperation("raise", class_set=1, seats=26),  # lowering
        QuotaOperation("add", seats=30, language="ru"),  # only Kyrgyz may be added
        QuotaOperation("add", seats=20),  # below the class-size minimum
        QuotaOperation("to_kyrgyz", class_set=2, language="uz"),  # only towards Kyrgyz
        QuotaOperation("remove", class_set=1),  # a computed class-set cannot be removed
        QuotaOperation("raise", class_set=9, seats=30),  # no such class-set
        QuotaOperation("drop_everything"),
    ],
)
def test_forbidden_changes_change_nothing(quota, op: QuotaOperation) -> None:
    with violation():
        change(quota, QuotaOperation("raise", class_set=2, seats=40), op)
    assert class_sets(quota) == [("ky", 30), ("ru", 25)]
    assert pools(quota) == {"ky": (30, 30), "ru": (25, 25)}
    assert len(kinds(quota)) == 1


def test_a_class_set_added_by_the_school_may_be_removed(quota) -> None:
    change(quota, QuotaOperation("add", seats=30))
    change(quota, QuotaOperation("remove", class_set=3))
    assert pools(quota)["ky"] == (30, 30)


def test_changes_after_the_lock_are_refused_and_the_quota_counts_as_confirmed(quota) -> None:
    with clock.frozen(AFTER_LOCK - dt.timedelta(seconds=1)):
        assert quota_state(quota) == QuotaState.DRAFT
    with clock.frozen(AFTER_LOCK), violation("quota_locked"):
        quota_change(
            quota=quota, operations=[QuotaOperation("raise", class_set=1, seats=40)], actor=SYSTEM
        )
    with clock.frozen(AFTER_LOCK):
        assert quota_state(quota) == QuotaState.AUTO_CONFIRMED  # no job ran: derived from time
        with violation("quota_locked"):
            quota_confirm(quota=quota, actor=SYSTEM)
        with violation("quota_locked"):
            quota_compute(school=quota.school, campaign=quota.campaign, actor=SYSTEM)


def test_confirm_then_no_more_changes_and_district_approves(quota) -> None:
    with clock.frozen(BEFORE), violation("quota_not_locked"):
        quota_approve(quota=quota, actor=SYSTEM)
    with clock.frozen(BEFORE):
        quota_confirm(quota=quota, actor=SYSTEM)
    quota.refresh_from_db()
    assert quota.status == QuotaStatus.CONFIRMED and quota_state(quota) == QuotaState.CONFIRMED
    with violation("quota_locked"):
        change(quota, QuotaOperation("raise", class_set=1, seats=40))
    with clock.frozen(BEFORE):
        quota_approve(quota=quota, actor=SYSTEM)
    quota.refresh_from_db()
    assert quota.approved_at is not None
    assert kinds(quota) == ["computed", "confirmed", "approved"]


def test_kyrgyz_class_sets_never_fall_below_last_year(campaign) -> None:
    school = build_school(campaign, sizes=[("ky", 30), ("ky", 30)], first=["ky", "ky"])
    quota = quota_of(school.pk, campaign)
    assert quota.kyrgyz_floor == 2


def test_raising_seats_after_registrations_keeps_taken(quota, campaign) -> None:
    SeatPool.objects.filter(school=quota.school, language="ky").update(taken=10)
    change(quota, QuotaOperation("raise", class_set=1, seats=35))
    pool = SeatPool.objects.get(school=quota.school, language="ky")
    assert (pool.taken, pool.capacity) == (10, 35)
