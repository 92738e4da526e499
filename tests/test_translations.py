"""Every user-facing string is translated into Kyrgyz, Russian and English (STYLE.md §9)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils import translation

from kattoo.core.errors import ERRORS

LANGUAGES = ["ky", "ru", "en"]
ROOT = Path(settings.BASE_DIR)


def catalog(language: str):
    with open(ROOT / "locale" / language / "LC_MESSAGES" / "django.po", "rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_is_complete(language: str) -> None:
    missing = [
        m.id
        for m in catalog(language)
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)
    ]
    assert missing == [], f"{language}: {len(missing)} untranslated or fuzzy: {missing[:5]}"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_catalogs_hold_every_string_in_the_code(tmp_path: Path) -> None:
    """Run makemessages on a copy of the code and compare with the committed catalogs."""
    for name in ("kattoo", "config", "locale"):
        shutil.copytree(
            ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
        )
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ky", "--no-obsolete", "--no-location"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "PYTHONPATH": str(tmp_path),
        },
    )
    with open(tmp_path / "locale" / "ky" / "LC_MESSAGES" / "django.po", "rb") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}
    committed = {m.id for m in catalog("ky") if m.id}
    assert sorted(map(str, extracted - committed)) == [], (
        "run scripts/messages.sh and translate the new strings"
    )


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_every_error_reads_differently_in_each_language(code: str) -> None:
    titles = {}
    for language in LANGUAGES:
        with translation.override(language):
            titles[language] = str(ERRORS[code][1])
    assert len(set(titles.values())) == 3, titles
