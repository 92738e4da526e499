"""The periodic integrity check of the references the database no longer checks (ADR 0026).

The rows the opening minute's statement writes — the application, its history row, its
audit row, its SMS and its idempotency record — reference the campaign, the pool, the school,
the child, the applicant and the user without foreign-key constraints (``db_constraint=False``):
a constraint costs a ``SELECT … FOR KEY SHARE`` of each referenced row at commit, and every
registration would share-lock the one campaign row (a multixact hot spot). The statement
takes those ids from the rows its own read just joined, and the ORM still applies every
``on_delete`` rule; this check finds what a raw write or a bug left dangling anyway: one
anti-join per unconstrained reference.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, models

logger = logging.getLogger("kattoo.integrity")

# How many orphans of one reference are listed (the count is always exact).
SAMPLE = 20


@dataclass(frozen=True, slots=True)
class Orphans:
    """Rows of ``table`` whose ``column`` names a row ``target`` does not hold."""

    table: str
    column: str
    target: str
    count: int
    sample: list[tuple[str, str]]  # (the row's id, the id it names)


def unconstrained_references() -> list[models.ForeignKey]:
    """Every foreign key of the project whose constraint the database does not hold."""
    found = []
    for model in apps.get_models():
        if not model.__module__.startswith("kattoo."):
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.ForeignKey) and not getattr(field, "db_constraint", True):
                found.append(field)
    return found


def integrity_orphans() -> list[Orphans]:
    """Each unconstrained reference with rows naming a missing row, by anti-join."""
    found: list[Orphans] = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for field in unconstrained_references():
            model = field.model
            target = field.related_model
            assert not isinstance(target, str)  # resolved once the apps are loaded
            table, column = model._meta.db_table, field.column
            target_table = target._meta.db_table
            target_column = field.target_field.column
            pk = model._meta.pk.column
            orphan = (
                f"FROM {quote(table)} t WHERE t.{quote(column)} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {quote(target_table)} r "
                f"WHERE r.{quote(target_column)} = t.{quote(column)})"
            )
            cursor.execute(f"SELECT count(*) {orphan}")
            (count,) = cursor.fetchone()
            if not count:
                continue
            cursor.execute(
                f"SELECT t.{quote(pk)}, t.{quote(column)} {orphan} "
                f"ORDER BY t.{quote(pk)} LIMIT {SAMPLE}"
            )
            sample = [(str(a), str(b)) for a, b in cursor.fetchall()]
            found.append(Orphans(table, column, target_table, count, sample))
    for orphans in found:
        logger.error(
            "integrity: %d rows of %s.%s name a missing %s row, e.g. %s",
            orphans.count,
            orphans.table,
            orphans.column,
            orphans.target,
            orphans.sample[:5],
        )
    return found
