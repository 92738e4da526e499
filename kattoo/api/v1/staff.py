"""API v1, staff part that the core issue needs: the quota of a school (§11, §17).

Scope: a school's administration sees and changes its own school; a district officer sees and
approves the schools of the district; the ministry sees every school. Anything else is 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from kattoo.accounts.models import Role, User
from kattoo.audit.reads import audit_download, audit_read
from kattoo.campaigns.selectors import campaign_active, campaign_quota_lock_at
from kattoo.catalog.models import MicrodistrictRequest, School, Street, Teacher, TeacherAddition
from kattoo.catalog.selectors import schools_visible_to
from kattoo.catalog.services import (
    microdistrict_address_add,
    teacher_add,
    teacher_remove,
    teacher_roster_campaign,
    teacher_roster_frozen,
)
from kattoo.classes.exports import COLUMNS as KUNDOLUK_COLUMNS
from kattoo.classes.exports import admitted_children, kundoluk_document
from kattoo.classes.services import classes_form
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import Application
from kattoo.enrollment.schoolwork import application_document_record
from kattoo.enrollment.selectors import application_staff_abilities, applications_visible_to
from kattoo.enrollment.services import application_admit, application_refuse
from kattoo.quotas.models import Quota
from kattoo.quotas.selectors import quota_abilities, quota_of, quota_state
from kattoo.quotas.services import QuotaOperation, quota_approve, quota_change, quota_confirm
from kattoo.reports.exports import rows_csv

from ..auth import bearer, current_user
from ..pagination import paginate_by_pk
from .routes import PROBLEMS, actor_of, is_row_id
from .schemas import LanguageCode
from .serializers import local

staff = Router(tags=["staff"], auth=bearer)


def _visible_school(request: HttpRequest, school_id: str) -> School:
    """A school in the user's scope; anything else is 404 (existence is not leaked)."""
    user = current_user(request)
    if user.role == Role.APPLICANT or not is_row_id(school_id):
        raise Http404
    school = schools_visible_to(user).filter(pk=int(school_id)).first()
    if school is None:
        raise Http404
    return school


def _children_school(request: HttpRequest, school_id: str) -> School:
    """A school whose children's personal data the user may see: the technical operator sees
    every school's quota but no child (as ``applications_visible_to`` gives it none)."""
    if current_user(request).role == Role.OPERATOR:
        raise Http404
    return _visible_school(request, school_id)


def _quota(request: HttpRequest, school_id: str) -> tuple[User, Quota]:
    user = current_user(request)
    school = _visible_school(request, school_id)
    quota = quota_of(school.pk, campaign_active())
    if quota is None:
        raise Http404
    return user, quota


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


# ---- the school's work with registrations (§18, §19, §21, §22) --------------------------


class StaffApplicationOut(Schema):
    id: str
    child: str
    child_name: str
    sex: str
    birth_date: Any
    language: str
    status: str
    route: str
    above_quota: bool
    position: int
    created_at: Any
    documents: list[str]
    abilities: dict[str, bool]


class StaffApplicationPage(Schema):
    items: list[StaffApplicationOut]
    next_cursor: str | None


def staff_application_out(user: User, application: Application) -> dict[str, Any]:
    return {
        "id": str(application.pk),
        "child": str(application.child_id),
        "child_name": application.child.full_name,
        "sex": application.child.sex,
        "birth_date": application.child.birth_date,
        "language": application.language,
        "status": application.status,
        "route": application.route,
        "above_quota": application.above_quota,
        "position": application.position,
        "created_at": local(application.created_at),
        "documents": [d.kind for d in application.documents.all()],
        "abilities": application_staff_abilities(user, application),
    }


@staff.get(
    "/schools/{school_id}/applications",
    response={200: StaffApplicationPage, **PROBLEMS},
    summary="Registered children of a school",
)
def school_applications(
    request: HttpRequest,
    school_id: str,
    status: str | None = None,
    language: LanguageCode | None = None,
    limit: int = Query(100, ge=1, le=500),
    cursor: str | None = Query(None, max_length=200),
) -> dict[str, Any]:
    user = current_user(request)
    if not is_row_id(school_id) or not schools_visible_to(user).filter(pk=int(school_id)).exists():
        raise Http404
    rows = (
        applications_visible_to(user).filter(school_id=int(school_id)).prefetch_related("documents")
    )
    if status:
        rows = rows.filter(status=status)
    if language:
        rows = rows.filter(language=language)
    items, next_cursor = paginate_by_pk(rows, limit=limit, cursor=cursor)
    audit_read(
        actor=actor_of(request),
        what="applications",
        object_type="catalog.school",
        object_id=school_id,
        school=int(school_id),
        count=len(items),
        filters={"status": status, "language": language, "cursor": bool(cursor)},
    )
    return {"items": [staff_application_out(user, a) for a in items], "next_cursor": next_cursor}


def _school_application(request: HttpRequest, application_id: str) -> tuple[User, Application]:
    user = current_user(request)
    try:
        pk = uuid.UUID(application_id)
    except ValueError as exc:
        raise Http404 from exc
    application = (
        applications_visible_to(user).select_related("campaign", "user").filter(pk=pk).first()
    )
    if application is None:
        raise Http404
    if not (user.role == Role.SCHOOL and user.school_id == application.school_id):
        raise RuleViolation("forbidden")
    return user, application


@staff.post(
    "/applications/{application_id}/admit",
    response={200: StaffApplicationOut, **PROBLEMS},
    summary="The school admits a registered child",
)
def admit(request: HttpRequest, application_id: str) -> dict[str, Any]:
    user, application = _school_application(request, application_id)
    return staff_application_out(
        user, application_admit(application=application, actor=actor_of(request))
    )


class RefuseIn(Schema):
    reason: Literal[
        "false_data", "guardian_act_invalid", "special_school", "admitted_elsewhere", "other"
    ]
    text: str = Field(min_length=5, max_length=2000)


@staff.post(
    "/applications/{application_id}/refuse",
    response={200: StaffApplicationOut, **PROBLEMS},
    summary="The school refuses, with a legal reason (§22); the district sees it",
)
def refuse(request: HttpRequest, application_id: str, payload: RefuseIn) -> dict[str, Any]:
    user, application = _school_application(request, application_id)
    refused = application_refuse(
        application=application,
        reason_code=payload.reason,
        reason=payload.text,
        actor=actor_of(request),
    )
    return staff_application_out(user, refused)


class DocumentIn(Schema):
    kind: Literal["medical_health", "medical_vaccination"]
    received_on: dt.date


@staff.post(
    "/applications/{application_id}/documents",
    response={200: StaffApplicationOut, **PROBLEMS},
    summary="Record a medical certificate received (§21)",
)
def record_document(
    request: HttpRequest, application_id: str, payload: DocumentIn
) -> dict[str, Any]:
    user, application = _school_application(request, application_id)
    application_document_record(
        application=application,
        kind=payload.kind,
        received_on=payload.received_on,
        actor=actor_of(request),
    )
    return staff_application_out(user, application)


def _own_school(request: HttpRequest, school_id: str) -> School:
    """The user's own school (school administration acts only there)."""
    user = current_user(request)
    school = _visible_school(request, school_id)
    if not (user.role == Role.SCHOOL and user.school_id == school.pk):
        raise RuleViolation("forbidden")
    return school


class AddressIn(Schema):
    street: str = Field(min_length=1, max_length=32)
    house_from: int | None = Field(None, ge=0, le=100000)
    house_to: int | None = Field(None, ge=0, le=100000)
    parity: Literal["all", "odd", "even"] = "all"
    note: str = Field(min_length=1, max_length=300)
    request: str | None = Field(None, pattern=r"^[0-9]{1,18}$")


@staff.post(
    "/schools/{school_id}/microdistrict/addresses",
    response={201: dict[str, Any], **PROBLEMS},
    summary="Add a missing address to the microdistrict (§19, §21)",
)
def add_address(
    request: HttpRequest, school_id: str, payload: AddressIn
) -> tuple[int, dict[str, Any]]:
    school = _own_school(request, school_id)
    street = Street.objects.filter(code=payload.street).first()
    if street is None:
        raise Http404
    parent_request = (
        MicrodistrictRequest.objects.filter(pk=int(payload.request), school=school).first()
        if payload.request
        else None
    )
    line = microdistrict_address_add(
        school=school,
        street=street,
        house_from=payload.house_from,
        house_to=payload.house_to,
        parity=payload.parity,
        note=payload.note,
        request=parent_request,
        actor=actor_of(request),
    )
    return 201, {
        "id": str(line.pk),
        "street": street.code,
        "house_from": line.house_from,
        "house_to": line.house_to,
        "parity": line.parity,
        "note": line.note,
    }


class TeacherIn(Schema):
    pin: str = Field(min_length=1, max_length=32)
    full_name: str = Field(min_length=2, max_length=300)


@staff.post(
    "/schools/{school_id}/teachers",
    response={201: dict[str, Any], 202: dict[str, Any], **PROBLEMS},
    summary="Add a teacher to the roster (§24); after the quota lock, ask the district (202)",
)
def add_teacher(
    request: HttpRequest, school_id: str, payload: TeacherIn
) -> tuple[int, dict[str, Any]]:
    school = _own_school(request, school_id)
    added = teacher_add(
        school=school, pin=payload.pin, full_name=payload.full_name, actor=actor_of(request)
    )
    if isinstance(added, Teacher):
        return 201, {"id": str(added.pk), "pin": added.pin, "full_name": added.full_name}
    # §24: the roster is frozen since the quota lock; the district approves or rejects.
    return 202, {
        "addition": str(added.pk),
        "pin": added.pin,
        "full_name": added.full_name,
        "status": added.status,
    }


class TeacherRemoveIn(Schema):
    ground: str = Field(
        default="",
        max_length=300,
        description="The school's ground for the removal; required from the quota lock on",
    )


def _change_out(change: TeacherAddition) -> dict[str, Any]:
    return {
        "change": str(change.pk),
        "kind": change.kind,
        "pin": change.pin,
        "full_name": change.full_name,
        "ground": change.ground,
        "status": change.status,
        "note": change.note,
        "requested_at": change.requested_at,
        "decided_at": change.decided_at,
    }


@staff.get(
    "/schools/{school_id}/teachers",
    response={200: dict[str, Any], **PROBLEMS},
    summary="A school's teacher roster (§24) and its changes, pending or decided by the district",
)
def teachers(request: HttpRequest, school_id: str) -> dict[str, Any]:
    """The school's own staff, and the district and the ministry that oversee it (§17)."""
    school = _children_school(request, school_id)
    roster = Teacher.objects.filter(school=school).order_by("full_name", "pk")
    changes = TeacherAddition.objects.filter(school=school).order_by("-requested_at")[:200]
    return {
        "frozen": teacher_roster_frozen(teacher_roster_campaign()),
        "teachers": [
            {"id": str(t.pk), "pin": t.pin, "full_name": t.full_name, "added_at": t.added_at}
            for t in roster
        ],
        "changes": [_change_out(c) for c in changes],
    }


@staff.post(
    "/schools/{school_id}/teachers/{teacher_id}/remove",
    response={200: dict[str, Any], 202: dict[str, Any], **PROBLEMS},
    summary="Remove a teacher from the roster (§24); after the quota lock, ask the district (202)",
)
def remove_teacher(
    request: HttpRequest, school_id: str, teacher_id: str, payload: TeacherRemoveIn
) -> tuple[int, dict[str, Any]]:
    school = _own_school(request, school_id)
    if not is_row_id(teacher_id):
        raise Http404
    teacher = Teacher.objects.filter(pk=int(teacher_id), school=school).first()
    if teacher is None:
        raise Http404
    removal = teacher_remove(teacher=teacher, actor=actor_of(request), ground=payload.ground)
    if removal is None:
        return 200, {"id": teacher_id, "removed": True}
    # §24: the roster is frozen since the quota lock; the district approves or rejects.
    return 202, _change_out(removal)


class FormIn(Schema):
    language: LanguageCode


@staff.post(
    "/schools/{school_id}/classes/form",
    response={200: list[dict[str, Any]], **PROBLEMS},
    summary="Form the classes of a language, gender-balanced (§19)",
)
def form(request: HttpRequest, school_id: str, payload: FormIn) -> list[dict[str, Any]]:
    school = _own_school(request, school_id)
    formed = classes_form(
        campaign=campaign_active(),
        school=school,
        language=payload.language,
        actor=actor_of(request),
    )
    return [
        {
            "letter": c.letter,
            "language": c.language,
            "class_set": c.class_set_number,
            "children": [str(m.application_id) for m in c.members.all()],
        }
        for c in formed
    ]


@staff.get(
    "/schools/{school_id}/kundoluk.json",
    response={200: dict[str, Any], **PROBLEMS},
    summary="Admitted children for Kundoluk (§30), JSON",
)
def kundoluk_json(request: HttpRequest, school_id: str) -> dict[str, Any]:
    school = _children_school(request, school_id)
    document = kundoluk_document(campaign=campaign_active(), school=school)
    audit_download(
        actor=actor_of(request),
        what="kundoluk",
        file_format="json",
        obj=school,
        school=school.pk,
        count=len(document.get("children", [])),
    )
    return document


@staff.get(
    "/schools/{school_id}/kundoluk.csv",
    response={200: None, **PROBLEMS},
    summary="Admitted children for Kundoluk (§30), CSV — also the admission order",
)
def kundoluk_csv(request: HttpRequest, school_id: str) -> HttpResponse:
    school = _children_school(request, school_id)
    rows = admitted_children(campaign=campaign_active(), school=school)
    audit_download(
        actor=actor_of(request),
        what="kundoluk",
        file_format="csv",
        obj=school,
        school=school.pk,
        count=len(rows),
    )
    response = HttpResponse(
        rows_csv(rows, KUNDOLUK_COLUMNS, labelled=False), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="kundoluk-{school.code}.csv"'
    return response
