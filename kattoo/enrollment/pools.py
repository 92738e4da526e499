"""Seat pools follow the quota: one per (school, language) that the class-sets offer."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from django.db.models import F

from .models import SeatPool

if TYPE_CHECKING:
    from kattoo.quotas.models import Quota


def pools_sync(*, quota: Quota) -> None:
    """Set each pool's quota seats to the sum of its language's class-sets. Extra (above-quota)
    seats and taken seats are untouched; a language no longer offered keeps its pool with zero
    quota seats so existing registrations stay valid."""
    seats: Counter[str] = Counter()
    for class_set in quota.class_sets.all():
        seats[class_set.language] += class_set.seats
    existing = {
        p.language: p
        for p in SeatPool.objects.select_for_update(no_key=True, of=("self",)).filter(
            campaign=quota.campaign_id, school=quota.school_id
        )
    }
    for language in set(seats) | set(existing):
        quota_seats = seats.get(language, 0)
        if language in existing:
            SeatPool.objects.filter(pk=existing[language].pk).update(
                quota_seats=quota_seats, capacity=quota_seats + F("extra_seats")
            )
        else:
            SeatPool.objects.create(
                campaign_id=quota.campaign_id,
                school_id=quota.school_id,
                language=language,
                quota_seats=quota_seats,
                capacity=quota_seats,
            )
