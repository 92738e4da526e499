"""API v1: the district's check of special-order admissions (§17, §24) — the above-quota
registrations and admissions with their ground, and the changes a school made to its frozen
teacher roster after the quota lock (additions and removals, with the school's ground), which
the district approves or rejects."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema
from pydantic import Field

from kattoo.accounts.models import Role, User
from kattoo.audit.reads import audit_read
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.models import TeacherAddition
from kattoo.catalog.services import teacher_addition_decide
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.above_quota import above_quota_rows

from ..auth import bearer, current_user
from .routes import PROBLEMS, actor_of, is_row_id

router = Router(tags=["staff"], auth=bearer)

OVERSEERS = (Role.DISTRICT, Role.MINISTRY_ANALYST, Role.MINISTRY_ADMIN)


class AboveQuotaOut(Schema):
    application: str
    school: str
    child_name: str
    language: str
    status: str
    route: str = Field(description="The ground: teacher (§24), twin (§25) or commission (§9)")
    detail: str = Field(description="What the ground rests on, in the reader's language")


class TeacherAdditionOut(Schema):
    id: str
    school: str
    kind: str = Field(description="add or remove: the change to the frozen roster")
    pin: str
    full_name: str
    ground: str = Field(description="The school's ground for the change")
    status: str = Field(description="pending, approved or rejected")
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    note: str


class AdditionDecisionIn(Schema):
    note: str = Field(default="", max_length=300)


def _overseer(request: HttpRequest) -> User:
    user = current_user(request)
    if user.role not in OVERSEERS:
        raise RuleViolation("forbidden")
    return user


def _addition_out(a: TeacherAddition) -> dict[str, Any]:
    return {
        "id": str(a.pk),
        "school": str(a.school_id),
        "kind": a.kind,
        "pin": a.pin,
        "full_name": a.full_name,
        "ground": a.ground,
        "status": a.status,
        "requested_at": a.requested_at,
        "decided_at": a.decided_at,
        "note": a.note,
    }


@router.get(
    "/above-quota",
    response={200: list[AboveQuotaOut], **PROBLEMS},
    summary="District, ministry: above-quota registrations and admissions with their ground (§17)",
)
def above_quota(request: HttpRequest) -> list[dict[str, Any]]:
    user = _overseer(request)
    rows = above_quota_rows(user, campaign_active())
    # §7: a list of children's personal data is an audited read.
    audit_read(actor=actor_of(request), what="applications", obj=user.district, count=len(rows))
    return [
        {
            "application": str(r.application.pk),
            "school": str(r.application.school_id),
            "child_name": r.application.child.full_name,
            "language": r.application.language,
            "status": r.application.status,
            "route": r.application.route,
            "detail": r.detail,
        }
        for r in rows
    ]


@router.get(
    "/teacher-additions",
    response={200: list[TeacherAdditionOut], **PROBLEMS},
    summary="District, ministry: changes to frozen teacher rosters after the quota lock (§24)",
)
def teacher_additions(request: HttpRequest) -> list[dict[str, Any]]:
    user = _overseer(request)
    rows = TeacherAddition.objects.filter(campaign=campaign_active())
    if user.role == Role.DISTRICT:
        rows = rows.filter(school__district=user.district)
    return [_addition_out(a) for a in rows.order_by("status", "-requested_at")[:500]]


def _addition(request: HttpRequest, addition_id: str) -> tuple[User, TeacherAddition]:
    user = current_user(request)
    if user.role != Role.DISTRICT:
        raise RuleViolation("forbidden")
    if not is_row_id(addition_id):
        raise Http404
    addition = TeacherAddition.objects.filter(
        pk=int(addition_id), school__district=user.district
    ).first()
    if addition is None:
        raise Http404
    return user, addition


@router.post(
    "/teacher-additions/{addition_id}/approve",
    response={200: TeacherAdditionOut, **PROBLEMS},
    summary="District: approve a roster change (addition or removal) after the quota lock (§24)",
)
def teacher_addition_approve(
    request: HttpRequest, addition_id: str, payload: AdditionDecisionIn
) -> dict[str, Any]:
    user, addition = _addition(request, addition_id)
    decided = teacher_addition_decide(
        addition=addition, officer=user, approve=True, note=payload.note, actor=actor_of(request)
    )
    return _addition_out(decided)


@router.post(
    "/teacher-additions/{addition_id}/reject",
    response={200: TeacherAdditionOut, **PROBLEMS},
    summary="District: reject a roster change after the quota lock, with the reason (§24)",
)
def teacher_addition_reject(
    request: HttpRequest, addition_id: str, payload: AdditionDecisionIn
) -> dict[str, Any]:
    user, addition = _addition(request, addition_id)
    decided = teacher_addition_decide(
        addition=addition, officer=user, approve=False, note=payload.note, actor=actor_of(request)
    )
    return _addition_out(decided)
