"""Seat pools follow the quota: one per (school, language) that the class-sets offer. A seat
freed in a pool is announced to whoever listens (the waitlist)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from django.db.models import F

from kattoo.core.actors import Actor

from .models import SeatPool


# Told, inside the transaction, that a seat of a pool came free (a cancellation, a refusal, a
# withdrawal, a transfer): the waitlist offers it to the first child in line (ADR 0013). The
# waitlist builds on enrollment, so it signs itself up in WaitlistConfig.ready() rather than
# being imported from here.
class SeatFreedListener(Protocol):
    def __call__(self, pool_id: int, *, actor: Actor) -> object: ...


_seat_freed_listeners: list[SeatFreedListener] = []


def seat_freed_listen(listener: SeatFreedListener) -> None:
    if listener not in _seat_freed_listeners:
        _seat_freed_listeners.append(listener)


def seat_freed_announce(pool_id: int, *, actor: Actor) -> None:
    """A seat of the pool came free; call in the transaction that freed it."""
    for listener in _seat_freed_listeners:
        listener(pool_id, actor=actor)


def pools_sync(*, campaign_id: int, school_id: int, seats: Mapping[str, int]) -> None:
    """Set each pool's quota seats to its language's ``seats`` (the quota's class-sets, summed
    by quotas.services). Extra (above-quota) seats and taken seats are untouched; a language no
    longer offered keeps its pool with zero quota seats so existing registrations stay valid."""
    existing = {
        p.language: p
        for p in SeatPool.objects.select_for_update(no_key=True, of=("self",)).filter(
            campaign=campaign_id, school=school_id
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
                campaign_id=campaign_id,
                school_id=school_id,
                language=language,
                quota_seats=quota_seats,
                capacity=quota_seats,
            )
