"""The one place the system asks what time it is.

Stage openings, the quota lock and appeal deadlines are all derived from the current time,
so tests (and a rehearsal) can move it: ``clock.frozen(at)`` pins it, nothing else does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import zoneinfo
from collections.abc import Iterator

from django.utils import timezone

BISHKEK = zoneinfo.ZoneInfo("Asia/Bishkek")

_frozen: dt.datetime | None = None
# Every freeze still open, oldest first. Freezes opened on several threads at once (a race test's
# workers) can close in any order: the clock is the latest one still open, never one already
# closed — so an early exit cannot leave a freeze behind for the rest of the process.
_open: list[tuple[object, dt.datetime]] = []
_lock = threading.Lock()


def now() -> dt.datetime:
    return _frozen if _frozen is not None else timezone.now()


def today() -> dt.date:
    return now().astimezone(BISHKEK).date()


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    global _frozen
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    token = object()
    with _lock:
        _open.append((token, at))
        _frozen = at
    try:
        yield
    finally:
        with _lock:
            _open[:] = [entry for entry in _open if entry[0] is not token]
            _frozen = _open[-1][1] if _open else None


def bishkek(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BISHKEK)


def bishkek_text(moment: dt.datetime) -> str:
    """A time as people in Kyrgyzstan read it, in any of the three languages."""
    return f"{moment.astimezone(BISHKEK):%Y-%m-%d %H:%M}"
