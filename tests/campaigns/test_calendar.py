"""Working days and the quota lock (§17), stages (§27) — all from campaign data."""

from __future__ import annotations

import datetime as dt

import pytest

from kattoo.campaigns.calendar import WorkCalendar
from kattoo.campaigns.models import CalendarDay
from kattoo.campaigns.selectors import Stage, campaign_quota_lock_at, campaign_stage
from kattoo.core.clock import bishkek


def test_2026_lock_is_the_end_of_friday_march_27(campaign) -> None:
    # Stage 1 is Wednesday 2026-04-01: Tue 31, Mon 30, (weekend), Fri 27 is the third working day.
    assert campaign_quota_lock_at(campaign) == bishkek(2026, 3, 28)


def test_a_holiday_moves_the_lock_earlier(campaign) -> None:
    CalendarDay.objects.create(date=dt.date(2026, 3, 30), name_en="decreed day off")
    assert campaign_quota_lock_at(campaign) == bishkek(2026, 3, 27)  # end of Thursday 26th


def test_a_working_saturday_counts(campaign) -> None:
    CalendarDay.objects.create(date=dt.date(2026, 3, 28), is_working=True, name_en="transfer")
    assert campaign_quota_lock_at(campaign) == bishkek(2026, 3, 29)


def test_the_2026_calendar_is_loaded(campaign) -> None:
    # Through the fixture: migration 0002 loads the campaign and its calendar, and the fixture
    # loads them again when a transactional test in the same process flushed the database.
    assert CalendarDay.objects.filter(
        date=dt.date(2026, 3, 23), is_working=False
    ).exists()  # Nooruz moved
    assert CalendarDay.objects.filter(date__year=2026).count() >= 12


@pytest.mark.parametrize(
    ("at", "stage"),
    [
        (bishkek(2026, 4, 1, 9, 59), Stage.BEFORE),
        (bishkek(2026, 4, 1, 10, 0), Stage.STAGE1),
        (bishkek(2026, 6, 1, 9, 59), Stage.STAGE1),
        (bishkek(2026, 6, 1, 10, 0), Stage.STAGE2),
        (bishkek(2026, 8, 31, 0, 0), Stage.CLOSED),
    ],
)
def test_stage_follows_the_clock(campaign, at: dt.datetime, stage: Stage) -> None:
    assert campaign_stage(campaign, at) == stage


def test_stage_boundaries_are_exact_in_utc(campaign) -> None:
    utc = dt.UTC
    assert campaign_stage(campaign, dt.datetime(2026, 4, 1, 3, 59, 59, tzinfo=utc)) == Stage.BEFORE
    assert campaign_stage(campaign, dt.datetime(2026, 4, 1, 4, 0, tzinfo=utc)) == Stage.STAGE1


def test_add_working_days_skips_weekends_and_holidays() -> None:
    calendar = WorkCalendar(weekend_days=[5, 6], overrides={dt.date(2026, 4, 7): False})
    # Friday 2026-04-03 + 3 working days: Mon 6, (Tue 7 holiday), Wed 8, Thu 9.
    assert calendar.add_working_days(dt.date(2026, 4, 3), 3) == dt.date(2026, 4, 9)
    with pytest.raises(ValueError):
        calendar.working_days_before(dt.date(2026, 4, 3), 0)
