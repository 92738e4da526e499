"""``manage.py opening_hold``: run by the minute timer (kattoo-minute.service). Inside a stage
opening's window it holds autovacuum off the tables a registration writes; outside, it gives
them back (ADR 0062). Safe to repeat: a run that finds the tables as they should be changes
nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kattoo.enrollment.opening_hold import opening_hold


class Command(BaseCommand):
    help = (
        "Hold autovacuum off the registration's tables from 70 minutes before a stage opens "
        "until KATTOO_OPENING_HOLD_MINUTES after it; give it back outside (run from a timer)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        hold = opening_hold()
        if hold.state == "unsupported":
            self.stdout.write("opening hold: nothing to do (the database has no autovacuum)")
            return
        where = (
            f" (campaign {hold.opening.campaign}, stage {hold.opening.stage} opens "
            f"{hold.opening.at.isoformat()}, until {hold.opening.until.isoformat()})"
            if hold.opening
            else ""
        )
        changed = ", ".join(hold.changed) if hold.changed else "nothing changed"
        self.stdout.write(f"opening hold: {hold.state}{where}: {changed}")
