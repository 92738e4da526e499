from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kattoo.core.actors import Actor
from kattoo.retention.services import personal_data_purge, retention_period


class Command(BaseCommand):
    help = (
        "§7: anonymise personal data whose retention period after its campaign has run out "
        "(KATTOO_RETENTION_DAYS). Aggregates and the audit trail stay."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count who would be anonymised; change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = bool(options["dry_run"])
        report = personal_data_purge(actor=Actor.system(), dry_run=dry_run)
        verb = "would be anonymised" if dry_run else "anonymised"
        self.stdout.write(
            f"{report.persons} persons {verb} (retention {retention_period().days} days)"
        )
        if not dry_run:
            for name, n in report.as_dict().items():
                self.stdout.write(f"  {name}: {n}")
