from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kattoo.notifications.services import notifications_requeue_stale


class Command(BaseCommand):
    help = "Re-enqueue notifications left queued or claimed by a dead worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, default=300, help="seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        n = notifications_requeue_stale(older_than=dt.timedelta(seconds=options["older_than"]))
        self.stdout.write(f"re-enqueued {n}")
