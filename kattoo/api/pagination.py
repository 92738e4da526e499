"""Cursor pagination (API.md): ``?limit=&cursor=`` → ``{"items": [...], "next_cursor": ...}``.

The cursor is the last key seen, base64-encoded: stable under inserts, opaque to clients."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kattoo.core.errors import FieldError

M = TypeVar("M")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def _encode(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise FieldError("cursor", "invalid_cursor", _("The cursor is not valid.")) from exc


def paginate_by_pk(
    queryset: QuerySet[Any], *, limit: int | None, cursor: str | None, descending: bool = False
) -> tuple[Sequence[Any], str | None]:
    """Keyset pagination over an integer or UUID primary key, ascending (or newest first)."""
    size = min(max(limit or DEFAULT_LIMIT, 1), MAX_LIMIT)
    qs = queryset.order_by("-pk" if descending else "pk")
    if cursor:
        after = _decode(cursor)
        field = queryset.model._meta.pk
        try:
            value: Any = field.to_python(after)
        except Exception as exc:
            raise FieldError("cursor", "invalid_cursor", _("The cursor is not valid.")) from exc
        qs = qs.filter(pk__lt=value) if descending else qs.filter(pk__gt=value)
    rows = list(qs[: size + 1])
    next_cursor = _encode(str(rows[size - 1].pk)) if len(rows) > size else None
    return rows[:size], next_cursor
