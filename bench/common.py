"""What every benchmark does first: a fresh PostgreSQL database of its own, Django set up on
it and migrated. Benchmarks never touch the development or the test database."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(name: str, found: dict[str, Any]) -> Path:
    """``bench/results/<name>.json``: when it was made, then ``found``, in that order."""
    path = RESULTS / f"{name}.json"
    out = {"generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **found}
    path.write_text(json.dumps(out, indent=1) + "\n")
    return path


def fresh_database(suffix: str) -> str:
    """Drop and create ``<DATABASE_URL name>_<suffix>``, point Django at it, migrate it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import dj_database_url
    import django
    import psycopg
    from django.core.management import call_command

    url = os.environ.get("DATABASE_URL", "postgres://kattoo:kattoo@127.0.0.1:5432/kattoo")
    base = dj_database_url.parse(url)
    name = f"{base['NAME']}_{suffix}"
    with psycopg.connect(
        host=base["HOST"],
        port=base["PORT"] or 5432,
        user=base["USER"],
        password=base["PASSWORD"],
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    django.setup()
    call_command("migrate", verbosity=0)
    return name
