from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from kattoo.accounts.models import Role, User
from kattoo.accounts.services import user_for_token
from kattoo.core.errors import RuleViolation


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


bearer = BearerToken()


def current_user(request: HttpRequest) -> User:
    user: Any = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def require_applicant(request: HttpRequest) -> User:
    user = current_user(request)
    if user.role != Role.APPLICANT or user.person_id is None:
        raise RuleViolation("forbidden")
    return user
