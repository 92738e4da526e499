"""Campaign lifecycle services and the calendar of any date (issue 11, ADR 0016)."""

from __future__ import annotations

import datetime as dt

import pytest

from kattoo.appeals.services import appeal_due_at
from kattoo.audit.models import AuditEvent
from kattoo.campaigns.calendar import WorkCalendar
from kattoo.campaigns.models import CalendarDay, Campaign
from kattoo.campaigns.selectors import (
    CampaignState,
    calendar_year,
    campaign_calendar,
    campaign_quota_lock_at,
    campaign_state,
)
from kattoo.campaigns.services import (
    calendar_year_set,
    campaign_copy_values,
    campaign_create,
    campaign_publish,
    campaign_update,
)
from kattoo.core import clock
from kattoo.core.clock import bishkek
from kattoo.core.errors import InvalidFields, RuleViolation

from ..conftest import SYSTEM

DECEMBER = bishkek(2026, 12, 1, 12, 0)


@pytest.fixture
def december(campaign):
    with clock.frozen(DECEMBER):
        yield campaign


def codes(exc: pytest.ExceptionInfo[InvalidFields]) -> set[tuple[str, str]]:
    return {(e.field, e.code) for e in exc.value.errors}


def test_copy_moves_every_date_by_the_year_difference(campaign) -> None:
    values = campaign_copy_values(campaign, "2028-2029")
    assert values["stage1_starts_at"] == bishkek(2028, 4, 1, 10, 0)
    assert values["registration_ends_at"] == bishkek(2028, 8, 31)
    assert values["birth_from"] == dt.date(2021, 1, 1)
    assert values["birth_to"] == dt.date(2022, 12, 31)
    assert values["medical_until"] == dt.date(2028, 9, 5)
    assert values["cancel_limit"] == 3
    # Another year starts without a title: each language shows the year in its own words.
    assert [values[f] for f in ("title_ky", "title_ru", "title_uz", "title_en")] == [""] * 4


def test_create_copies_overrides_and_stays_a_draft(december) -> None:
    created = campaign_create(
        values={"code": "2027-2028", "class_size_max": 40},
        copy_from=december,
        actor=SYSTEM,
    )
    assert created.class_size_max == 40 and created.guardian_child_limit == 2
    assert created.documents_request_until == dt.date(2027, 8, 30)
    assert campaign_state(created) == CampaignState.DRAFT
    assert Campaign.objects.get(is_active=True) == december
    event = AuditEvent.objects.get(action="campaign.create", object_id=str(created.pk))
    assert event.data["values"]["class_size_max"] == 40
    assert event.data["values"]["stage1_starts_at"] == "2027-04-01T10:00:00+06:00"


def test_a_29_february_birth_window_is_two_whole_years(december) -> None:
    with pytest.raises(InvalidFields) as refused:
        campaign_create(
            values={
                "code": "2027-2028",
                "birth_from": dt.date(2020, 2, 29),
                "birth_to": dt.date(2022, 2, 28),
            },
            copy_from=december,
            actor=SYSTEM,
        )
    assert ("birth_to", "birth_window_length") in codes(refused)


def test_documents_and_stage_year_must_fit_the_campaign(december) -> None:
    with pytest.raises(InvalidFields) as refused:
        campaign_create(
            values={
                "code": "2027-2028",
                "documents_request_until": dt.date(2027, 1, 10),
                "stage1_starts_at": bishkek(2028, 4, 1, 10),
                "stage2_starts_at": bishkek(2028, 6, 1, 10),
                "registration_ends_at": bishkek(2028, 8, 31),
                "weekend_days": [7],
            },
            copy_from=december,
            actor=SYSTEM,
        )
    assert codes(refused) >= {
        ("documents_request_until", "documents_window"),
        ("stage1_starts_at", "stage1_year"),
        ("weekend_days", "weekend_days_invalid"),
    }
    assert not Campaign.objects.filter(code="2027-2028").exists()


def test_dates_out_of_range_are_refused_not_crashed(december) -> None:
    with pytest.raises(InvalidFields) as refused:
        campaign_create(
            values={"code": "2027-2028", "birth_from": dt.date(1, 1, 1)},
            copy_from=december,
            actor=SYSTEM,
        )
    assert codes(refused) == {("birth_from", "date_out_of_range")}


def test_update_until_stage_1_and_the_lock_that_passed(december) -> None:
    draft = campaign_create(values={"code": "2027-2028"}, copy_from=december, actor=SYSTEM)
    # Between the lock (end of Mon 29 March 2027) and stage 1: the title may change, the
    # stage 1 time may not (it would reopen locked quotas).
    with clock.frozen(bishkek(2027, 3, 31, 9)):
        campaign_update(
            campaign=draft,
            values={"title_ky": "2027–2028 (акыркы)", "title_ru": "2027–2028 (итоговая)"},
            actor=SYSTEM,
        )
        with pytest.raises(InvalidFields) as refused:
            campaign_update(
                campaign=draft,
                values={"stage1_starts_at": bishkek(2027, 4, 5, 10)},
                actor=SYSTEM,
            )
        assert codes(refused) == {("stage1_starts_at", "quota_lock_passed")}
    with clock.frozen(bishkek(2027, 4, 1, 10)), pytest.raises(RuleViolation) as started:
        campaign_update(campaign=draft, values={"title_ky": "late"}, actor=SYSTEM)
    assert started.value.code == "campaign_started" and started.value.status == 409
    draft.refresh_from_db()
    assert (draft.title_ky, draft.title_ru) == ("2027–2028 (акыркы)", "2027–2028 (итоговая)")
    assert draft.stage1_starts_at == bishkek(2027, 4, 1, 10)
    updates = AuditEvent.objects.filter(action="campaign.update", object_id=str(draft.pk))
    assert [e.data["changed"] for e in updates] == [
        {"title_ky": ["", "2027–2028 (акыркы)"], "title_ru": ["", "2027–2028 (итоговая)"]}
    ]


def test_an_update_that_changes_nothing_is_still_audited_and_harmless(december) -> None:
    draft = campaign_create(values={"code": "2027-2028"}, copy_from=december, actor=SYSTEM)
    campaign_update(campaign=draft, values={}, actor=SYSTEM)
    assert AuditEvent.objects.filter(action="campaign.update").count() == 1


def test_unknown_settings_are_refused(december) -> None:
    draft = campaign_create(values={"code": "2027-2028"}, copy_from=december, actor=SYSTEM)
    with pytest.raises(InvalidFields) as refused:
        campaign_update(campaign=draft, values={"is_active": True}, actor=SYSTEM)
    assert codes(refused) == {("is_active", "read_only")}


def test_publish_archives_the_previous_campaign(december) -> None:
    draft = campaign_create(values={"code": "2027-2028"}, copy_from=december, actor=SYSTEM)
    with clock.frozen(DECEMBER):
        published = campaign_publish(campaign=draft, actor=SYSTEM)
    assert published.is_active and published.published_at == DECEMBER
    december.refresh_from_db()
    assert campaign_state(december) == CampaignState.ARCHIVED or not december.is_active
    event = AuditEvent.objects.get(action="campaign.publish")
    assert event.data["previous"] == ["2026-2027"]


def test_publish_refuses_a_lock_already_past(december) -> None:
    draft = campaign_create(values={"code": "2027-2028"}, copy_from=december, actor=SYSTEM)
    with clock.frozen(bishkek(2027, 3, 30, 1)), pytest.raises(InvalidFields) as refused:
        campaign_publish(campaign=draft, actor=SYSTEM)
    assert ("stage1_starts_at", "quota_lock_past") in codes(refused)
    draft.refresh_from_db()
    assert not draft.is_active and draft.published_at is None
    with clock.frozen(bishkek(2027, 9, 1)), pytest.raises(RuleViolation) as finished:
        campaign_publish(campaign=draft, actor=SYSTEM)
    assert finished.value.code == "campaign_finished"
    assert not AuditEvent.objects.filter(action="campaign.publish").exists()


# ---- the calendar ------------------------------------------------------------------------


def test_an_appeal_in_august_counts_the_independence_day_holiday(campaign) -> None:
    # Filed Thursday 27 August 2026: Fri 28, (weekend), Mon 31 is a holiday (§ calendar),
    # Tue 1, Wed 2 September → due at the end of Wednesday 2 September.
    assert appeal_due_at(campaign, bishkek(2026, 8, 27, 15)) == bishkek(2026, 9, 3)


def test_a_holiday_added_in_august_moves_the_due_date(december) -> None:
    calendar_year_set(year=2027, holidays=[dt.date(2027, 8, 31)], working_days=[], actor=SYSTEM)
    calendar = campaign_calendar(december)
    # Friday 27 August 2027 + 2 working days: Mon 30, (Tue 31 holiday), Wed 1 September.
    assert calendar.add_working_days(dt.date(2027, 8, 27), 2) == dt.date(2027, 9, 1)


def test_the_calendar_reads_any_year_lazily() -> None:
    CalendarDay.objects.create(date=dt.date(2031, 1, 1), is_working=False)
    CalendarDay.objects.create(date=dt.date(2031, 1, 2), is_working=False)
    calendar = WorkCalendar.load(weekend_days=[5, 6], around=dt.date(2026, 4, 1))
    assert not calendar.is_working(dt.date(2031, 1, 2))  # Thursday, a holiday
    # Across the new year: Friday 3 January 2031 back one working day is 31 December 2030.
    assert calendar.working_days_before(dt.date(2031, 1, 3), 1) == dt.date(2030, 12, 31)


def test_calendar_year_set_replaces_the_year_and_audits(december) -> None:
    calendar_year_set(
        year=2027,
        holidays=[dt.date(2027, 3, 22), dt.date(2027, 3, 29)],
        working_days=[dt.date(2027, 3, 27)],
        names={dt.date(2027, 3, 22): "Nooruz"},
        actor=SYSTEM,
    )
    draft = campaign_create(values={"code": "2027-2028"}, copy_from=december, actor=SYSTEM)
    assert campaign_quota_lock_at(draft) == bishkek(2027, 3, 28)
    days = calendar_year_set(
        year=2027, holidays=[dt.date(2027, 3, 22)], working_days=[], actor=SYSTEM
    )
    assert [(d.date, d.is_working, d.name_en) for d in days] == [
        (dt.date(2027, 3, 22), False, "Nooruz")
    ]
    assert campaign_quota_lock_at(draft) == bishkek(2027, 3, 30)
    events = AuditEvent.objects.filter(action="calendar.set").order_by("id")
    assert events[1].data["removed"] == ["2027-03-27", "2027-03-29"]


@pytest.mark.parametrize(
    ("holidays", "working", "code"),
    [
        ([dt.date(2028, 1, 1)], [], "outside_year"),
        ([dt.date(2027, 3, 22)], [dt.date(2027, 3, 22)], "in_both_lists"),
    ],
)
def test_calendar_refusals_change_nothing(december, holidays, working, code) -> None:
    with pytest.raises(InvalidFields) as refused:
        calendar_year_set(year=2027, holidays=holidays, working_days=working, actor=SYSTEM)
    assert refused.value.code == "calendar_invalid"
    assert code in {e.code for e in refused.value.errors}
    assert calendar_year(2027) == []
    assert not AuditEvent.objects.filter(action="calendar.set").exists()


def test_past_days_cannot_change_but_future_ones_can(december) -> None:
    kept = [d.date for d in calendar_year(2026)]
    with pytest.raises(InvalidFields) as refused:
        calendar_year_set(year=2026, holidays=kept[1:], working_days=[], actor=SYSTEM)
    assert codes(refused) == {("holidays", "day_in_past")}
    assert "01.01.2026" in str(refused.value.errors[0].message)
    # 31 December 2026 is still ahead on 1 December: it may become a holiday.
    calendar_year_set(
        year=2026, holidays=[*kept, dt.date(2026, 12, 31)], working_days=[], actor=SYSTEM
    )
    assert len(calendar_year(2026)) == len(kept) + 1


def test_a_rehearsal_code_may_carry_a_suffix(december) -> None:
    rehearsal = campaign_create(
        values={
            "code": "2027-2028-rehearsal",
            "stage1_starts_at": bishkek(2027, 1, 20, 10),
            "stage2_starts_at": bishkek(2027, 2, 20, 10),
            "registration_ends_at": bishkek(2027, 8, 31),
        },
        copy_from=december,
        actor=SYSTEM,
    )
    assert rehearsal.birth_from == dt.date(2020, 1, 1)
    with pytest.raises(InvalidFields) as refused:
        campaign_create(values={"code": "2027-2028-"}, copy_from=december, actor=SYSTEM)
    assert ("code", "code_format") in codes(refused)
