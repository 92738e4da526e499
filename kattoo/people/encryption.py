"""Personal data at rest (§7): which fields are encrypted, and re-encryption after a new key
is put first in ``KATTOO_FIELD_KEYS`` (then the old key can be dropped)."""

from __future__ import annotations

from django.apps import apps
from django.db import models, transaction
from fernet_fields import EncryptedField

from kattoo.audit.services import audit_record
from kattoo.core.actors import Actor

BATCH = 1000


def encrypted_fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]


def personal_data_reencrypt(*, actor: Actor) -> dict[str, int]:
    """Rewrite every encrypted value with the first key. Each batch is its own transaction, so
    a long run holds no lock for long and can be resumed (any key of the list still reads)."""
    counts: dict[str, int] = {}
    # Every model with an encrypted field, whichever app holds it (people, sign-in challenges,
    # web sessions): a value left under the old key is lost once that key is dropped.
    for model in apps.get_models():
        fields = encrypted_fields(model)
        if not fields:
            continue
        ids = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH):
            with transaction.atomic():
                rows = model._default_manager.filter(pk__in=ids[start : start + BATCH]).only(
                    *fields
                )
                # One UPDATE a row: bulk_update would hand the fields a CASE expression to
                # encrypt (django-fernet-fields-v2 encrypts whatever it is given).
                for row in rows:
                    model._default_manager.filter(pk=row.pk).update(
                        **{f: getattr(row, f) for f in fields}
                    )
        counts[model._meta.label_lower] = len(ids)
    with transaction.atomic():
        audit_record(actor=actor, action="personal_data.reencrypt", data=counts)
    return counts
