"""A registration's position — the order of acceptance in its pool (RULES.md §5: first come,
first served) — re-derived from the audit trail alone.

``application.register`` events are written by the allocation statement itself, under the
pool's row lock, so within one pool their ids (the order the audit chain seals them in) follow
the order of acceptance. Counting them in that order must give back every stored position; an
edited position, a deleted event or a registration without its event shows as a difference.
"""

from __future__ import annotations

import datetime as dt

from kattoo.audit.models import AuditEvent
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_quota_lock_at

from .models import SeatPool


def _campaign_span(campaign: Campaign) -> tuple[dt.datetime, dt.datetime | None]:
    """The audit events carry the school and language but not the campaign: campaigns take
    turns, each owning the time from its quota lock (pools are final from then on) to the
    next campaign's lock."""
    start = campaign_quota_lock_at(campaign)
    later = (
        Campaign.objects.filter(stage1_starts_at__gt=campaign.stage1_starts_at)
        .order_by("stage1_starts_at")
        .first()
    )
    return start, (campaign_quota_lock_at(later) if later is not None else None)


def acceptance_order_from_audit(pool: SeatPool) -> dict[str, int]:
    """Application id → position, counted from the pool's ``application.register`` events in
    chain (id) order."""
    start, end = _campaign_span(pool.campaign)
    events = AuditEvent.objects.filter(
        action="application.register",
        data__school=pool.school_id,
        data__language=pool.language,
        at__gte=start,
    )
    if end is not None:
        events = events.filter(at__lt=end)
    ids = events.order_by("id").values_list("object_id", flat=True)
    return {application_id: position for position, application_id in enumerate(ids, start=1)}
