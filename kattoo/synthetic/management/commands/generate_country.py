"""``manage.py generate_country``: a synthetic country for rehearsals and load tests.

    manage.py generate_country --scale national --seed 1 --out var/country
    manage.py import_catalog var/country/catalog.json
    KATTOO_REGISTRY_POPULATION=var/country/population.json manage.py runserver

Writes DIR/catalog.json ("kattoo-catalog/1") and DIR/population.json ("kattoo-population/1");
the same seed gives the same bytes. See kattoo/synthetic/__init__.py for what is in them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kattoo.synthetic.country import ACADEMIC_YEAR, generate, write_country
from kattoo.synthetic.scales import SCALES
from kattoo.synthetic.stats import measure, report_lines


class Command(BaseCommand):
    help = "Generate a synthetic country: catalog.json and population.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", type=Path, required=True, help="directory to write into")
        parser.add_argument(
            "--academic-year",
            default=ACADEMIC_YEAR,
            help=f"campaign of the class-sets and birth window (default {ACADEMIC_YEAR})",
        )
        parser.add_argument(
            "--no-stats", action="store_true", help="skip measuring the files (saves time)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        country = generate(options["scale"], options["seed"], options["academic_year"])
        built = time.perf_counter()
        sizes = write_country(country, options["out"])
        written = time.perf_counter()
        for name, size in sizes.items():
            self.stdout.write(f"wrote {options['out'] / name} ({size / 1e6:.1f} MB)")
        self.stdout.write(
            f"generated in {built - started:.1f} s, written in {written - built:.1f} s"
        )
        if not options["no_stats"]:
            for line in report_lines(measure(country.catalog(), country.registry())):
                self.stdout.write(line)
        demo = country.demo["people"]
        self.stdout.write(f"{len(demo)} demo people, e.g. {demo[0]['pin']}" if demo else "")
