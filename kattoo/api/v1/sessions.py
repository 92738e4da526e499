"""API v1 (issue 13 item 5, ADR 0021): signing out, and one's own tokens. Any signed-in user,
applicant or staff; a token of another person is not found."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from kattoo.accounts.models import token_digest
from kattoo.accounts.sessions import (
    token_revoke,
    token_revoke_raw,
    tokens_active,
    user_sign_out_everywhere,
)

from ..auth import bearer, current_user
from .routes import PROBLEMS, actor_of, is_row_id
from .serializers import local

router = Router(tags=["sign-in"], auth=bearer)


class TokenListed(Schema):
    id: int
    label: str
    created_at: dt.datetime
    expires_at: dt.datetime
    current: bool


def _raw_token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    return raw.strip() if scheme.lower() == "bearer" else ""


@router.post("/auth/logout", response={204: None, **PROBLEMS}, summary="Revoke this token")
def logout(request: HttpRequest) -> tuple[int, None]:
    token_revoke_raw(raw=_raw_token(request), actor=actor_of(request))
    return 204, None


@router.post(
    "/auth/logout-all",
    response={204: None, **PROBLEMS},
    summary="Revoke every token of the user and end their web sessions",
)
def logout_all(request: HttpRequest) -> tuple[int, None]:
    user_sign_out_everywhere(user=current_user(request), actor=actor_of(request))
    return 204, None


@router.get(
    "/me/tokens",
    response={200: list[TokenListed], **PROBLEMS},
    summary="The user's tokens that still work (never their secrets)",
)
def list_tokens(request: HttpRequest) -> list[dict[str, Any]]:
    this = token_digest(_raw_token(request))
    return [
        {
            "id": token.pk,
            "label": token.label,
            "created_at": local(token.created_at),
            "expires_at": local(token.expires_at),
            "current": token.digest == this,
        }
        for token in tokens_active(current_user(request))
    ]


@router.delete(
    "/me/tokens/{token_id}",
    response={204: None, **PROBLEMS},
    summary="Revoke one of the user's tokens (another person's is not found)",
)
def revoke_token(request: HttpRequest, token_id: str) -> tuple[int, None]:
    if not is_row_id(token_id):
        raise Http404
    token_revoke(user=current_user(request), token_id=int(token_id), actor=actor_of(request))
    return 204, None
