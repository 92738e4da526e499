"""The busy pages nginx serves when the application is full (ADR 0035) are the application's
own refusal, written from the translations by ``manage.py busy_pages``."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kattoo.web.admission import BUSY_PAGES_DIR, busy_pages
from kattoo.web.management.commands import busy_pages as command


def test_the_committed_pages_are_what_the_translations_say() -> None:
    """Run `python manage.py busy_pages` after changing the service_busy message."""
    assert command.stale_busy_pages() == []
    assert sorted(p.name for p in BUSY_PAGES_DIR.iterdir()) == sorted(busy_pages())


def test_every_language_as_problem_json_and_as_a_page() -> None:
    pages = busy_pages()
    assert sorted(pages) == sorted(
        f"{language}.{kind}" for language in ("ky", "ru", "uz", "en") for kind in ("json", "html")
    )
    assert b"service_busy" in pages["ky.json"]
    assert pages["ky.html"].startswith(b'<!doctype html><html lang="ky">')
    # readable on a phone, and nothing more to fetch from a server that is full
    assert b'name="viewport" content="width=device-width' in pages["ky.html"]
    assert b"<link" not in pages["ky.html"] and b"<script" not in pages["ky.html"]
    assert pages["ru.json"] != pages["ky.json"] != pages["en.json"]


def test_check_fails_on_a_missing_or_changed_page_and_write_mends_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(command, "BUSY_PAGES_DIR", tmp_path / "busy")
    with pytest.raises(CommandError, match="out of date"):
        call_command("busy_pages", "--check")
    call_command("busy_pages")
    call_command("busy_pages", "--check")
    assert {p.name: p.read_bytes() for p in (tmp_path / "busy").iterdir()} == busy_pages()
    (tmp_path / "busy" / "uz.json").write_bytes(b"{}")
    with pytest.raises(CommandError, match=r"uz\.json"):
        call_command("busy_pages", "--check")
