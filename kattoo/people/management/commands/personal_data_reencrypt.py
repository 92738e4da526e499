from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kattoo.core.actors import Actor
from kattoo.people.encryption import personal_data_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt personal data with the first key of KATTOO_FIELD_KEYS (key rotation)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = personal_data_reencrypt(actor=Actor.system())
        for label, n in counts.items():
            self.stdout.write(f"{label}: {n} rows re-encrypted")
