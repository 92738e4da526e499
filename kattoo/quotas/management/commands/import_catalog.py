"""``manage.py import_catalog FILE``: load the ministry's catalog file (docs/data-formats.md).

The command only reads the file and prints; every rule is in ``catalog_import``, and the
quotas of the imported schools are computed as drafts (§11) in the same transaction
(``kattoo.quotas.automatic.catalog_import_with_quotas``) — which is why the command lives in
the quotas app, which builds on the catalog, and not in the catalog app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kattoo.catalog.importing import (
    CatalogImportError,
    ImportProblem,
    campaign_for_year,
    campaign_message,
    catalog_file_read,
)
from kattoo.core.actors import Actor
from kattoo.quotas.automatic import catalog_import_with_quotas

# Enough to fix a spreadsheet in one pass without flooding the terminal.
_SHOWN_PROBLEMS = 50


def _refusal(problems: list[ImportProblem]) -> CommandError:
    shown = [p.describe() for p in problems[:_SHOWN_PROBLEMS]]
    if len(problems) > _SHOWN_PROBLEMS:
        shown.append(_("… and %(n)d more.") % {"n": len(problems) - _SHOWN_PROBLEMS})
    head = _("The file was not imported; nothing was changed. Problems: %(n)d.") % {
        "n": len(problems)
    }
    return CommandError("\n".join([head, *shown]))


class Command(BaseCommand):
    help = (
        "Import regions, districts, settlements, streets, houses, schools, microdistricts, "
        "class-sets and teachers from a JSON or CSV file (docs/data-formats.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path of the catalog file")
        parser.add_argument(
            "--format",
            choices=["json", "csv"],
            help="file format; by default taken from the file name's extension",
        )
        parser.add_argument(
            "--campaign",
            help="campaign code or academic year of the class-sets (e.g. 2026-2027), "
            "instead of the file's academic_year",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and print what would change, without writing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s")
                % {
                    "path": path,
                    "error": exc.strerror or exc,
                }
            ) from exc

        campaign = None
        if options["campaign"]:
            campaign, problem = campaign_for_year(options["campaign"])
            if campaign is None:
                raise CommandError(campaign_message(problem, options["campaign"]))

        try:
            data = catalog_file_read(
                name=path.name,
                content=content,
                fmt=options["format"]
                or ("csv" if path.suffix.lower() in (".csv", ".tsv") else "json"),
            )
            result = catalog_import_with_quotas(
                data=data,
                actor=Actor(user=None, channel="cli"),
                campaign=campaign,
                dry_run=options["dry_run"],
            )
        except CatalogImportError as exc:
            raise _refusal(exc.problems) from exc
        report = result.report
        if report.errors:
            raise _refusal(report.errors)

        for line in report.lines() or [_("The file holds no catalog rows.")]:
            self.stdout.write(line)
        # §24: each teacher row that waits for the district or was refused by the registry.
        for outcome in report.teachers[:_SHOWN_PROBLEMS]:
            self.stdout.write(outcome.describe())
        if len(report.teachers) > _SHOWN_PROBLEMS:
            self.stdout.write(
                _("… and %(n)d more.") % {"n": len(report.teachers) - _SHOWN_PROBLEMS}
            )
        q = result.quotas
        self.stdout.write(
            _(
                "quotas: %(computed)d computed, %(recomputed)d recomputed, %(unchanged)d "
                "unchanged, %(skipped_confirmed)d confirmed (not touched), %(skipped_locked)d "
                "locked (not touched)"
            )
            % q.counts()
        )
        if report.dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
        else:
            self.stdout.write(self.style.SUCCESS(_("Catalog imported.")))
