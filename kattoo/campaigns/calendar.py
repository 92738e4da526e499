"""Working-day arithmetic over the holiday calendar kept as data (§4.5, §17).

The calendar answers for any date of any year: the overrides of a year (CalendarDay rows) are
read the first time a date of that year is asked about (ADR 0016). An appeal filed in August,
a waitlist offer in June and the quota lock in March all see the ministry's calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from .models import CalendarDay


class WorkCalendar:
    def __init__(
        self,
        *,
        weekend_days: Iterable[int],
        overrides: Mapping[dt.date, bool] | None = None,
    ) -> None:
        """``overrides`` given: the calendar is exactly that (no database); omitted: the
        overrides are read from CalendarDay year by year, when first needed."""
        self.weekend_days = frozenset(weekend_days)
        self.overrides: dict[dt.date, bool] = dict(overrides or {})
        self._from_database = overrides is None
        self._years_loaded: set[int] = set()

    @classmethod
    def load(cls, *, weekend_days: Iterable[int], around: dt.date | None = None) -> WorkCalendar:
        """The calendar of the database; ``around`` only reads that date's year at once."""
        calendar = cls(weekend_days=weekend_days)
        if around is not None:
            calendar._year(around.year)
        return calendar

    def _year(self, year: int) -> None:
        if not self._from_database or year in self._years_loaded:
            return
        rows = CalendarDay.objects.filter(date__year=year).values_list("date", "is_working")
        self.overrides.update(dict(rows))
        self._years_loaded.add(year)

    def is_working(self, day: dt.date) -> bool:
        self._year(day.year)
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
