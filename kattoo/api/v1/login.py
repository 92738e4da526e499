"""Sign-in over the API: the same PIN + SMS code flow as the web (API parity)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from kattoo.accounts.login import login_challenge_start, login_challenge_verify, login_token
from kattoo.accounts.staff import staff_token_issue
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError
from kattoo.integrations.registry.pin import InvalidPin, pin_parse

from .routes import PROBLEMS
from .serializers import local

auth = Router(tags=["sign-in"])


class CodeIn(Schema):
    pin: str = Field(min_length=1, max_length=32)


class CodeOut(Schema):
    # The same answer for every well-formed PIN (ADR 0023): a secret handle to present with
    # the code, never a hint whether (or where) an SMS went.
    challenge: str
    expires_at: dt.datetime


class TokenIn(Schema):
    challenge: str = Field(pattern=r"^[A-Za-z0-9_-]{1,100}$")
    code: str = Field(pattern=r"^\s*[0-9]{6}\s*$")


class TokenOut(Schema):
    token: str
    token_type: str
    expires_at: dt.datetime


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def valid_pin(value: str) -> str:
    try:
        pin_parse(value)
    except InvalidPin as exc:
        raise FieldError(
            "pin", "invalid_pin", _("A PIN is 14 digits: sex, date of birth DDMMYYYY and a number.")
        ) from exc
    return value


@auth.post("/auth/code", response={202: CodeOut, **PROBLEMS}, summary="Send a sign-in code by SMS")
def send_code(request: HttpRequest, payload: CodeIn) -> tuple[int, dict[str, Any]]:
    started = login_challenge_start(
        pin=valid_pin(payload.pin),
        client_ip=client_ip(request),
        actor=Actor(user=None, request_id=getattr(request, "request_id", "")),
        # A client that names no language leaves the account's as it is.
        language=(get_language() or "") if "HTTP_ACCEPT_LANGUAGE" in request.META else "",
    )
    return 202, {"challenge": started.handle, "expires_at": local(started.expires_at)}


@auth.post(
    "/auth/token", response={201: TokenOut, **PROBLEMS}, summary="Exchange the code for a token"
)
def get_token(request: HttpRequest, payload: TokenIn) -> tuple[int, dict[str, Any]]:
    actor = Actor(user=None)
    user = login_challenge_verify(
        challenge=payload.challenge, code=payload.code, actor=actor, client_ip=client_ip(request)
    )
    token, expires_at = login_token(user=user, actor=Actor(user=user))
    return 201, {"token": token, "token_type": "Bearer", "expires_at": local(expires_at)}


class StaffTokenIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=128)
    code: str = Field(pattern=r"^\s*[0-9]{6}\s*$")


@auth.post(
    "/auth/staff-token",
    response={201: TokenOut, **PROBLEMS},
    summary="A staff token: username, password and the authenticator's code",
)
def get_staff_token(request: HttpRequest, payload: StaffTokenIn) -> tuple[int, dict[str, Any]]:
    token, expires_at = staff_token_issue(
        username=payload.username.strip(),
        password=payload.password,
        code=payload.code,
        client_ip=client_ip(request),
        actor=Actor(user=None, request_id=getattr(request, "request_id", "")),
    )
    return 201, {"token": token, "token_type": "Bearer", "expires_at": local(expires_at)}
