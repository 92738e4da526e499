"""``manage.py integrity_check``: the daily anti-join check of the references without a
foreign-key constraint (ADR 0026). Exits non-zero when it finds an orphan, so the timer's
unit fails and the failure shows in ``systemctl --failed`` and the journal."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kattoo.enrollment.integrity import integrity_orphans, unconstrained_references


class Command(BaseCommand):
    help = "Find rows whose unconstrained references name a missing row (exit 1 if any)."

    def handle(self, *args: Any, **options: Any) -> None:
        found = integrity_orphans()
        for orphans in found:
            self.stderr.write(
                f"{orphans.table}.{orphans.column} → {orphans.target}: {orphans.count} orphan(s), "
                f"e.g. {', '.join(f'{a} → {b}' for a, b in orphans.sample[:5])}"
            )
        if found:
            raise CommandError(f"{sum(o.count for o in found)} orphaned row(s)", returncode=1)
        self.stdout.write(f"integrity: {len(unconstrained_references())} references checked, ok")
