"""Waitlist writes: join, the offer of a freed seat, accept, decline, leave, expiry.

Every write to a pool's waitlist holds that pool's row lock (``SELECT … FOR NO KEY UPDATE``,
the lock a registration's UPDATE takes too), so offers, registrations and holds of one pool
are serialised: a freed seat is offered once, to one child, and ``taken + held <= capacity``
holds (a CHECK constraint stands behind it). Lock order is always pool, then entry.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import translation

from kattoo.accounts.models import User
from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import Stage, campaign_stage
from kattoo.catalog.models import Language, School
from kattoo.catalog.selectors import localized_name
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.clock import bishkek_text
from kattoo.core.errors import RuleViolation
from kattoo.enrollment import services as enrollment_services
from kattoo.enrollment.eligibility import waitlist_needed
from kattoo.enrollment.models import ACTIVE_STATUSES, Application, SeatPool
from kattoo.notifications.services import notification_queue
from kattoo.people.models import Person

from .models import EntryStatus, WaitlistEntry
from .selectors import offer_deadline
from .states import move as _move
from .tasks import waitlist_sweep_task

ONE_ENTRY_CONSTRAINT = "one_active_waitlist_entry_per_child"


def _lock_pool(pool_id: int) -> SeatPool:
    return (
        SeatPool.objects.select_for_update(no_key=True, of=("self",))
        .select_related("campaign", "school")
        .get(pk=pool_id)
    )


def _lock_entry(entry: WaitlistEntry) -> tuple[SeatPool, WaitlistEntry]:
    pool = _lock_pool(entry.pool_id)
    locked = (
        WaitlistEntry.objects.select_for_update(no_key=True, of=("self",))
        .select_related("child", "user", "campaign")
        .get(pk=entry.pk)
    )
    return pool, locked


@transaction.atomic
def waitlist_join(
    *, campaign: Campaign, user: User, child: Person, school: School, language: str, actor: Actor
) -> WaitlistEntry:
    """Join the waitlist of a full pool. The child must be one the pool would accept now under
    every rule of registration (the same checks, ``registration_plan``) but for the seat."""
    now = clock.now()
    plan = enrollment_services.registration_plan(
        campaign=campaign,
        user=user,
        child=child,
        school=school,
        language=language,
        stage=campaign_stage(campaign, now),
    )
    pool = _lock_pool(plan.pool.pk)
    # The seats counted under the pool's lock, not the facts read before it.
    if not waitlist_needed(plan.decision, free_seats=pool.capacity - pool.taken - pool.held):
        raise RuleViolation("waitlist_not_needed")
    if WaitlistEntry.objects.filter(
        campaign=campaign, child=child, status__in=[EntryStatus.WAITING, EntryStatus.OFFERED]
    ).exists():
        raise RuleViolation("already_waiting")
    try:
        with transaction.atomic():
            entry = WaitlistEntry.objects.create(
                campaign=campaign,
                pool=pool,
                child=child,
                applicant=plan.applicant,
                user=user,
                joined_at=now,
            )
    except IntegrityError as exc:
        if ONE_ENTRY_CONSTRAINT in str(exc):
            raise RuleViolation("already_waiting") from exc
        raise
    audit_record(
        actor=actor,
        action="waitlist.join",
        obj=entry,
        data={"pool": pool.pk, "child": child.pk, "school": school.pk, "language": language},
    )
    return entry


@dataclass(frozen=True, slots=True)
class PoolRefresh:
    expired: int
    dropped: int
    offered: list[WaitlistEntry]


def _expire_overdue(pool: SeatPool, *, now: dt.datetime, actor: Actor) -> int:
    overdue = list(
        WaitlistEntry.objects.filter(
            pool=pool, status=EntryStatus.OFFERED, offer_expires_at__lte=now
        ).order_by("id")
    )
    for entry in overdue:
        _move(entry, EntryStatus.EXPIRED, closed_at=now)
        audit_record(
            actor=actor,
            action="waitlist.expire",
            obj=entry,
            data={"pool": pool.pk, "deadline": _iso(entry.offer_expires_at)},
        )
    if overdue:
        SeatPool.objects.filter(pk=pool.pk).update(held=F("held") - len(overdue))
        pool.held -= len(overdue)
    return len(overdue)


def _iso(moment: dt.datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def _notify_offer(entry: WaitlistEntry, pool: SeatPool) -> None:
    user = entry.user
    with translation.override(user.language):
        context = {
            "child": f"{entry.child.name} {entry.child.surname}",
            "school": localized_name(pool.school),
            "language": str(Language(pool.language).label),
            "until": bishkek_text(entry.offer_expires_at) if entry.offer_expires_at else "",
        }
    notification_queue(
        user=user, event="waitlist_offer", context=context, dedupe_key=f"waitlist_offer:{entry.pk}"
    )


def _schedule_sweep(entry: WaitlistEntry) -> None:
    """Where the task backend can run a task later, the sweep runs at the deadline; the
    ``waitlist_sweep`` timer covers backends that cannot (and a lost task)."""
    if entry.offer_expires_at is None or not waitlist_sweep_task.get_backend().supports_defer:
        return
    deferred = waitlist_sweep_task.using(run_after=entry.offer_expires_at)
    transaction.on_commit(functools.partial(deferred.enqueue))


@transaction.atomic
def _pool_refresh(pool_id: int, *, actor: Actor) -> PoolRefresh:
    pool = _lock_pool(pool_id)
    now = clock.now()
    expired = _expire_overdue(pool, now=now, actor=actor)
    offered: list[WaitlistEntry] = []
    dropped = 0
    # An offer can only become a registration while registration is open (§26, §27).
    if campaign_stage(pool.campaign, now) not in (Stage.STAGE1, Stage.STAGE2):
        return PoolRefresh(expired=expired, dropped=dropped, offered=offered)
    free = pool.capacity - pool.taken - pool.held
    while free > 0:
        entry = (
            WaitlistEntry.objects.filter(pool=pool, status=EntryStatus.WAITING)
            .select_related("child", "user")
            .order_by("id")
            .first()
        )
        if entry is None:
            break
        if Application.objects.filter(
            campaign_id=entry.campaign_id, child_id=entry.child_id, status__in=ACTIVE_STATUSES
        ).exists():
            # Registered elsewhere meanwhile: the child has left the line in fact.
            _move(entry, EntryStatus.LEFT, closed_at=now)
            audit_record(
                actor=actor,
                action="waitlist.leave",
                obj=entry,
                data={"pool": pool.pk, "reason": "registered_elsewhere"},
            )
            dropped += 1
            continue
        deadline = offer_deadline(pool.campaign, now)
        _move(entry, EntryStatus.OFFERED, offered_at=now, offer_expires_at=deadline)
        audit_record(
            actor=actor,
            action="waitlist.offer",
            obj=entry,
            data={"pool": pool.pk, "child": entry.child_id, "deadline": _iso(deadline)},
        )
        _notify_offer(entry, pool)
        _schedule_sweep(entry)
        offered.append(entry)
        free -= 1
    if offered:
        SeatPool.objects.filter(pk=pool.pk).update(held=F("held") + len(offered))
    return PoolRefresh(expired=expired, dropped=dropped, offered=offered)


def seat_freed(pool_id: int, *, actor: Actor) -> list[WaitlistEntry]:
    """A seat of the pool was freed (cancellation, refusal, more capacity): offer every free
    seat to the children first in line, holding it for them. Call inside the transaction that
    freed the seat; returns the offers made."""
    return _pool_refresh(pool_id, actor=actor).offered


def seats_freed_at_school(*, campaign_id: int, school_id: int, actor: Actor) -> None:
    """A quota change may add seats to any language of the school."""
    pools = SeatPool.objects.filter(campaign_id=campaign_id, school_id=school_id)
    for pool_id in pools.values_list("pk", flat=True):
        seat_freed(pool_id, actor=actor)


def _refuse_stale_offer(entry: WaitlistEntry) -> None:
    if entry.status != EntryStatus.OFFERED:
        raise RuleViolation("invalid_status_transition")
    assert entry.offer_expires_at is not None
    if clock.now() >= entry.offer_expires_at:
        raise RuleViolation("offer_expired")


@transaction.atomic
def offer_accept(*, entry: WaitlistEntry, user: User, actor: Actor) -> Application:
    """The parent takes the held seat: the hold is released and the seat taken by a
    registration through the enrollment path (every rule checked again), in one transaction."""
    pool, entry = _lock_entry(entry)
    _refuse_stale_offer(entry)
    SeatPool.objects.filter(pk=pool.pk).update(held=F("held") - 1)
    application = enrollment_services.application_register(
        campaign=entry.campaign,
        user=user,
        child=entry.child,
        school=pool.school,
        language=pool.language,
        actor=actor,
    )
    _move(entry, EntryStatus.ACCEPTED, closed_at=clock.now(), application=application)
    audit_record(
        actor=actor,
        action="waitlist.accept",
        obj=entry,
        data={"pool": pool.pk, "application": str(application.pk)},
    )
    # An above-quota route (§24, §25) raised the capacity instead of using the held seat.
    seat_freed(pool.pk, actor=actor)
    return application


@transaction.atomic
def offer_decline(*, entry: WaitlistEntry, actor: Actor) -> WaitlistEntry:
    """The parent gives the held seat up; it goes to the next child in line at once."""
    pool, entry = _lock_entry(entry)
    _refuse_stale_offer(entry)
    _move(entry, EntryStatus.DECLINED, closed_at=clock.now())
    SeatPool.objects.filter(pk=pool.pk).update(held=F("held") - 1)
    audit_record(actor=actor, action="waitlist.decline", obj=entry, data={"pool": pool.pk})
    seat_freed(pool.pk, actor=actor)
    return entry


@transaction.atomic
def waitlist_leave(*, entry: WaitlistEntry, actor: Actor) -> WaitlistEntry:
    """The parent leaves the line; everyone behind moves up one number."""
    pool, entry = _lock_entry(entry)
    if entry.status != EntryStatus.WAITING:
        raise RuleViolation("invalid_status_transition")
    _move(entry, EntryStatus.LEFT, closed_at=clock.now())
    audit_record(
        actor=actor, action="waitlist.leave", obj=entry, data={"pool": pool.pk, "reason": "parent"}
    )
    return entry


def waitlist_sweep(*, actor: Actor | None = None) -> int:
    """Release the holds of offers past their deadline and offer the seats on; also offer any
    free seat of a pool with children waiting (a freed seat is never lost). Each pool in its own
    transaction. Returns the number of entries changed."""
    actor = actor or Actor.system()
    now = clock.now()
    pool_ids = set(
        WaitlistEntry.objects.filter(
            status=EntryStatus.OFFERED, offer_expires_at__lte=now
        ).values_list("pool_id", flat=True)
    )
    pool_ids |= set(
        WaitlistEntry.objects.filter(
            status=EntryStatus.WAITING, pool__taken__lt=F("pool__capacity") - F("pool__held")
        ).values_list("pool_id", flat=True)
    )
    changed = 0
    for pool_id in sorted(pool_ids):
        refresh = _pool_refresh(pool_id, actor=actor)
        changed += refresh.expired + refresh.dropped + len(refresh.offered)
    return changed
