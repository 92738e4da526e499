"""deploy/kattoo.env.example lists every setting read from the environment (ADR 0019), and
nothing that nobody reads; nginx's body limit covers the largest upload the settings allow."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "kattoo.env.example"
# What production loads, and the application's own code.
SOURCES = [ROOT / "config/settings/base.py", ROOT / "config/settings/production.py"]
SOURCES += sorted((ROOT / "kattoo").rglob("*.py"))
READ = re.compile(r"os\.(?:environ(?:\.get)?|getenv)\s*[\[(]\s*[\"']([A-Z][A-Z0-9_]*)[\"']")
# Read by others than our code: manage.py/wsgi.py (the settings module), granian.
READ_ELSEWHERE = {"DJANGO_SETTINGS_MODULE"}
LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def read_from_environment() -> set[str]:
    return {name for path in SOURCES for name in READ.findall(path.read_text())}


def template() -> dict[str, tuple[bool, str]]:
    """KEY -> (required: an uncommented line, its value)."""
    entries: dict[str, tuple[bool, str]] = {}
    for line in TEMPLATE.read_text().splitlines():
        match = LINE.match(line)
        if match:
            entries[match.group(2)] = (match.group(1) is None, match.group(3))
    return entries


def test_every_setting_read_from_the_environment_is_in_the_template() -> None:
    names = read_from_environment()
    assert {"DATABASE_URL", "DJANGO_SECRET_KEY", "KATTOO_STATIC_ROOT"} <= names  # the scan works
    missing = names - template().keys()
    assert not missing, f"add to deploy/kattoo.env.example: {sorted(missing)}"


def test_the_template_lists_nothing_that_is_not_read() -> None:
    stale = {
        name
        for name in template().keys() - read_from_environment() - READ_ELSEWHERE
        if not name.startswith("GRANIAN_")
    }
    assert not stale, f"not read anywhere: {sorted(stale)}"


def test_what_production_requires_is_uncommented() -> None:
    production = (ROOT / "config/settings/production.py").read_text()
    required = set(re.findall(r'os\.environ\["([A-Z0-9_]+)"\]', production))
    required |= {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOWED_HOSTS", "KATTOO_REGISTRY_BACKEND"}
    entries = template()
    assert {name for name in required if not entries[name][0]} == set()
    assert entries["DJANGO_SETTINGS_MODULE"][1] == "config.settings.production"
    assert entries["KATTOO_REGISTRY_BACKEND"][1].endswith(".XRoadRegistry")


def test_every_entry_is_explained() -> None:
    """A required line has its own comment right above it; a default (commented) line has a
    comment above it or belongs to a group of defaults under one comment."""
    lines = TEMPLATE.read_text().splitlines()
    for number, line in enumerate(lines):
        match = LINE.match(line)
        if match:
            above = lines[number - 1]
            assert above.startswith("#"), line
            if match.group(1) is None:
                assert not LINE.match(above), line


def test_nginx_takes_the_largest_upload() -> None:
    conf = (ROOT / "deploy/nginx/kattoo.conf").read_text()
    megabytes = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))  # type: ignore[union-attr]
    largest = max(settings.KATTOO_CATALOG_UPLOAD_MAX_BYTES, settings.KATTOO_UPLOAD_MAX_BYTES)
    # Room for the multipart envelope and the form's other fields.
    assert megabytes * 1024 * 1024 >= largest * 1.1
