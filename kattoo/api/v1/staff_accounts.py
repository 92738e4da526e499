"""API v1: staff accounts (issue 11, ADR 0018).

The ministry administrator creates district officers, analysts and administrators; a district
officer creates the directors of its own schools. A new account answers a one-time enrolment
link, never a password. The two enrolment operations are public: the link's token is the
credential, so an end-to-end run needs no browser."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from kattoo.accounts.models import StaffEnrolment, User
from kattoo.accounts.staff import (
    enrolment_url,
    staff_abilities,
    staff_creatable_roles,
    staff_create,
    staff_deactivate,
    staff_enrolled_ids,
    staff_enrolment_complete,
    staff_enrolment_start,
    staff_second_factor_reset,
    staff_visible_to,
)
from kattoo.core.errors import RuleViolation

from ..auth import bearer, current_user
from .routes import PROBLEMS, actor_of
from .serializers import local

router = Router(tags=["staff_accounts"], auth=bearer)


class StaffIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    role: str = Field(min_length=1, max_length=20)
    full_name: str = Field(min_length=1, max_length=200)
    school: str | None = Field(None, max_length=32, description="the school's catalog code")
    district: str | None = Field(None, max_length=14, description="the district's SOATE code")


class StaffCreatedOut(Schema):
    username: str
    role: str
    full_name: str
    school: str | None
    district: str | None
    enrolment_url: str
    enrolment_expires_at: dt.datetime


class StaffOut(Schema):
    username: str
    role: str
    full_name: str
    school: str | None
    district: str | None
    is_active: bool
    enrolled: bool
    abilities: dict[str, bool]


class EnrolmentLinkOut(Schema):
    username: str
    enrolment_url: str
    enrolment_expires_at: dt.datetime


class EnrolmentIn(Schema):
    token: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=128)


class EnrolmentOut(Schema):
    otpauth_uri: str
    secret: str


class EnrolmentConfirmIn(Schema):
    token: str = Field(min_length=1, max_length=100)
    code: str = Field(pattern=r"^\s*[0-9]{6}\s*$")


def _scope_codes(user: User) -> dict[str, str | None]:
    return {
        "school": user.school.code if user.school_id and user.school else None,
        "district": user.district.soate if user.district_id and user.district else None,
    }


def _link(user: User, token: str) -> dict[str, Any]:
    enrolment = StaffEnrolment.objects.filter(user=user).latest("created_at")
    return {
        "username": user.username,
        "enrolment_url": enrolment_url(token),
        "enrolment_expires_at": local(enrolment.expires_at),
    }


def _creator(request: HttpRequest) -> User:
    """Only those who create accounts list and manage them; anyone else: 403."""
    user = current_user(request)
    if not staff_creatable_roles(user, actor_of(request)):
        raise RuleViolation("forbidden")
    return user


def _target(request: HttpRequest, username: str) -> User:
    """The account named in the path, among those the caller may see (anything else: 404)."""
    user = _creator(request)
    target = staff_visible_to(user).filter(username=username).first()
    if target is None:
        raise RuleViolation("not_found")
    return target


@router.get("/staff", response={200: list[StaffOut], **PROBLEMS}, summary="Staff accounts")
def list_staff(request: HttpRequest) -> list[dict[str, Any]]:
    user = _creator(request)
    actor = actor_of(request)
    people = list(
        staff_visible_to(user).select_related("school", "district").order_by("role", "username")
    )
    enrolled = staff_enrolled_ids(people)
    abilities = staff_abilities(people, actor_user=user, actor=actor)
    return [
        {
            "username": p.username,
            "role": p.role,
            "full_name": p.full_name,
            **_scope_codes(p),
            "is_active": p.is_active,
            "enrolled": p.pk in enrolled,
            "abilities": abilities[p.pk],
        }
        for p in people
    ]


@router.post(
    "/staff", response={201: StaffCreatedOut, **PROBLEMS}, summary="Create a staff account"
)
def create_staff(request: HttpRequest, payload: StaffIn) -> tuple[int, dict[str, Any]]:
    user, token = staff_create(
        username=payload.username,
        role=payload.role,
        full_name=payload.full_name,
        school=payload.school,
        district=payload.district,
        actor_user=current_user(request),
        actor=actor_of(request),
    )
    link = _link(user, token)
    return 201, {
        "username": user.username,
        "role": user.role,
        "full_name": user.full_name,
        **_scope_codes(user),
        "enrolment_url": link["enrolment_url"],
        "enrolment_expires_at": link["enrolment_expires_at"],
    }


@router.post(
    "/staff/{username}/deactivate",
    response={204: None, **PROBLEMS},
    summary="Deactivate a staff account (revokes its tokens and sessions)",
)
def deactivate_staff(request: HttpRequest, username: str) -> tuple[int, None]:
    staff_deactivate(
        user=_target(request, username), actor_user=current_user(request), actor=actor_of(request)
    )
    return 204, None


@router.post(
    "/staff/{username}/second-factor/reset",
    response={201: EnrolmentLinkOut, **PROBLEMS},
    summary="A lost phone: remove the authenticator and issue a new enrolment link",
)
def reset_second_factor(request: HttpRequest, username: str) -> tuple[int, dict[str, Any]]:
    user, token = staff_second_factor_reset(
        user=_target(request, username), actor_user=current_user(request), actor=actor_of(request)
    )
    return 201, _link(user, token)


@router.post(
    "/staff/enrolment",
    auth=None,
    response={200: EnrolmentOut, **PROBLEMS},
    summary="Enrolment step 1: choose a password; answers the authenticator's secret",
)
def enrolment_start(request: HttpRequest, payload: EnrolmentIn) -> dict[str, Any]:
    started = staff_enrolment_start(
        token=payload.token, password=payload.password, actor=actor_of(request)
    )
    return {"otpauth_uri": started.otpauth_uri, "secret": started.secret}


@router.post(
    "/staff/enrolment/confirm",
    auth=None,
    response={204: None, **PROBLEMS},
    summary="Enrolment step 2: a code from the authenticator confirms it",
)
def enrolment_confirm(request: HttpRequest, payload: EnrolmentConfirmIn) -> tuple[int, None]:
    staff_enrolment_complete(token=payload.token, code=payload.code, actor=actor_of(request))
    return 204, None
