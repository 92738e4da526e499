"""The waitlist entry's life: the declared table of allowed moves. This module is the only
place that writes ``WaitlistEntry.status``."""

from __future__ import annotations

from kattoo.core.errors import RuleViolation

from .models import EntryStatus, WaitlistEntry

TRANSITIONS: dict[str, frozenset[str]] = {
    EntryStatus.WAITING: frozenset({EntryStatus.OFFERED, EntryStatus.LEFT}),
    EntryStatus.OFFERED: frozenset(
        {EntryStatus.ACCEPTED, EntryStatus.DECLINED, EntryStatus.EXPIRED}
    ),
    EntryStatus.ACCEPTED: frozenset(),
    EntryStatus.DECLINED: frozenset(),
    EntryStatus.EXPIRED: frozenset(),
    EntryStatus.LEFT: frozenset(),
}


def move(entry: WaitlistEntry, target: EntryStatus, **fields: object) -> None:
    """Move the (pool-locked) entry to ``target``, with the fields that go with the move."""
    if target not in TRANSITIONS[entry.status]:
        raise RuleViolation("invalid_status_transition")
    WaitlistEntry.objects.filter(pk=entry.pk).update(status=target, **fields)
    entry.status = target
    for name, value in fields.items():
        setattr(entry, name, value)
