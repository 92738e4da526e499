"""``manage.py drafts_facts_store``: decide again the stored facts of the active campaign's
drafts whose stamp no longer holds (ADR 0029) — run after a catalog import or a batch of
registry changes, before the opening, so the opening minute's submits read no full facts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kattoo.campaigns.models import Campaign
from kattoo.core.actors import Actor
from kattoo.enrollment.services import drafts_facts_store


class Command(BaseCommand):
    help = "Store again the facts of the drafts whose stored facts are stale (ADR 0029)."

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(is_active=True).first()
        if campaign is None:  # nothing prepared yet: the nightly unit has nothing to do
            self.stdout.write("drafts: no active campaign, nothing to store")
            return
        done = drafts_facts_store(campaign=campaign, actor=Actor(user=None, channel="cli"))
        self.stdout.write(f"drafts: facts stored again for {done}")
