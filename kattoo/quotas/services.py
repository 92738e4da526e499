"""Quota writes (§11, §17): compute, change within the rules, confirm, approve.

Each keeps the pools in step (enrollment.pools) and writes a QuotaEvent and an audit row in
the same transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import ExistingClassSet, GradeKind, School
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.pools import pools_sync
from kattoo.waitlist.services import seats_freed_at_school

from .compute import STATE_LANGUAGE, ExistingSet, plan_quota
from .inputs import quota_inputs_fingerprint
from .models import ClassSet, ClassSetSource, Quota, QuotaEvent, QuotaStatus
from .selectors import quota_is_locked


def _pools_follow(quota: Quota) -> None:
    """Each language's pool gets the seats of that language's class-sets."""
    seats: Counter[str] = Counter()
    for class_set in quota.class_sets.all():
        seats[class_set.language] += class_set.seats
    pools_sync(campaign_id=quota.campaign_id, school_id=quota.school_id, seats=seats)


def _record(quota: Quota, *, kind: str, actor: Actor, data: dict[str, Any]) -> None:
    QuotaEvent.objects.create(
        quota=quota, at=clock.now(), actor_id=actor.user_id, kind=kind, data=data
    )
    audit_record(actor=actor, action=f"quota.{kind}", obj=quota, data=data)


def _snapshot(quota: Quota) -> list[dict[str, Any]]:
    return [
        {"number": c.number, "language": c.language, "seats": c.seats, "source": c.source}
        for c in quota.class_sets.order_by("number")
    ]


def quota_director_changed(quota: Quota) -> bool:
    """Whether the school changed the draft since it was computed: a class-set it added, or
    seats or a language that differ from what the computation gave (§11)."""
    return any(
        c.source == ClassSetSource.ADDED
        or c.seats != c.computed_seats
        or c.language != c.computed_language
        for c in quota.class_sets.all()
    )


@transaction.atomic
def quota_compute(*, school: School, campaign: Campaign, actor: Actor, reason: str = "") -> Quota:
    """Compute (or recompute, while still a draft before the lock) the school's quota from the
    actual class-sets (compute.py holds the rule).

    ``reason`` says why a draft is recomputed ("source_changed", "recompute_requested"); a
    recomputation is recorded as "recomputed", with the class-sets it replaced and whether the
    school had changed them."""
    quota = (
        Quota.objects.select_for_update(no_key=True, of=("self",))
        .filter(school=school, campaign=campaign)
        .first()
    )
    if quota is not None and (quota.status == QuotaStatus.CONFIRMED or quota_is_locked(quota)):
        raise RuleViolation("quota_locked")
    existing = list(
        ExistingClassSet.objects.filter(school=school, campaign=campaign).order_by(
            "grade", "letter", "id"
        )
    )
    fourth = [
        ExistingSet(e.language, e.size, e.letter) for e in existing if e.grade == GradeKind.FOURTH
    ]
    first = [
        ExistingSet(e.language, e.size, e.letter) for e in existing if e.grade == GradeKind.FIRST
    ]
    plan = plan_quota(
        fourth_grade=fourth,
        first_grade=first,
        low=campaign.class_size_min,
        high=campaign.class_size_max,
    )
    fingerprint = quota_inputs_fingerprint(existing=existing, campaign=campaign)
    now = clock.now()
    replaced: dict[str, Any] = {}
    if quota is None:
        quota = Quota.objects.create(
            school=school,
            campaign=campaign,
            computed_at=now,
            basis=plan.basis,
            kyrgyz_floor=plan.kyrgyz_floor,
            inputs_fingerprint=fingerprint,
        )
    else:
        replaced = {
            "reason": reason or "recompute_requested",
            "replaced": _snapshot(quota),
            "school_changes_replaced": quota_director_changed(quota),
        }
        quota.class_sets.all().delete()
        quota.computed_at, quota.basis, quota.kyrgyz_floor = now, plan.basis, plan.kyrgyz_floor
        quota.inputs_fingerprint = fingerprint
        quota.save(update_fields=["computed_at", "basis", "kyrgyz_floor", "inputs_fingerprint"])
    ClassSet.objects.bulk_create(
        ClassSet(
            quota=quota,
            number=i,
            language=p.language,
            seats=p.seats,
            source=p.source,
            source_label=p.source_label,
            source_size=p.source_size,
            computed_language=p.language,
            computed_seats=p.seats,
        )
        for i, p in enumerate(plan.class_sets, start=1)
    )
    _pools_follow(quota)
    _record(
        quota,
        kind="recomputed" if replaced else "computed",
        actor=actor,
        data={"basis": plan.basis, "class_sets": _snapshot(quota), **replaced},
    )
    return quota


@dataclass(frozen=True, slots=True)
class QuotaOperation:
    """One director change (§11): ``raise`` seats of a class-set, ``add`` a Kyrgyz class-set,
    ``to_kyrgyz`` a class-set's language, or ``remove`` a class-set the school added itself."""

    op: str
    class_set: int | None = None  # ClassSet.number
    seats: int | None = None
    language: str | None = None


def _violation(detail: str) -> RuleViolation:
    return RuleViolation("quota_rule_violation", detail=detail)


def _apply(
    quota: Quota, campaign: Campaign, operation: QuotaOperation, sets: dict[int, ClassSet]
) -> None:
    high, low = campaign.class_size_max, campaign.class_size_min
    if operation.op == "add":
        language = operation.language or STATE_LANGUAGE
        if language != STATE_LANGUAGE:
            raise _violation(
                _("Only class-sets taught in the state language (Kyrgyz) may be added.")
            )
        seats = operation.seats if operation.seats is not None else low
        if not low <= seats <= high:
            raise _violation(
                _("A class-set has from %(low)d to %(high)d seats.") % {"low": low, "high": high}
            )
        number = max(sets, default=0) + 1
        sets[number] = ClassSet.objects.create(
            quota=quota, number=number, language=language, seats=seats, source=ClassSetSource.ADDED
        )
        return
    target = sets.get(operation.class_set or -1)
    if target is None:
        raise _violation(_("There is no class-set with this number."))
    if operation.op == "raise":
        if operation.seats is None or operation.seats > high:
            raise _violation(
                _("Seats of a class-set may be raised up to %(high)d.") % {"high": high}
            )
        if operation.seats < target.seats:
            raise _violation(_("Seats of a class-set may only be raised."))
        target.seats = operation.seats
        target.save(update_fields=["seats"])
    elif operation.op == "to_kyrgyz":
        if (operation.language or STATE_LANGUAGE) != STATE_LANGUAGE:
            raise _violation(_("A class-set's language may only be changed to Kyrgyz."))
        target.language = STATE_LANGUAGE
        target.save(update_fields=["language"])
    elif operation.op == "remove":
        if target.source != ClassSetSource.ADDED:
            raise _violation(_("Only a class-set the school added itself may be removed."))
        target.delete()
        del sets[target.number]
    else:
        raise _violation(_("Unknown quota change."))


@transaction.atomic
def quota_change(*, quota: Quota, operations: list[QuotaOperation], actor: Actor) -> Quota:
    quota = (
        Quota.objects.select_for_update(no_key=True, of=("self",))
        .select_related("campaign")
        .get(pk=quota.pk)
    )
    if quota.status == QuotaStatus.CONFIRMED or quota_is_locked(quota):
        raise RuleViolation("quota_locked")
    before = _snapshot(quota)
    sets = {c.number: c for c in quota.class_sets.all()}
    for operation in operations:
        _apply(quota, quota.campaign, operation, sets)
    kyrgyz = sum(1 for c in sets.values() if c.language == STATE_LANGUAGE)
    if kyrgyz < quota.kyrgyz_floor:
        raise _violation(_("The number of Kyrgyz class-sets may not fall below last year's."))
    _pools_follow(quota)
    seats_freed_at_school(campaign_id=quota.campaign_id, school_id=quota.school_id, actor=actor)
    _record(
        quota,
        kind="changed",
        actor=actor,
        data={
            "operations": [_op_dict(o) for o in operations],
            "before": before,
            "after": _snapshot(quota),
        },
    )
    return quota


def _op_dict(operation: QuotaOperation) -> dict[str, Any]:
    return {k: getattr(operation, k) for k in ("op", "class_set", "seats", "language")}


@transaction.atomic
def quota_confirm(*, quota: Quota, actor: Actor) -> Quota:
    quota = (
        Quota.objects.select_for_update(no_key=True, of=("self",))
        .select_related("campaign")
        .get(pk=quota.pk)
    )
    if quota.status == QuotaStatus.CONFIRMED or quota_is_locked(quota):
        raise RuleViolation("quota_locked")
    quota.status, quota.confirmed_at, quota.confirmed_by_id = (
        QuotaStatus.CONFIRMED,
        clock.now(),
        actor.user_id,
    )
    quota.save(update_fields=["status", "confirmed_at", "confirmed_by"])
    _record(quota, kind="confirmed", actor=actor, data={"class_sets": _snapshot(quota)})
    return quota


@transaction.atomic
def quota_approve(*, quota: Quota, actor: Actor) -> Quota:
    """§17: the district approves a confirmed (or automatically confirmed) quota."""
    quota = (
        Quota.objects.select_for_update(no_key=True, of=("self",))
        .select_related("campaign")
        .get(pk=quota.pk)
    )
    if not quota_is_locked(quota):
        raise RuleViolation("quota_not_locked")
    if quota.approved_at is None:
        quota.approved_at, quota.approved_by_id = clock.now(), actor.user_id
        quota.save(update_fields=["approved_at", "approved_by"])
        _record(quota, kind="approved", actor=actor, data={"class_sets": _snapshot(quota)})
    return quota
