from __future__ import annotations

from typing import Any

from django.db import models

from kattoo.core import clock
from kattoo.core.actors import Actor

from .models import AuditEvent


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record an action. Call inside the transaction of the write it describes."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    return AuditEvent.objects.create(
        at=clock.now(),
        actor_id=actor.user_id,
        channel=actor.channel,
        action=action,
        object_type=object_type,
        object_id=object_id,
        data=data or {},
        request_id=actor.request_id,
    )
