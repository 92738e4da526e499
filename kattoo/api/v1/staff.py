"""API v1, staff part that the core issue needs: the quota of a school (§11, §17).

Scope: a school's administration sees and changes its own school; a district officer sees and
approves the schools of the district; the ministry sees every school. Anything else is 404.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from kattoo.accounts.models import Role, User
from kattoo.campaigns.selectors import campaign_active, campaign_quota_lock_at
from kattoo.catalog.selectors import schools_visible_to
from kattoo.core.errors import RuleViolation
from kattoo.quotas.models import Quota
from kattoo.quotas.selectors import QuotaState, quota_of, quota_state
from kattoo.quotas.services import QuotaOperation, quota_approve, quota_change, quota_confirm

from ..auth import bearer, current_user
from .routes import PROBLEMS, actor_of
from .schemas import LanguageCode
from .serializers import local

staff = Router(tags=["staff"], auth=bearer)


def _quota(request: HttpRequest, school_id: str) -> tuple[User, Quota]:
    user = current_user(request)
    if not school_id.isdigit():
        raise Http404
    school = schools_visible_to(user).filter(pk=int(school_id)).first()
    if school is None:
        raise Http404
    quota = quota_of(school.pk, campaign_active())
    if quota is None:
        raise Http404
    return user, quota


def quota_abilities(user: User, quota: Quota, state: QuotaState) -> dict[str, bool]:
    own_school = user.role == Role.SCHOOL and user.school_id == quota.school_id
    district = user.role == Role.DISTRICT and quota.school.district_id == user.district_id
    return {
        "change": own_school and state == QuotaState.DRAFT,
        "confirm": own_school and state == QuotaState.DRAFT,
        "approve": district and state != QuotaState.DRAFT and quota.approved_at is None,
    }


class ClassSetOut(Schema):
    number: int
    language: str
    seats: int
    source: str
    source_label: str
    source_size: int | None
    computed_language: str
    computed_seats: int | None


class QuotaEventOut(Schema):
    kind: str
    at: Any
    actor: str | None
    data: dict[str, Any]


class QuotaOut(Schema):
    school: str
    campaign: str
    state: str
    lock_at: Any
    confirmed_at: Any
    approved_at: Any
    basis: str
    kyrgyz_floor: int
    class_sets: list[ClassSetOut]
    history: list[QuotaEventOut]
    abilities: dict[str, bool]


class OperationIn(Schema):
    op: str = Field(pattern=r"^(raise|add|to_kyrgyz|remove)$")
    class_set: int | None = Field(None, ge=1, le=99)
    seats: int | None = Field(None, ge=1, le=99)
    language: LanguageCode | None = None


class QuotaPatchIn(Schema):
    operations: list[OperationIn] = Field(min_length=1, max_length=50)


def quota_out(user: User, quota: Quota) -> dict[str, Any]:
    quota = Quota.objects.select_related("school", "campaign").get(pk=quota.pk)
    lock_at = campaign_quota_lock_at(quota.campaign)
    state = quota_state(quota, lock_at=lock_at)
    return {
        "school": str(quota.school_id),
        "campaign": quota.campaign.code,
        "state": str(state),
        "lock_at": local(lock_at),
        "confirmed_at": local(quota.confirmed_at),
        "approved_at": local(quota.approved_at),
        "basis": quota.basis,
        "kyrgyz_floor": quota.kyrgyz_floor,
        "class_sets": [
            {
                "number": c.number,
                "language": c.language,
                "seats": c.seats,
                "source": c.source,
                "source_label": c.source_label,
                "source_size": c.source_size,
                "computed_language": c.computed_language,
                "computed_seats": c.computed_seats,
            }
            for c in quota.class_sets.order_by("number")
        ],
        "history": [
            {
                "kind": e.kind,
                "at": local(e.at),
                "actor": str(e.actor_id) if e.actor_id else None,
                "data": e.data,
            }
            for e in quota.events.order_by("at", "id")
        ],
        "abilities": quota_abilities(user, quota, state),
    }


@staff.get(
    "/schools/{school_id}/quota", response={200: QuotaOut, **PROBLEMS}, summary="The school's quota"
)
def get_quota(request: HttpRequest, school_id: str) -> dict[str, Any]:
    user, quota = _quota(request, school_id)
    return quota_out(user, quota)


@staff.patch(
    "/schools/{school_id}/quota",
    response={200: QuotaOut, **PROBLEMS},
    summary="Director's changes before the lock (§11)",
)
def patch_quota(request: HttpRequest, school_id: str, payload: QuotaPatchIn) -> dict[str, Any]:
    user, quota = _quota(request, school_id)
    if not (user.role == Role.SCHOOL and user.school_id == quota.school_id):
        raise RuleViolation(
            "forbidden", detail=_("Only the school's administration changes its quota.")
        )
    operations = [
        QuotaOperation(o.op, o.class_set, o.seats, o.language) for o in payload.operations
    ]
    return quota_out(
        user, quota_change(quota=quota, operations=operations, actor=actor_of(request))
    )


@staff.post(
    "/schools/{school_id}/quota/confirm",
    response={200: QuotaOut, **PROBLEMS},
    summary="The director confirms the quota (§17)",
)
def confirm_quota(request: HttpRequest, school_id: str) -> dict[str, Any]:
    user, quota = _quota(request, school_id)
    if not (user.role == Role.SCHOOL and user.school_id == quota.school_id):
        raise RuleViolation(
            "forbidden", detail=_("Only the school's administration confirms its quota.")
        )
    return quota_out(user, quota_confirm(quota=quota, actor=actor_of(request)))


@staff.post(
    "/schools/{school_id}/quota/approve",
    response={200: QuotaOut, **PROBLEMS},
    summary="The district officer approves the quota (§17)",
)
def approve_quota(request: HttpRequest, school_id: str) -> dict[str, Any]:
    user, quota = _quota(request, school_id)
    if user.role != Role.DISTRICT:
        raise RuleViolation(
            "forbidden", detail=_("Only the district education office approves quotas.")
        )
    return quota_out(user, quota_approve(quota=quota, actor=actor_of(request)))
