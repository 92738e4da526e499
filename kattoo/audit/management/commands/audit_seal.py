from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kattoo.audit.chain import audit_seal


class Command(BaseCommand):
    help = (
        "Seal the audit events older than the grace period into the hash chain (run from a timer)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        while (n := audit_seal()) > 0:
            total += n
        self.stdout.write(f"sealed {total}")
