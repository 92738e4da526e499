"""The outbox drain: a long-lived loop that sends what the outbox holds (issue 15, ADR 0015).

The opening minute's registration statement writes its SMS row and no task row; this loop
claims queued rows in batches (``FOR UPDATE SKIP LOCKED``, so several drains and the task
worker can run side by side) and sends them. ``--once`` drains until the outbox is empty and
exits (tests, one-off catch-up). ``--concurrency`` messages are handed to the gateway at
once (``KATTOO_NOTIFICATIONS_CONCURRENCY``): a send waits for the gateway's answer."""

from __future__ import annotations

import logging
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, connection

from kattoo.notifications.backends import backend
from kattoo.notifications.tasks import notifications_drain

logger = logging.getLogger("kattoo.notifications")


class Command(BaseCommand):
    help = "Send queued notifications from the outbox in batches, in a loop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=50, help="rows claimed at once")
        parser.add_argument(
            "--interval", type=float, default=0.5, help="seconds to wait when the outbox is empty"
        )
        parser.add_argument("--once", action="store_true", help="drain until empty, then exit")
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.KATTOO_NOTIFICATIONS_CONCURRENCY,
            help="messages handed to the gateway at once (KATTOO_NOTIFICATIONS_CONCURRENCY)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch, interval, once = options["batch"], options["interval"], options["once"]
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True  # the batch in hand is finished first

        if not once:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        # One gateway client for the whole loop (its connections kept open), and the threads
        # that wait for its answers side by side; the database work stays on this thread.
        sender = backend()
        concurrency = max(1, options["concurrency"])
        sent = 0
        with (
            ThreadPoolExecutor(concurrency, "drain-send") if concurrency > 1 else nullcontext()
        ) as pool:
            while not stopping:
                try:
                    claimed = notifications_drain(batch=batch, pool=pool, sender=sender)
                except DatabaseError:
                    # The database restarted or went away: drop the connection, try again.
                    logger.warning("outbox drain: database unavailable", exc_info=True)
                    connection.close()
                    claimed = 0
                    if once:
                        raise
                sent += claimed
                if claimed:
                    continue
                if once:
                    break
                time.sleep(interval)
        self.stdout.write(f"drained {sent}")
