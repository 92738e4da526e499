"""Reads of campaign data and of what follows from the current time."""

from __future__ import annotations

import datetime as dt
import enum

from django.db.models import QuerySet

from kattoo.core import clock
from kattoo.core.clock import BISHKEK
from kattoo.core.errors import RuleViolation

from .calendar import WorkCalendar
from .models import CalendarDay, Campaign


class Stage(enum.StrEnum):
    BEFORE = "before"  # quota work; drafts; no registration
    STAGE1 = "stage1"  # §27: microdistrict only
    STAGE2 = "stage2"  # §27: any school with a free seat
    CLOSED = "closed"  # §26: commission route only


def campaign_active() -> Campaign:
    campaign = Campaign.objects.filter(is_active=True).first()
    if campaign is None:
        raise RuleViolation("no_active_campaign")
    return campaign


def campaign_calendar(campaign: Campaign) -> WorkCalendar:
    """The working days of any date (ADR 0016): a quota lock in March, an appeal in August."""
    return WorkCalendar.load(weekend_days=campaign.weekend_days)


def campaign_quota_lock_at(campaign: Campaign, calendar: WorkCalendar | None = None) -> dt.datetime:
    """§17: the director confirms no later than N working days before stage 1; the lock takes
    effect at the end of that working day, Asia/Bishkek (2026: end of Friday 2026-03-27)."""
    calendar = calendar or campaign_calendar(campaign)
    stage1_day = campaign.stage1_starts_at.astimezone(BISHKEK).date()
    last_day = calendar.working_days_before(stage1_day, campaign.quota_lock_working_days)
    next_midnight = last_day + dt.timedelta(days=1)
    return dt.datetime(next_midnight.year, next_midnight.month, next_midnight.day, tzinfo=BISHKEK)


def campaign_stage(campaign: Campaign, at: dt.datetime | None = None) -> Stage:
    at = at or clock.now()
    if at < campaign.stage1_starts_at:
        return Stage.BEFORE
    if at < campaign.stage2_starts_at:
        return Stage.STAGE1
    if at < campaign.registration_ends_at:
        return Stage.STAGE2
    return Stage.CLOSED


def campaign_birth_date_eligible(campaign: Campaign, birth_date: dt.date) -> bool:
    return campaign.birth_from <= birth_date <= campaign.birth_to


class CampaignState(enum.StrEnum):
    """ADR 0016: a draft until published; the published current one; an earlier one archived."""

    DRAFT = "draft"
    CURRENT = "current"
    ARCHIVED = "archived"


def campaign_state(campaign: Campaign) -> CampaignState:
    if campaign.is_active:
        return CampaignState.CURRENT
    if campaign.published_at is None:
        return CampaignState.DRAFT
    return CampaignState.ARCHIVED


def campaign_editable(campaign: Campaign, at: dt.datetime | None = None) -> bool:
    """Settings change until stage 1 opens (draft or current alike)."""
    return (at or clock.now()) < campaign.stage1_starts_at


def campaigns_all() -> QuerySet[Campaign]:
    """Every campaign, the latest school year first."""
    return Campaign.objects.order_by("-code")


def campaign_by_code(code: str) -> Campaign | None:
    return Campaign.objects.filter(code=code).first()


def campaign_latest() -> Campaign | None:
    """The starting point of next year's campaign: the latest one by its school year."""
    return campaigns_all().first()


def calendar_year(year: int) -> list[CalendarDay]:
    """The overrides of a year's ordinary week: holidays and moved working days, by date."""
    return list(CalendarDay.objects.filter(date__year=year).order_by("date"))


def campaigns_with_stage1_in(year: int) -> QuerySet[Campaign]:
    start = dt.datetime(year, 1, 1, tzinfo=BISHKEK)
    end = dt.datetime(year + 1, 1, 1, tzinfo=BISHKEK)
    return campaigns_all().filter(stage1_starts_at__gte=start, stage1_starts_at__lt=end)
