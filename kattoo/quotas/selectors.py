"""What a quota is now. "Confirmed automatically at the lock" is derived from the time here,
so no scheduled job has to run at midnight for the rule of §17 to hold."""

from __future__ import annotations

import datetime as dt
import enum

from kattoo.accounts.models import Role, User
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_quota_lock_at
from kattoo.core import clock

from .models import Quota, QuotaStatus


class QuotaState(enum.StrEnum):
    DRAFT = "draft"  # the school may still change and confirm it
    CONFIRMED = "confirmed"  # confirmed by the director
    AUTO_CONFIRMED = "auto_confirmed"  # not confirmed by the lock time: counts as confirmed


def quota_state(
    quota: Quota, *, lock_at: dt.datetime | None = None, at: dt.datetime | None = None
) -> QuotaState:
    if quota.status == QuotaStatus.CONFIRMED:
        return QuotaState.CONFIRMED
    lock_at = lock_at or campaign_quota_lock_at(quota.campaign)
    if (at or clock.now()) >= lock_at:
        return QuotaState.AUTO_CONFIRMED
    return QuotaState.DRAFT


def quota_is_locked(quota: Quota, *, lock_at: dt.datetime | None = None) -> bool:
    return quota_state(quota, lock_at=lock_at) != QuotaState.DRAFT


def quota_of(school_id: int, campaign: Campaign) -> Quota | None:
    return (
        Quota.objects.filter(school_id=school_id, campaign=campaign)
        .prefetch_related("class_sets", "events")
        .first()
    )


def quota_abilities(user: User, quota: Quota, state: QuotaState) -> dict[str, bool]:
    """What the user may do with the quota now (§11, §17), so the web page and the API show
    only the actions the server accepts."""
    own_school = user.role == Role.SCHOOL and user.school_id == quota.school_id
    district = user.role == Role.DISTRICT and quota.school.district_id == user.district_id
    return {
        "change": own_school and state == QuotaState.DRAFT,
        "confirm": own_school and state == QuotaState.DRAFT,
        "approve": district and state != QuotaState.DRAFT and quota.approved_at is None,
    }
