"""API v1: the campaign lifecycle and the working-day calendar (issue 11, ADR 0016).

Every staff role reads; only the ministry administrator writes; applicants are refused (403).
The API speaks of stage "opens_at" and registration "closes_at"; the model of "starts_at" and
"ends_at": the names are mapped here, in both directions, errors included.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Router, Schema
from pydantic import Field

from kattoo.accounts.models import Role, User
from kattoo.campaigns.models import CalendarDay, Campaign
from kattoo.campaigns.selectors import (
    calendar_year,
    campaign_by_code,
    campaign_editable,
    campaign_quota_lock_at,
    campaign_stage,
    campaign_state,
    campaigns_all,
    campaigns_with_stage1_in,
)
from kattoo.campaigns.services import (
    calendar_year_set,
    campaign_create,
    campaign_publish,
    campaign_update,
)
from kattoo.campaigns.validation import FIRST_YEAR, LAST_YEAR
from kattoo.core.clock import BISHKEK
from kattoo.core.errors import FieldError, InvalidFields, RuleViolation

from ..auth import bearer, current_user
from .routes import PROBLEMS, actor_of
from .serializers import local

router = Router(tags=["campaigns"], auth=bearer)

# API name → model field name, where they differ.
API_TO_MODEL = {
    "stage1_opens_at": "stage1_starts_at",
    "stage2_opens_at": "stage2_starts_at",
    "registration_closes_at": "registration_ends_at",
}
MODEL_TO_API = {model: api for api, model in API_TO_MODEL.items()}

Limit = Annotated[int, Field(ge=0, le=1000)]
WorkingDays = Annotated[int, Field(ge=0, le=60)]
Weekday = Annotated[int, Field(ge=0, le=6)]


def _staff(request: HttpRequest) -> User:
    user = current_user(request)
    if user.role == Role.APPLICANT:
        raise RuleViolation("forbidden")
    return user


def _ministry_admin(request: HttpRequest) -> User:
    user = current_user(request)
    if user.role != Role.MINISTRY_ADMIN:
        raise RuleViolation("forbidden")
    return user


def _campaign(code: str) -> Campaign:
    campaign = campaign_by_code(code)
    if campaign is None:
        raise Http404
    return campaign


class CampaignChangeIn(Schema):
    title: str | None = Field(
        None, max_length=200, description="one title for every language (older clients)"
    )
    title_ky: str | None = Field(None, max_length=200)
    title_ru: str | None = Field(None, max_length=200)
    title_uz: str | None = Field(None, max_length=200)
    title_en: str | None = Field(
        None, max_length=200, description="empty: the academic year in the reader's language"
    )
    birth_from: dt.date | None = None
    birth_to: dt.date | None = None
    stage1_opens_at: dt.datetime | None = Field(
        None, description="Asia/Bishkek when no offset is given"
    )
    stage2_opens_at: dt.datetime | None = None
    registration_closes_at: dt.datetime | None = None
    cancel_limit: Limit | None = None
    guardian_child_limit: Limit | None = None
    class_size_min: Limit | None = None
    class_size_max: Limit | None = None
    quota_lock_working_days: WorkingDays | None = None
    appeal_due_working_days: WorkingDays | None = None
    weekend_days: list[Weekday] | None = Field(None, max_length=7)
    documents_request_until: dt.date | None = None
    medical_from: dt.date | None = None
    medical_until: dt.date | None = None


class CampaignCreateIn(CampaignChangeIn):
    code: str = Field(max_length=20, description="two consecutive years, e.g. 2027-2028")
    copy_from: str | None = Field(
        None, max_length=20, description="code of the campaign whose settings are the start"
    )


class CampaignRecordOut(Schema):
    code: str
    academic_year: str
    title: str = Field(description="in the request's language")
    title_ky: str
    title_ru: str
    title_uz: str
    title_en: str
    state: str = Field(description="draft, current or archived")
    is_active: bool
    current: bool
    stage: str = Field(description="before, stage1, stage2 or closed, now")
    published_at: dt.datetime | None
    birth_from: dt.date
    birth_to: dt.date
    stage1_opens_at: dt.datetime
    stage2_opens_at: dt.datetime
    registration_closes_at: dt.datetime
    quota_lock_at: dt.datetime
    cancel_limit: int
    guardian_child_limit: int
    class_size_min: int
    class_size_max: int
    quota_lock_working_days: int
    appeal_due_working_days: int
    weekend_days: list[int]
    documents_request_until: dt.date
    medical_from: dt.date
    medical_until: dt.date
    abilities: dict[str, bool]


class CalendarDayOut(Schema):
    date: dt.date
    is_working: bool
    name_ky: str
    name_ru: str
    name_en: str


class CalendarCampaignOut(Schema):
    code: str
    stage1_opens_at: dt.datetime
    quota_lock_at: dt.datetime


class CalendarYearOut(Schema):
    year: int
    holidays: list[dt.date]
    working_days: list[dt.date]
    days: list[CalendarDayOut]
    campaigns: list[CalendarCampaignOut]
    abilities: dict[str, bool]


class CalendarYearIn(Schema):
    holidays: list[dt.date] = Field(default_factory=list, max_length=366)
    working_days: list[dt.date] = Field(default_factory=list, max_length=366)
    names: dict[dt.date, Annotated[str, Field(max_length=200)]] | None = Field(
        None, max_length=366, description="a name per day, in the request's language"
    )


def campaign_out(user: User, campaign: Campaign) -> dict[str, Any]:
    admin = user.role == Role.MINISTRY_ADMIN
    return {
        "code": campaign.code,
        "academic_year": campaign.academic_year,
        "title": campaign.title,
        "title_ky": campaign.title_ky,
        "title_ru": campaign.title_ru,
        "title_uz": campaign.title_uz,
        "title_en": campaign.title_en,
        "state": str(campaign_state(campaign)),
        "is_active": campaign.is_active,
        "current": campaign.is_active,
        "stage": str(campaign_stage(campaign)),
        "published_at": local(campaign.published_at),
        "birth_from": campaign.birth_from,
        "birth_to": campaign.birth_to,
        "stage1_opens_at": local(campaign.stage1_starts_at),
        "stage2_opens_at": local(campaign.stage2_starts_at),
        "registration_closes_at": local(campaign.registration_ends_at),
        "quota_lock_at": local(campaign_quota_lock_at(campaign)),
        "cancel_limit": campaign.cancel_limit,
        "guardian_child_limit": campaign.guardian_child_limit,
        "class_size_min": campaign.class_size_min,
        "class_size_max": campaign.class_size_max,
        "quota_lock_working_days": campaign.quota_lock_working_days,
        "appeal_due_working_days": campaign.appeal_due_working_days,
        "weekend_days": list(campaign.weekend_days),
        "documents_request_until": campaign.documents_request_until,
        "medical_from": campaign.medical_from,
        "medical_until": campaign.medical_until,
        "abilities": {
            "change": admin and campaign_editable(campaign),
            "publish": admin and not campaign.is_active,
        },
    }


def _model_values(payload: CampaignChangeIn) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in payload.dict(exclude_unset=True).items():
        if name in ("code", "copy_from"):
            continue
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=BISHKEK)
        if name.startswith("title") and value is None:
            value = ""
        values[API_TO_MODEL.get(name, name)] = value
    return values


def _api_names(exc: InvalidFields) -> InvalidFields:
    """The same refusal, its fields named as the client sent them."""
    exc.errors = [
        FieldError(MODEL_TO_API.get(e.field, e.field), e.code, e.message) for e in exc.errors
    ]
    return exc


@router.get(
    "/campaigns",
    response={200: list[CampaignRecordOut], **PROBLEMS},
    summary="Every campaign, the latest first (staff)",
)
def list_campaigns(request: HttpRequest) -> list[dict[str, Any]]:
    user = _staff(request)
    return [campaign_out(user, c) for c in campaigns_all()]


@router.post(
    "/campaigns",
    response={201: CampaignRecordOut, **PROBLEMS},
    summary="Create a campaign as a draft, optionally copying another (ministry administrator)",
)
def create_campaign(request: HttpRequest, payload: CampaignCreateIn) -> tuple[int, dict[str, Any]]:
    user = _ministry_admin(request)
    copy_from = None
    if payload.copy_from:
        copy_from = campaign_by_code(payload.copy_from)
        if copy_from is None:
            raise InvalidFields(
                "campaign_invalid",
                [FieldError("copy_from", "not_found", _("There is no campaign with this code."))],
            )
    values = {"code": payload.code, **_model_values(payload)}
    try:
        campaign = campaign_create(values=values, copy_from=copy_from, actor=actor_of(request))
    except InvalidFields as exc:
        raise _api_names(exc) from None
    return 201, campaign_out(user, campaign)


@router.get(
    "/campaigns/{code}",
    response={200: CampaignRecordOut, **PROBLEMS},
    summary="One campaign (staff)",
)
def get_campaign(request: HttpRequest, code: str) -> dict[str, Any]:
    user = _staff(request)
    return campaign_out(user, _campaign(code))


@router.patch(
    "/campaigns/{code}",
    response={200: CampaignRecordOut, **PROBLEMS},
    summary="Change settings until stage 1 opens (ministry administrator)",
)
def patch_campaign(request: HttpRequest, code: str, payload: CampaignChangeIn) -> dict[str, Any]:
    user = _ministry_admin(request)
    campaign = _campaign(code)
    try:
        campaign = campaign_update(
            campaign=campaign, values=_model_values(payload), actor=actor_of(request)
        )
    except InvalidFields as exc:
        raise _api_names(exc) from None
    return campaign_out(user, campaign)


@router.post(
    "/campaigns/{code}/publish",
    response={200: CampaignRecordOut, **PROBLEMS},
    summary="Make the campaign the current one (ministry administrator)",
)
def publish_campaign(request: HttpRequest, code: str) -> dict[str, Any]:
    user = _ministry_admin(request)
    campaign = _campaign(code)
    try:
        campaign = campaign_publish(campaign=campaign, actor=actor_of(request))
    except InvalidFields as exc:
        raise _api_names(exc) from None
    return campaign_out(user, campaign)


def calendar_out(user: User, year: int, days: list[CalendarDay]) -> dict[str, Any]:
    return {
        "year": year,
        "holidays": [d.date for d in days if not d.is_working],
        "working_days": [d.date for d in days if d.is_working],
        "days": [
            {
                "date": d.date,
                "is_working": d.is_working,
                "name_ky": d.name_ky,
                "name_ru": d.name_ru,
                "name_en": d.name_en,
            }
            for d in days
        ],
        "campaigns": [
            {
                "code": c.code,
                "stage1_opens_at": local(c.stage1_starts_at),
                "quota_lock_at": local(campaign_quota_lock_at(c)),
            }
            for c in campaigns_with_stage1_in(year)
        ],
        "abilities": {"change": user.role == Role.MINISTRY_ADMIN},
    }


YearPath = Path(..., ge=FIRST_YEAR, le=LAST_YEAR)


@router.get(
    "/calendar/{year}",
    response={200: CalendarYearOut, **PROBLEMS},
    summary="The working-day calendar of a year (staff)",
)
def get_calendar(request: HttpRequest, year: int = YearPath) -> dict[str, Any]:
    user = _staff(request)
    return calendar_out(user, year, calendar_year(year))


@router.put(
    "/calendar/{year}",
    response={200: CalendarYearOut, **PROBLEMS},
    summary="Replace a year's holidays and moved working days (ministry administrator)",
)
def put_calendar(
    request: HttpRequest, payload: CalendarYearIn, year: int = YearPath
) -> dict[str, Any]:
    user = _ministry_admin(request)
    days = calendar_year_set(
        year=year,
        holidays=payload.holidays,
        working_days=payload.working_days,
        names=payload.names,
        actor=actor_of(request),
    )
    return calendar_out(user, year, days)
