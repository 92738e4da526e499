"""Working-day arithmetic over the holiday calendar kept as data (§4.5, §17)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .models import CalendarDay


class WorkCalendar:
    def __init__(self, *, weekend_days: Iterable[int], overrides: dict[dt.date, bool]) -> None:
        self.weekend_days = frozenset(weekend_days)
        self.overrides = overrides

    @classmethod
    def load(cls, *, weekend_days: Iterable[int], around: dt.date) -> WorkCalendar:
        span = dt.timedelta(days=120)
        rows = CalendarDay.objects.filter(date__range=(around - span, around + span))
        return cls(weekend_days=weekend_days, overrides={r.date: r.is_working for r in rows})

    def is_working(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return day.weekday() not in self.weekend_days

    def working_days_before(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day strictly before ``day``."""
        if n < 1:
            raise ValueError("n must be at least 1")
        current, found = day, 0
        while found < n:
            current -= dt.timedelta(days=1)
            if self.is_working(current):
                found += 1
        return current

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day strictly after ``day``."""
        current, found = day, 0
        while found < n:
            current += dt.timedelta(days=1)
            if self.is_working(current):
                found += 1
        return current
