"""Writes the "busy, retry" bodies nginx answers with when the application is full
(kattoo/web/admission.py ``busy_pages``; deploy/nginx/kattoo.conf; ADR 0035).

They are generated from the translations, so a changed message needs this run again:

    python manage.py busy_pages          # write kattoo/web/static/busy/*
    python manage.py busy_pages --check  # exit 1 if a file differs (tests/web/test_busy_pages.py)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kattoo.web.admission import BUSY_PAGES_DIR, busy_pages


def stale_busy_pages() -> list[str]:
    """The file names whose content on disk differs from what the translations give."""
    return [
        name
        for name, body in busy_pages().items()
        if not (BUSY_PAGES_DIR / name).is_file() or (BUSY_PAGES_DIR / name).read_bytes() != body
    ]


class Command(BaseCommand):
    help = (
        "Write the translated 503 bodies nginx serves when the application is full "
        "(kattoo/web/static/busy/); --check only compares."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="exit 1 if a file is missing or differs"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stale = stale_busy_pages()
        if options["check"]:
            if stale:
                raise CommandError(
                    "out of date: " + ", ".join(stale) + " (run `python manage.py busy_pages`)"
                )
            self.stdout.write("the busy pages are up to date")
            return
        BUSY_PAGES_DIR.mkdir(parents=True, exist_ok=True)
        for name, body in busy_pages().items():
            (BUSY_PAGES_DIR / name).write_bytes(body)
        self.stdout.write(f"{len(busy_pages())} busy pages written to {BUSY_PAGES_DIR}")
