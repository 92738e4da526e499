"""A period of the audit viewer is read between its own lowest and highest ids (selectors
``_ids_of_period``): the same events as the date filter alone, pages included, whatever the
ids' order in time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from kattoo.audit.models import AuditEvent
from kattoo.audit_viewer.selectors import AuditFilter, _ids_of_period, audit_events, audit_page
from kattoo.core import clock

START = clock.bishkek(2026, 1, 1, 9, 0)
DAYS = 60


@pytest.fixture
def season(db) -> list[AuditEvent]:
    """Ten events a day for sixty days, in time order, then one written today with a time in
    the past (as the demo writes its history) and one of today; the table analysed."""
    rows = [
        AuditEvent(
            at=START + dt.timedelta(days=day, minutes=7 * i),
            channel="system",
            action="person.refresh" if i % 2 else "application.register",
            object_type="people.person",
            object_id=str(day * 10 + i),
        )
        for day in range(DAYS)
        for i in range(10)
    ]
    rows.append(
        AuditEvent(at=START + dt.timedelta(days=20, hours=5), channel="cli", action="quota.compute")
    )
    rows.append(AuditEvent(at=START + dt.timedelta(days=DAYS + 30), channel="web", action="x"))
    AuditEvent.objects.bulk_create(rows)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE audit_auditevent")
    return list(AuditEvent.objects.order_by("pk"))


def _expected(events: list[AuditEvent], since: dt.date | None, until: dt.date | None) -> list[int]:
    def inside(e: AuditEvent) -> bool:
        day = e.at.astimezone(clock.BISHKEK).date()
        return (since is None or day >= since) and (until is None or day <= until)

    return sorted((e.pk for e in events if inside(e)), reverse=True)


def _all_pages(f: AuditFilter, size: int = 7) -> list[int]:
    events = audit_events(f)
    seen: list[int] = []
    before = None
    while True:
        rows, before = audit_page(events, before=before, limit=size)
        seen.extend(e.pk for e in rows)
        if before is None:
            return seen


DAY0 = START.date()
PERIODS = [
    (DAY0 + dt.timedelta(days=20), DAY0 + dt.timedelta(days=20)),  # one day, the late one in it
    (DAY0 + dt.timedelta(days=3), DAY0 + dt.timedelta(days=5)),  # far in the past
    (DAY0 + dt.timedelta(days=55), None),  # since: the last days and today's
    (None, DAY0 + dt.timedelta(days=2)),  # until: the first days
    (DAY0 + dt.timedelta(days=200), None),  # nothing
    (None, DAY0 - dt.timedelta(days=1)),  # nothing
    (DAY0, None),  # everything
]


@pytest.mark.parametrize(("since", "until"), PERIODS)
def test_a_period_reads_the_same_events_page_after_page(season, since, until) -> None:
    f = AuditFilter(since=since, until=until)
    assert _all_pages(f) == _expected(season, since, until)
    quota = {e.pk for e in season if e.action == "quota.compute"}
    assert _all_pages(AuditFilter(since=since, until=until, action="quota.compute")) == [
        pk for pk in _expected(season, since, until) if pk in quota
    ]


@pytest.mark.postgres
def test_a_narrow_period_is_bounded_by_its_own_ids_and_a_broad_one_is_not(season) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the bounds are PostgreSQL's (the BRIN, the planner's estimate)")
    day = clock.bishkek(2026, 1, 21)
    late = next(e for e in season if e.action == "quota.compute")
    bounds = _ids_of_period(day, day + dt.timedelta(days=1))
    # The day's ten events and the one written last with the day's time: all inside.
    assert bounds.children == [("pk__gte", season[200].pk), ("pk__lte", late.pk)]
    # A broad period is left to the walk; one without events reads nothing.
    assert not _ids_of_period(clock.bishkek(2026, 1, 2), None)
    assert _ids_of_period(clock.bishkek(2027, 1, 1), None).children == [("pk__in", [])]


def test_without_postgresql_nothing_is_added(season) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's case")
    assert not _ids_of_period(START, START + dt.timedelta(days=1))
