"""Reading by natural key in batches: bulk writes and IN lists stay below SQLite's and
PostgreSQL's parameter limits."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from django.db import models

CHUNK = 500

K = TypeVar("K")


def chunks(values: Sequence[K]) -> Iterator[Sequence[K]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def ids_by_key(model: type[models.Model], key_field: str, values: Iterable[Any]) -> dict[Any, int]:
    """The ids of the stored rows whose ``key_field`` is one of ``values`` (empty ones skipped)."""
    found: dict[Any, int] = {}
    for chunk in chunks(sorted({v for v in values if v})):
        found.update(
            model._default_manager.filter(**{f"{key_field}__in": chunk}).values_list(
                key_field, "pk"
            )
        )
    return found
