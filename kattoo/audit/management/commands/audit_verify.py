from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kattoo.audit.chain import audit_verify


class Command(BaseCommand):
    help = "Recompute the audit hash chain; fail naming the first edited or deleted event."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify()
        if not report.intact:
            raise CommandError(
                f"audit chain broken: first bad event {report.first_broken}, "
                f"unsealed below the head {report.unsealed_below_head}"
            )
        self.stdout.write(f"audit chain intact: {report.checked} events")
