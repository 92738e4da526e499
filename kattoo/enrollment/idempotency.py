"""``Idempotency-Key`` for create requests (API.md): the same key and body return the first
answer and change nothing; the same key with another body is refused.

The record is written in the same transaction as the thing it created, so a registration
and its idempotency record exist together or not at all. Two racing requests with one key:
the loser's insert hits the unique constraint, its whole transaction (its registration
included) rolls back, and it answers with the winner's stored response.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kattoo.accounts.models import User
from kattoo.core import clock
from kattoo.core.errors import FieldError, RuleViolation

from .models import IdempotencyRecord


def response_json(body: dict[str, Any]) -> str:
    """A response body as it is stored: in the JSON the API answers with (Django's encoder:
    times in RFC 3339), so a replay holds what the first answer said."""
    return json.dumps(body, cls=DjangoJSONEncoder)


def request_fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def idempotency_key_parse(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    try:
        return str(uuid.UUID(raw))
    except ValueError as exc:
        raise FieldError(
            "Idempotency-Key", "invalid_idempotency_key", _("The Idempotency-Key must be a UUID.")
        ) from exc


def _stored(user: User, key: str, fingerprint: str) -> tuple[int, dict[str, Any]] | None:
    record = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise RuleViolation("idempotency_key_reused")
    return record.status_code, record.response


def idempotent_create(
    *,
    user: User,
    key: str | None,
    payload: dict[str, Any],
    create: Callable[[], dict[str, Any]],
    status_code: int = 201,
) -> tuple[int, dict[str, Any]]:
    """Run ``create`` (a service call returning the response body) at most once per key."""
    if key is None:
        return status_code, create()
    fingerprint = request_fingerprint(payload)
    if (previous := _stored(user, key, fingerprint)) is not None:
        return previous
    try:
        with transaction.atomic():
            body = create()
            IdempotencyRecord.objects.create(
                user=user,
                key=key,
                request_hash=fingerprint,
                status_code=status_code,
                response=body,  # stored as Django's encoder writes it (``JSONText``)
                created_at=clock.now(),
            )
    except IntegrityError:
        if (previous := _stored(user, key, fingerprint)) is not None:
            return previous
        raise
    except RuleViolation:
        # A refusal may have lost a race to the winner of this key: answer with the winner.
        if (previous := _stored(user, key, fingerprint)) is not None:
            return previous
        raise
    return status_code, body
