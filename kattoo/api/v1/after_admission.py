"""API v1: after admission (§17, §18). The parent withdraws an admitted child and answers the
school's ПМПК proposal; the school proposes; the district transfers a child by a commission
decision and reads the transfers. Services in ``enrollment/after_admission.py``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router

from kattoo.accounts.models import Role, User
from kattoo.catalog.selectors import localized_name, schools_visible_to
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.abilities import application_abilities
from kattoo.enrollment.after_admission import (
    application_transfer,
    application_withdraw,
    pmpk_proposal_answer,
    pmpk_proposals_visible_to,
    pmpk_propose,
    transfers_visible_to,
)
from kattoo.enrollment.models import AdmissionTransfer, Application, PmpkAnswer, PmpkProposal
from kattoo.enrollment.selectors import applications_visible_to

from ..auth import bearer, current_user, require_applicant
from . import schemas as s
from .routes import PROBLEMS, actor_of, is_row_id
from .serializers import application_out, local

router = Router(tags=["after admission"], auth=bearer)


class WithdrawIn(s.Schema):
    reason: str = s.Field("", max_length=500, description="The family's words (e.g. a move)")


class TransferIn(s.Schema):
    school: str = s.Field(min_length=1, max_length=32)
    language: s.LanguageCode
    number: str = s.Field(min_length=1, max_length=64, description="The decision's number")
    decided_on: dt.date


class TransferOut(s.Schema):
    id: str
    number: str
    decided_on: dt.date
    child: str
    child_name: str
    from_application: str
    from_school: str
    to_application: str
    to_school: str
    to_school_name: str
    language: str
    above_quota: bool
    recorded_at: dt.datetime


class ProposalIn(s.Schema):
    kind: Literal["special_school", "continue_here"]
    note: str = s.Field("", max_length=2000)


class AnswerIn(s.Schema):
    answer: Literal["agree", "decline"]


class ProposalOut(s.Schema):
    id: str
    application: str
    child: str
    child_name: str
    school: str
    school_name: str
    kind: str
    note: str
    proposed_at: dt.datetime
    answer: str = s.Field(description='"" while the parent has not answered; agreed; declined')
    answered_at: dt.datetime | None
    application_status: str


def _application(request: HttpRequest, application_id: str) -> Application:
    try:
        pk = uuid.UUID(application_id)
    except ValueError as exc:
        raise Http404 from exc
    visible = applications_visible_to(current_user(request)).select_related(
        "campaign", "school", "child", "user"
    )
    return get_object_or_404(visible.prefetch_related("transitions"), pk=pk)


def proposal_out(proposal: PmpkProposal) -> dict[str, Any]:
    application = proposal.application
    return {
        "id": str(proposal.pk),
        "application": str(application.pk),
        "child": str(application.child_id),
        "child_name": f"{application.child.surname} {application.child.name}",
        "school": str(application.school_id),
        "school_name": localized_name(application.school, "name"),
        "kind": proposal.kind,
        "note": proposal.note,
        "proposed_at": local(proposal.proposed_at),
        "answer": proposal.answer,
        "answered_at": local(proposal.answered_at),
        "application_status": application.status,
    }


def transfer_out(transfer: AdmissionTransfer) -> dict[str, Any]:
    old, new = transfer.from_application, transfer.to_application
    return {
        "id": str(transfer.pk),
        "number": transfer.number,
        "decided_on": transfer.decided_on,
        "child": str(old.child_id),
        "child_name": f"{old.child.surname} {old.child.name}",
        "from_application": str(old.pk),
        "from_school": str(old.school_id),
        "to_application": str(new.pk),
        "to_school": str(new.school_id),
        "to_school_name": localized_name(new.school, "name"),
        "language": new.language,
        "above_quota": new.above_quota,
        "recorded_at": local(transfer.recorded_at),
    }


def _fresh(user: User, application: Application) -> dict[str, Any]:
    fresh = (
        Application.objects.select_related("school", "child", "campaign")
        .prefetch_related("transitions")
        .get(pk=application.pk)
    )
    return application_out(fresh, application_abilities(user, fresh))


@router.post(
    "/applications/{application_id}/withdraw",
    response={200: s.ApplicationOut, **PROBLEMS},
    summary="Withdraw an admitted child (e.g. the family moves); frees the seat to the waitlist",
)
def withdraw(request: HttpRequest, application_id: str, payload: WithdrawIn) -> dict[str, Any]:
    user = require_applicant(request)
    application = _application(request, application_id)
    application_withdraw(
        application=application, user=user, reason=payload.reason, actor=actor_of(request)
    )
    return _fresh(user, application)


@router.post(
    "/applications/{application_id}/transfer",
    response={201: TransferOut, **PROBLEMS},
    summary="District: transfer an admitted child by a commission decision",
)
def transfer(
    request: HttpRequest, application_id: str, payload: TransferIn
) -> tuple[int, dict[str, Any]]:
    user = current_user(request)
    if user.role != Role.DISTRICT:
        raise RuleViolation("forbidden")
    application = _application(request, application_id)
    if not is_row_id(payload.school):
        raise Http404
    school = get_object_or_404(schools_visible_to(user), pk=int(payload.school))
    record = application_transfer(
        application=application,
        officer=user,
        school=school,
        language=payload.language,
        number=payload.number,
        decided_on=payload.decided_on,
        actor=actor_of(request),
    )
    return 201, transfer_out(transfers_visible_to(user).get(pk=record.pk))


@router.get(
    "/transfers",
    response={200: list[TransferOut], **PROBLEMS},
    summary="District and ministry: transfers by commission decisions",
)
def list_transfers(request: HttpRequest) -> list[dict[str, Any]]:
    user = current_user(request)
    if user.role not in (Role.DISTRICT, Role.MINISTRY_ADMIN, Role.MINISTRY_ANALYST):
        raise RuleViolation("forbidden")
    rows = transfers_visible_to(user).select_related("to_application__child")
    return [transfer_out(t) for t in rows.order_by("-recorded_at", "-pk")[:500]]


@router.post(
    "/applications/{application_id}/pmpk-proposals",
    response={201: ProposalOut, **PROBLEMS},
    summary="School: propose a special school or continued study on the ПМПК's conclusion",
)
def propose(
    request: HttpRequest, application_id: str, payload: ProposalIn
) -> tuple[int, dict[str, Any]]:
    user = current_user(request)
    application = _application(request, application_id)
    if user.role != Role.SCHOOL or user.school_id != application.school_id:
        raise RuleViolation("forbidden")
    proposal = pmpk_propose(
        application=application, kind=payload.kind, note=payload.note, actor=actor_of(request)
    )
    return 201, proposal_out(pmpk_proposals_visible_to(user).get(pk=proposal.pk))


@router.post(
    "/applications/{application_id}/pmpk-proposals/answer",
    response={200: ProposalOut, **PROBLEMS},
    summary="Parent: agree to or decline the school's open ПМПК proposal",
)
def answer(request: HttpRequest, application_id: str, payload: AnswerIn) -> dict[str, Any]:
    user = require_applicant(request)
    application = _application(request, application_id)
    proposal = pmpk_proposals_visible_to(user).filter(
        application=application, answer=PmpkAnswer.PENDING
    )
    found = proposal.first()
    if found is None:
        raise Http404
    pmpk_proposal_answer(
        proposal=found, agree=payload.answer == "agree", user=user, actor=actor_of(request)
    )
    return proposal_out(pmpk_proposals_visible_to(user).get(pk=found.pk))


@router.get(
    "/pmpk-proposals",
    response={200: list[ProposalOut], **PROBLEMS},
    summary="ПМПК proposals: a parent's children's, a school's, a district's, all for the ministry",
)
def list_proposals(request: HttpRequest) -> list[dict[str, Any]]:
    user: User = current_user(request)
    rows = pmpk_proposals_visible_to(user).order_by("-proposed_at", "-pk")[:500]
    return [proposal_out(p) for p in rows]
