from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kattoo.waitlist.services import waitlist_sweep


class Command(BaseCommand):
    help = (
        "Release the seats held by waitlist offers past their deadline and offer them to the "
        "next children in line (run from a timer; safe to repeat)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"changed {waitlist_sweep()}")
