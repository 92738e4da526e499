"""Reads of the waitlist: numbers, what an offer means now, who sees which entries.

Expiry is derived from the time (ADR 0004): an offer past its deadline reads as expired at
once, whether or not the sweep has released its hold yet.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet

from kattoo.accounts.models import Role, User
from kattoo.campaigns.calendar import WorkCalendar
from kattoo.campaigns.models import Campaign
from kattoo.catalog.selectors import schools_visible_to
from kattoo.core import clock
from kattoo.core.clock import BISHKEK
from kattoo.enrollment.models import ACTIVE_STATUSES, Application
from kattoo.people.models import ChildLink

from .models import EntryStatus, WaitlistEntry, WaitlistTerms


def offer_working_days(campaign: Campaign) -> int:
    terms = WaitlistTerms.objects.filter(campaign=campaign).first()
    if terms is not None:
        return terms.offer_working_days
    default: int = WaitlistTerms._meta.get_field("offer_working_days").default
    return default


def offer_deadline(campaign: Campaign, offered_at: dt.datetime) -> dt.datetime:
    """The end (midnight, Asia/Bishkek) of the N-th working day after the day of the offer —
    so a parent always has N whole working days — and never after registration closes, when
    an accepted offer could no longer become a registration."""
    day = offered_at.astimezone(BISHKEK).date()
    calendar = WorkCalendar.load(weekend_days=campaign.weekend_days, around=day)
    last = calendar.add_working_days(day, offer_working_days(campaign))
    after = last + dt.timedelta(days=1)
    end = dt.datetime(after.year, after.month, after.day, tzinfo=BISHKEK)
    return min(end, campaign.registration_ends_at)


def effective_status(entry: WaitlistEntry, now: dt.datetime | None = None) -> str:
    if (
        entry.status == EntryStatus.OFFERED
        and entry.offer_expires_at is not None
        and (now or clock.now()) >= entry.offer_expires_at
    ):
        return EntryStatus.EXPIRED
    return entry.status


def _registered_elsewhere() -> Exists:
    """The child already holds an active registration in the entry's campaign: it has left
    the line in fact, so nobody behind it waits for it."""
    return Exists(
        Application.objects.filter(
            campaign_id=OuterRef("campaign_id"),
            child_id=OuterRef("child_id"),
            status__in=ACTIVE_STATUSES,
        )
    )


def waiting_in_order(pool_ids: Iterable[int]) -> QuerySet[WaitlistEntry]:
    """The waiting entries of these pools in the order they are served: order of joining."""
    return (
        WaitlistEntry.objects.filter(pool_id__in=list(pool_ids), status=EntryStatus.WAITING)
        .exclude(_registered_elsewhere())
        .order_by("pool_id", "id")
    )


def waiting_numbers(pool_ids: Iterable[int]) -> dict[int, int]:
    """Entry id → its number in its pool's waitlist (1 is served next). One query."""
    numbers: dict[int, int] = {}
    counters: dict[int, int] = defaultdict(int)
    for entry_id, pool_id in waiting_in_order(pool_ids).values_list("id", "pool_id"):
        counters[pool_id] += 1
        numbers[entry_id] = counters[pool_id]
    return numbers


@dataclass(slots=True)
class EntryView:
    """An entry as a parent or staff member reads it now."""

    entry: WaitlistEntry
    status: str
    number: int | None
    abilities: dict[str, bool] = field(default_factory=dict)


def entry_abilities(user: User, entry: WaitlistEntry, status: str) -> dict[str, bool]:
    """What the user may do with the entry now; the API sends it, the page shows the same
    buttons the server accepts."""
    parent = user.role == Role.APPLICANT
    return {
        "accept": parent and status == EntryStatus.OFFERED,
        "decline": parent and status == EntryStatus.OFFERED,
        "leave": parent and status == EntryStatus.WAITING,
    }


def entry_views(user: User, entries: Iterable[WaitlistEntry]) -> list[EntryView]:
    entries = list(entries)
    numbers = waiting_numbers({e.pool_id for e in entries if e.status == EntryStatus.WAITING})
    now = clock.now()
    views = []
    for entry in entries:
        status = effective_status(entry, now)
        views.append(
            EntryView(
                entry=entry,
                status=status,
                number=numbers.get(entry.pk) if status == EntryStatus.WAITING else None,
                abilities=entry_abilities(user, entry, status),
            )
        )
    return views


def entries_visible_to(user: User) -> QuerySet[WaitlistEntry]:
    """Applicants see the entries they made or made for their linked children; staff see the
    waitlists of the schools in their scope; the operator sees none (children's data)."""
    base = WaitlistEntry.objects.select_related("pool", "pool__school", "child")
    if user.role == Role.APPLICANT:
        if user.person_id is None:
            return base.none()
        child_ids = ChildLink.objects.filter(applicant_id=user.person_id).values("child_id")
        return base.filter(Q(user=user) | Q(child_id__in=child_ids))
    if user.role == Role.OPERATOR:
        return base.none()  # the technical operator sees quotas, never children (§7)
    return base.filter(pool__school__in=schools_visible_to(user))


def pool_waitlist(pool_ids: Iterable[int]) -> QuerySet[WaitlistEntry]:
    """The open part of pools' waitlists (offered and waiting), for the school's staff."""
    return (
        WaitlistEntry.objects.filter(
            pool_id__in=list(pool_ids),
            status__in=[EntryStatus.WAITING, EntryStatus.OFFERED],
        )
        .select_related("pool", "pool__school", "child")
        .order_by("pool_id", "id")
    )
