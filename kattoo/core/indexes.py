"""Index types the two databases do not share."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.indexes import BrinIndex as PostgresBrinIndex
from django.db import models


class BrinIndex(PostgresBrinIndex):
    """A BRIN index on PostgreSQL (a few bytes per range of pages, next to nothing to write
    per row: the index of an append-only table's time column, ADR 0039); a plain index on
    SQLite, the embedded default, which has no BRIN."""

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return models.Index.create_sql(self, model, schema_editor, using=using, **kwargs)
        return super().create_sql(model, schema_editor, using=using, **kwargs)
