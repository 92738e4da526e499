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
from kattoo.appeals.services import (
    appeal_answer,
    appeal_commission_place,
    appeal_file,
    appeal_forward,
    appeal_reinstate,
    appeal_reject,
    refusal_of,
)
from kattoo.audit.reads import audit_read
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.selectors import schools_participating, schools_visible_to
from kattoo.core import clock
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.selectors import applications_visible_to

from ..auth import bearer, current_user
from ..pagination import paginate_by_pk
from .routes import PROBLEMS, actor_of, is_row_id
from .schemas import LanguageCode
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
    decision: str = Field(
        description="What the district decided: reinstated, commission, rejected; empty for a "
        "written answer or while open"
    )


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
        "decision": appeal.decision,
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


# ---- the appeal's card and the district's decisions (§17, §22) ------------------------------


class TransitionOut(Schema):
    from_status: str
    to_status: str
    at: dt.datetime
    reason_code: str
    reason: str


class AppealChildOut(Schema):
    pin: str
    surname: str
    name: str
    birth_date: dt.date
    sex: str


class AppealRegistrationOut(Schema):
    id: str
    school: str
    language: str
    status: str
    route: str
    above_quota: bool
    position: int
    child: AppealChildOut
    applicant_name: str
    refusal: TransitionOut | None = Field(description="The school's refusal with its reason")
    history: list[TransitionOut]


class AppealCardOut(AppealOut):
    registration: AppealRegistrationOut | None
    commission_decision: str | None


def _transition_out(t: Any) -> dict[str, Any]:
    return {
        "from_status": t.from_status,
        "to_status": t.to_status,
        "at": local(t.at),
        "reason_code": t.reason_code,
        "reason": t.reason,
    }


def appeal_card_out(appeal: Appeal) -> dict[str, Any]:
    out = appeal_out(appeal)
    out["commission_decision"] = (
        str(appeal.commission_decision_id) if appeal.commission_decision_id else None
    )
    application = appeal.application
    if application is None:
        out["registration"] = None
        return out
    child = application.child
    refusal = refusal_of(application)
    out["registration"] = {
        "id": str(application.pk),
        "school": str(application.school_id),
        "language": application.language,
        "status": application.status,
        "route": application.route,
        "above_quota": application.above_quota,
        "position": application.position,
        "child": {
            "pin": child.pin,
            "surname": child.surname,
            "name": child.name,
            "birth_date": child.birth_date,
            "sex": child.sex,
        },
        "applicant_name": application.applicant.full_name,
        "refusal": _transition_out(refusal) if refusal is not None else None,
        "history": [_transition_out(t) for t in application.transitions.all()],
    }
    return out


@appeals.get(
    "/appeals/{appeal_id}",
    response={200: AppealCardOut, **PROBLEMS},
    summary="One appeal with the child, the registration, the school's reason and the history",
)
def get_appeal(request: HttpRequest, appeal_id: str) -> dict[str, Any]:
    user = current_user(request)
    appeal = (
        appeals_visible_to(user)
        .select_related("application__child", "application__applicant")
        .filter(pk=int(appeal_id))
        .first()
        if is_row_id(appeal_id)
        else None
    )
    if appeal is None:
        raise Http404
    if user.role != Role.APPLICANT:
        audit_read(actor=actor_of(request), what="appeal", obj=appeal)
    return appeal_card_out(appeal)


class ReinstateIn(Schema):
    text: str = Field("", max_length=4000)


@appeals.post(
    "/appeals/{appeal_id}/reinstate",
    response={200: AppealCardOut, **PROBLEMS},
    summary="The district reinstates the refused registration (the seat is taken back)",
)
def reinstate_appeal(request: HttpRequest, appeal_id: str, payload: ReinstateIn) -> dict[str, Any]:
    appeal = _appeal_for(request, appeal_id, roles=(Role.DISTRICT,))
    appeal_reinstate(appeal=appeal, text=payload.text, actor=actor_of(request))
    return appeal_card_out(Appeal.objects.select_related("district").get(pk=appeal.pk))


class RejectIn(Schema):
    text: str = Field(min_length=5, max_length=4000)


@appeals.post(
    "/appeals/{appeal_id}/reject",
    response={200: AppealCardOut, **PROBLEMS},
    summary="The district rejects the appeal, stating why",
)
def reject_appeal(request: HttpRequest, appeal_id: str, payload: RejectIn) -> dict[str, Any]:
    appeal = _appeal_for(request, appeal_id, roles=(Role.DISTRICT,))
    appeal_reject(appeal=appeal, text=payload.text, actor=actor_of(request))
    return appeal_card_out(Appeal.objects.select_related("district").get(pk=appeal.pk))


class AppealCommissionIn(Schema):
    """The placement answering the appeal: the child and the applicant are the refused
    registration's; the school and the language default to it."""

    school: str | None = Field(None, pattern=r"^[0-9]{1,18}$")
    language: LanguageCode | None = None
    number: str = Field(min_length=1, max_length=64)
    decided_on: dt.date
    ground: Literal["over_age", "no_documents", "late", "other"]
    documents_checked: bool = False


@appeals.post(
    "/appeals/{appeal_id}/commission",
    response={200: AppealCardOut, **PROBLEMS},
    summary="The district answers the appeal by a placement of the Commission on Children's "
    "Affairs",
)
def commission_appeal(
    request: HttpRequest, appeal_id: str, payload: AppealCommissionIn
) -> dict[str, Any]:
    appeal = _appeal_for(request, appeal_id, roles=(Role.DISTRICT,))
    application = appeal.application
    if application is None:
        raise RuleViolation("appeal_no_registration")
    user = current_user(request)
    school = application.school
    if payload.school is not None:
        chosen = schools_visible_to(user).filter(pk=int(payload.school)).first()
        if chosen is None:
            raise Http404
        school = chosen
    appeal_commission_place(
        appeal=appeal,
        actor=actor_of(request),
        campaign=application.campaign,
        officer=user,
        child=application.child,
        applicant=application.applicant,
        school=school,
        language=payload.language or application.language,
        number=payload.number,
        decided_on=payload.decided_on,
        ground=payload.ground,
        documents_checked=payload.documents_checked,
    )
    return appeal_card_out(Appeal.objects.select_related("district").get(pk=appeal.pk))
