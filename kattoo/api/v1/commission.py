"""API v1: decisions of the Commission on Children's Affairs, recorded by the district officer
(§9, §26). A child is named by the registry's PIN or, when the registry does not know the child
yet, by what the decision and the birth certificate state; such a child is linked to the PIN
later."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from kattoo.accounts.models import Role, User
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.selectors import schools_visible_to
from kattoo.commission.models import CommissionDecision
from kattoo.commission.services import UnregisteredChild, commission_child_link, commission_place
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.integrations.registry.pin import InvalidPin, pin_parse
from kattoo.people.services import person_refresh

from ..auth import bearer, current_user
from .routes import PROBLEMS, actor_of, is_row_id
from .schemas import LanguageCode

router = Router(tags=["staff"], auth=bearer)


class UnregisteredChildIn(Schema):
    """§9: a child without a PIN yet, as the decision and the birth certificate (if any) state."""

    surname: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=100)
    patronymic: str = Field(default="", max_length=100)
    birth_date: dt.date
    sex: Literal["F", "M"]
    certificate_series: str = Field(default="", max_length=16)
    certificate_number: str = Field(default="", max_length=16)


class CommissionIn(Schema):
    child_pin: str | None = Field(default=None, min_length=1, max_length=32)
    child: UnregisteredChildIn | None = Field(
        default=None, description="Instead of child_pin, for a child the registry does not know"
    )
    applicant_pin: str = Field(min_length=1, max_length=32)
    school: str = Field(pattern=r"^[0-9]{1,18}$")
    language: LanguageCode
    number: str = Field(min_length=1, max_length=64)
    decided_on: dt.date
    ground: Literal["over_age", "no_documents", "late", "other"]
    documents_checked: bool = False


class CommissionOut(Schema):
    id: str
    application: str
    above_quota: bool
    position: int
    temporary_id: str = Field(
        description="The child's temporary identifier until linked to the PIN; empty otherwise"
    )
    awaits_link: bool


class CommissionLinkIn(Schema):
    child_pin: str = Field(min_length=1, max_length=32)


def _pin(field: str, value: str) -> str:
    try:
        pin_parse(value)
    except InvalidPin as exc:
        raise FieldError(
            field, "invalid_pin", _("A PIN is 14 digits: sex, date of birth DDMMYYYY and a number.")
        ) from exc
    return value


def _officer(request: HttpRequest) -> User:
    user = current_user(request)
    if user.role != Role.DISTRICT:
        raise RuleViolation("forbidden")
    return user


def _out(decision: CommissionDecision) -> dict[str, Any]:
    return {
        "id": str(decision.pk),
        "application": str(decision.application_id),
        "above_quota": decision.application.above_quota,
        "position": decision.application.position,
        "temporary_id": decision.temporary_id,
        "awaits_link": decision.awaits_link,
    }


@router.post(
    "/commission-decisions",
    response={201: CommissionOut, **PROBLEMS},
    summary="District: place a child by decision of the Commission on Children's Affairs",
)
def commission_decision(request: HttpRequest, payload: CommissionIn) -> tuple[int, dict[str, Any]]:
    user = _officer(request)
    school = schools_visible_to(user).filter(pk=int(payload.school)).first()
    if school is None:
        raise Http404
    if (payload.child_pin is None) == (payload.child is None):
        raise FieldError(
            "child_pin",
            "required",
            _(
                "Give either child_pin or, for a child the registry does not know, child — "
                "one of the two."
            ),
        )
    _pin("applicant_pin", payload.applicant_pin)
    actor = actor_of(request)
    # Registry calls first, outside the service's transaction.
    child = None
    if payload.child_pin is not None:
        child = person_refresh(pin=_pin("child_pin", payload.child_pin), actor=actor)
    applicant = person_refresh(pin=payload.applicant_pin, actor=actor, applicant=True)
    stated = payload.child
    decision = commission_place(
        campaign=campaign_active(),
        officer=user,
        child=child,
        unregistered=UnregisteredChild(**stated.dict()) if stated is not None else None,
        applicant=applicant,
        school=school,
        language=payload.language,
        number=payload.number,
        decided_on=payload.decided_on,
        ground=payload.ground,
        documents_checked=payload.documents_checked,
        actor=actor,
    )
    return 201, _out(decision)


@router.post(
    "/commission-decisions/{decision_id}/link-child",
    response={200: CommissionOut, **PROBLEMS},
    summary="District: link a child placed under a temporary identifier to the registry's PIN",
)
def commission_link_child(
    request: HttpRequest, decision_id: str, payload: CommissionLinkIn
) -> dict[str, Any]:
    user = _officer(request)
    if not is_row_id(decision_id):
        raise Http404
    decision = (
        CommissionDecision.objects.filter(pk=int(decision_id), district=user.district)
        .select_related("application")
        .first()
    )
    if decision is None:
        raise Http404
    actor = actor_of(request)
    child = person_refresh(pin=_pin("child_pin", payload.child_pin), actor=actor)
    linked = commission_child_link(decision=decision, officer=user, child=child, actor=actor)
    return _out(linked)
