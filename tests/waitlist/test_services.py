"""The waitlist of a full pool: join, numbers, offers of freed seats, accept, decline, expiry."""

from __future__ import annotations

import datetime as dt

import pytest

from kattoo.audit.models import AuditEvent
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import Status
from kattoo.enrollment.services import (
    application_admit,
    application_cancel,
    application_refuse,
    application_register,
)
from kattoo.notifications.models import Notification
from kattoo.waitlist.models import EntryStatus, WaitlistEntry, WaitlistTerms
from kattoo.waitlist.selectors import (
    effective_status,
    entry_views,
    offer_deadline,
    waiting_numbers,
)
from kattoo.waitlist.services import (
    offer_accept,
    offer_decline,
    waitlist_leave,
    waitlist_sweep,
)

from ..conftest import STAGE1, SYSTEM
from .conftest import Town, shrink

AFTER_DEADLINE = clock.bishkek(2026, 4, 4, 0, 1)  # an offer of Wed 2026-04-01 ends Fri night


def refused(code: str):
    return pytest.raises(RuleViolation, match=f"^{code}$")


def numbers(town: Town) -> list[int | None]:
    table = waiting_numbers([town.pool.pk])
    return [table.get(e.pk) for e in WaitlistEntry.objects.filter(pool=town.pool)]


def free_one(town: Town) -> None:
    application_cancel(application=town.holders[0], actor=Actor(user=None))


def test_join_is_refused_while_a_seat_is_free(world, at_stage1) -> None:
    town = Town(world=world, pool=shrink(world), holders=[])
    with refused("waitlist_not_needed"):
        town.join(world.family())
    assert not WaitlistEntry.objects.exists()


def test_a_full_pool_numbers_its_waitlist_in_the_order_of_joining(town: Town) -> None:
    entries = [town.join(town.world.family()) for _ in range(3)]
    assert numbers(town) == [1, 2, 3]
    audit = AuditEvent.objects.get(action="waitlist.join", object_id=str(entries[0].pk))
    assert audit.data["pool"] == town.pool.pk


def test_join_applies_the_rules_of_registration(town: Town) -> None:
    world = town.world
    stranger = world.family(street=world.elsewhere)
    with refused("not_in_microdistrict"):  # §27: stage 1 is the microdistrict's
        town.join(stranger)
    registered = world.family()
    application_register(
        campaign=world.campaign,
        user=registered.parent,
        child=registered.child,
        school=world.school,
        language="ru",
        actor=Actor(user=registered.parent),
    )
    with refused("already_registered"):  # ADR 0013: a child with a seat does not wait
        town.join(registered)
    assert not WaitlistEntry.objects.exists()


def test_a_child_waits_in_one_line_at_a_time(town: Town) -> None:
    family = town.world.family()
    town.join(family)
    with refused("already_waiting"):
        town.join(family)
    assert WaitlistEntry.objects.count() == 1


def test_a_freed_seat_is_held_for_the_first_in_line_and_the_others_move_up(town: Town) -> None:
    first = town.join(town.world.family())
    town.join(town.world.family()), town.join(town.world.family())
    free_one(town)
    first.refresh_from_db()
    assert first.status == EntryStatus.OFFERED
    assert first.offer_expires_at == offer_deadline(town.world.campaign, clock.now())
    pool = town.refreshed_pool()
    assert (pool.taken, pool.held, pool.free) == (1, 1, 0)
    assert numbers(town) == [None, 1, 2]
    assert Notification.objects.filter(event="waitlist_offer", user=first.user).exists()
    assert AuditEvent.objects.filter(action="waitlist.offer", object_id=str(first.pk)).exists()
    # The held seat is not free for anyone else.
    with refused("no_free_seats"):
        town.register(town.world.family())


def test_accepting_turns_the_hold_into_a_registration(town: Town) -> None:
    entry = town.join(town.world.family())
    free_one(town)
    application = offer_accept(entry=entry, user=entry.user, actor=Actor(user=entry.user))
    assert application.status == Status.REGISTERED and application.position == 3
    entry.refresh_from_db()
    assert entry.status == EntryStatus.ACCEPTED and entry.application_id == application.pk
    pool = town.refreshed_pool()
    assert (pool.taken, pool.held) == (2, 0)
    assert AuditEvent.objects.filter(
        action="application.register", object_id=str(application.pk)
    ).exists()


def test_declining_offers_the_seat_to_the_next(town: Town) -> None:
    first, second = town.join(town.world.family()), town.join(town.world.family())
    free_one(town)
    offer_decline(entry=first, actor=Actor(user=first.user))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (EntryStatus.DECLINED, EntryStatus.OFFERED)
    assert town.refreshed_pool().held == 1
    with refused("invalid_status_transition"):
        offer_accept(entry=first, user=first.user, actor=Actor(user=first.user))


def test_an_expired_offer_reads_as_expired_before_any_sweep(town: Town) -> None:
    first, second = town.join(town.world.family()), town.join(town.world.family())
    free_one(town)
    first.refresh_from_db()
    with clock.frozen(AFTER_DEADLINE):
        assert effective_status(first) == EntryStatus.EXPIRED
        view = entry_views(first.user, [first])[0]
        assert view.status == EntryStatus.EXPIRED and not view.abilities["accept"]
        with refused("offer_expired"):
            offer_accept(entry=first, user=first.user, actor=Actor(user=first.user))
        assert WaitlistEntry.objects.get(pk=first.pk).status == EntryStatus.OFFERED  # unchanged
        assert waitlist_sweep() == 2  # one expired, one offered
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (EntryStatus.EXPIRED, EntryStatus.OFFERED)
    assert town.refreshed_pool().held == 1
    assert AuditEvent.objects.filter(action="waitlist.expire", object_id=str(first.pk)).exists()


def test_the_sweep_gives_an_unclaimed_seat_back_when_nobody_waits(town: Town) -> None:
    entry = town.join(town.world.family())
    free_one(town)
    with clock.frozen(AFTER_DEADLINE):
        waitlist_sweep()
        assert waitlist_sweep() == 0  # repeating changes nothing
    entry.refresh_from_db()
    pool = town.refreshed_pool()
    assert entry.status == EntryStatus.EXPIRED
    assert (pool.taken, pool.held, pool.free) == (1, 0, 1)


def test_the_deadline_counts_working_days_of_the_calendar(town: Town) -> None:
    campaign = town.world.campaign
    # Wednesday → end of Friday.
    assert offer_deadline(campaign, STAGE1) == clock.bishkek(2026, 4, 4)
    # Friday → Monday, Tuesday 04-07 is a holiday (People's April Revolution Day) → Wednesday.
    assert offer_deadline(campaign, clock.bishkek(2026, 4, 3, 15)) == clock.bishkek(2026, 4, 9)
    WaitlistTerms.objects.create(campaign=campaign, offer_working_days=1)
    assert offer_deadline(campaign, STAGE1) == clock.bishkek(2026, 4, 3)
    # Never after the registration closes.
    late = campaign.registration_ends_at - dt.timedelta(hours=3)
    assert offer_deadline(campaign, late) == campaign.registration_ends_at


def test_leaving_moves_everyone_behind_up(town: Town) -> None:
    first, _second, _third = (town.join(town.world.family()) for _ in range(3))
    waitlist_leave(entry=first, actor=Actor(user=first.user))
    assert numbers(town) == [None, 1, 2]
    with refused("invalid_status_transition"):
        waitlist_leave(entry=first, actor=Actor(user=first.user))


def test_a_child_registered_elsewhere_meanwhile_is_passed_over(town: Town) -> None:
    world = town.world
    gone, next_in_line = world.family(), world.family()
    gone_entry, next_entry = town.join(gone), town.join(next_in_line)
    with clock.frozen(world.campaign.stage2_starts_at + dt.timedelta(hours=1)):
        application_register(
            campaign=world.campaign,
            user=gone.parent,
            child=gone.child,
            school=world.other_school,
            language="ky",
            actor=Actor(user=gone.parent),
        )
        assert waiting_numbers([town.pool.pk]) == {next_entry.pk: 1}
        free_one(town)
    gone_entry.refresh_from_db()
    next_entry.refresh_from_db()
    assert (gone_entry.status, next_entry.status) == (EntryStatus.LEFT, EntryStatus.OFFERED)


def test_a_refusal_by_the_school_frees_the_seat_for_the_line(town: Town) -> None:
    entry = town.join(town.world.family())
    application_refuse(
        application=town.holders[1], reason_code="other", reason="не келди", actor=SYSTEM
    )
    entry.refresh_from_db()
    assert entry.status == EntryStatus.OFFERED


def test_no_offer_after_registration_closes(town: Town) -> None:
    entry = town.join(town.world.family())
    with clock.frozen(town.world.campaign.registration_ends_at + dt.timedelta(minutes=1)):
        application_admit(application=town.holders[0], actor=SYSTEM)
        application_refuse(
            application=town.holders[1], reason_code="other", reason="x", actor=SYSTEM
        )
    entry.refresh_from_db()
    assert entry.status == EntryStatus.WAITING
    assert town.refreshed_pool().held == 0
