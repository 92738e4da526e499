"""Campaign writes: a campaign is data the ministry sets (§3, §5), never code."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kattoo.audit.services import audit_record
from kattoo.core.actors import Actor

from .models import Campaign


@transaction.atomic
def campaign_upsert(
    *, code: str, values: dict[str, Any], actor: Actor, activate: bool = False
) -> Campaign:
    """Create or update a campaign; ``activate`` makes it the one current campaign."""
    if activate:
        Campaign.objects.exclude(code=code).filter(is_active=True).update(is_active=False)
        values = {**values, "is_active": True}
    campaign, created = Campaign.objects.update_or_create(code=code, defaults=values)
    campaign.full_clean()
    audit_record(
        actor=actor,
        action="campaign.create" if created else "campaign.update",
        obj=campaign,
        data={k: str(v) for k, v in values.items()},
    )
    return campaign
