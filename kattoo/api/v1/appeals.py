"""Appeals to the district education office (§17), for applicants and district officers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kattoo.accounts.models import Role
from kattoo.appeals.models import Appeal
from kattoo.appeals.selectors import appeals_overdue, appeals_visible_to
from kattoo.appeals.services import appeal_answer, appeal_file, appeal_forward
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.selectors import schools_participating
from kattoo.core import clock
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.selectors import applications_visible_to

from ..auth import bearer, current_user
from ..pagination import paginate_by_pk
from .routes import PROBLEMS, actor_of, is_row_id
from .serializers import local

appeals = Router(tags=["appeals"], auth=bearer)


class AppealIn(Schema):
    subject: Literal["refusal", "missing_address", "late_registration", "other"]
    application: str | None = Field(None, max_length=40)
    school: str | None = Field(None, pattern=r"^[0-9]{1,18}$")
    text: str = Field(min_length=10, max_length=4000)


class AnswerIn(Schema):
    text: str = Field(min_length=2, max_length=4000)


class AppealOut(Schema):
    id: str
    subject: str
    status: str
    text: str
    school: str | None
    application: str | None
    district: str
    created_at: dt.datetime
    due_at: dt.datetime
    overdue: bool
    answer: str
    answered_at: dt.datetime | None


class AppealPage(Schema):
    items: list[AppealOut]
    next_cursor: str | None


def appeal_out(appeal: Appeal) -> dict[str, Any]:
    return {
        "id": str(appeal.pk),
        "subject": appeal.subject,
        "status": appeal.status,
        "text": appeal.text,
        "school": str(appeal.school_id) if appeal.school_id else None,
        "application": str(appeal.application_id) if appeal.application_id else None,
        "district": appeal.district.name_ru,
        "created_at": local(appeal.created_at),
        "due_at": local(appeal.due_at),
        "overdue": appeal.answered_at is None and appeal.due_at < clock.now(),
        "answer": appeal.answer,
        "answered_at": local(appeal.answered_at),
    }


@appeals.post(
    "/appeals", response={201: AppealOut, **PROBLEMS}, summary="Appeal to the district office"
)
def file_appeal(request: HttpRequest, payload: AppealIn) -> tuple[int, dict[str, Any]]:
    user = current_user(request)
    application = school = None
    if payload.application:
        if _is_uuid(payload.application):
            application = applications_visible_to(user).filter(pk=payload.application).first()
        if application is None:
            raise Http404
    if payload.school:
        school = schools_participating().filter(pk=int(payload.school)).first()
        if school is None:
            raise Http404
    appeal = appeal_file(
        campaign=campaign_active(),
        user=user,
        subject=payload.subject,
        text=payload.text,
        school=school,
        application=application,
        actor=actor_of(request),
    )
    return 201, appeal_out(appeal)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@appeals.get("/appeals", response={200: AppealPage, **PROBLEMS}, summary="Appeals in your scope")
def list_appeals(
    request: HttpRequest,
    overdue: bool = False,
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, max_length=200),
) -> dict[str, Any]:
    rows = appeals_visible_to(current_user(request))
    if overdue:
        rows = appeals_overdue(rows)
    items, next_cursor = paginate_by_pk(rows, limit=limit, cursor=cursor)
    return {"items": [appeal_out(a) for a in items], "next_cursor": next_cursor}


def _appeal_for(request: HttpRequest, appeal_id: str, *, roles: tuple[str, ...]) -> Appeal:
    """An appeal in the user's scope (else 404) that the user's role may act on (else 403)."""
    user = current_user(request)
    appeal = (
        appeals_visible_to(user).filter(pk=int(appeal_id)).first() if is_row_id(appeal_id) else None
    )
    if appeal is None:
        raise Http404
    if user.role not in roles:
        raise RuleViolation("forbidden")
    return appeal


@appeals.post(
    "/appeals/{appeal_id}/answer",
    response={200: AppealOut, **PROBLEMS},
    summary="The district office answers",
)
def answer_appeal(request: HttpRequest, appeal_id: str, payload: AnswerIn) -> dict[str, Any]:
    # The district answers; a school answers an appeal the district forwarded to it.
    appeal = _appeal_for(request, appeal_id, roles=(Role.DISTRICT, Role.SCHOOL))
    return appeal_out(appeal_answer(appeal=appeal, text=payload.text, actor=actor_of(request)))


class ForwardIn(Schema):
    school: str = Field(pattern=r"^[0-9]{1,18}$")
    note: str = Field("", max_length=1000)


@appeals.post(
    "/appeals/{appeal_id}/forward",
    response={200: AppealOut, **PROBLEMS},
    summary="The district office forwards an appeal to a school of the district",
)
def forward_appeal(request: HttpRequest, appeal_id: str, payload: ForwardIn) -> dict[str, Any]:
    appeal = _appeal_for(request, appeal_id, roles=(Role.DISTRICT,))
    school = schools_participating().filter(pk=int(payload.school)).first()
    if school is None:
        raise Http404
    forwarded = appeal_forward(
        appeal=appeal, school=school, note=payload.note, actor=actor_of(request)
    )
    return appeal_out(forwarded)
