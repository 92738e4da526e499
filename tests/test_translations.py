"""Every user-facing string is translated into Kyrgyz, Russian, Uzbek and English (STYLE.md §9;
Uzbek, Latin script, since issue 14: pages, SMS and problem documents)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from kattoo.accounts.services import token_issue
from kattoo.campaigns.models import Campaign
from kattoo.core.errors import ERRORS
from kattoo.notifications.backends import MemoryBackend
from kattoo.notifications.messages import render
from kattoo.notifications.models import Notification
from kattoo.web.admission import _language as admission_language

from .conftest import SYSTEM, World
from .notifications.phone import latest_challenge, sign_in_code

LANGUAGES = ["ky", "ru", "uz", "en"]
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
    assert len(set(titles.values())) == len(LANGUAGES), titles


# ---- Uzbek (issue 14): the fourth language, in pages, SMS and problem documents ----------------

PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{[^{}]*\}|</?[a-zA-Z][^>]*>")


def test_the_uzbek_catalog_has_every_message_with_its_placeholders() -> None:
    kyrgyz = [(m.id, m.context) for m in catalog("ky") if m.id]
    uzbek = [m for m in catalog("uz") if m.id]
    assert [(m.id, m.context) for m in uzbek] == kyrgyz
    broken = []
    for message in uzbek:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for n, text in enumerate(forms):
            source = ids[min(n, len(ids) - 1)]
            if Counter(PLACEHOLDER.findall(text)) != Counter(PLACEHOLDER.findall(source)):
                broken.append(ids[0])
    assert broken == []


def test_uzbek_is_offered_and_read_from_accept_language() -> None:
    assert [code for code, _name in settings.LANGUAGES] == ["ky", "ru", "uz", "en"]
    assert admission_language("uz-Latn-UZ,uz;q=0.9,ru;q=0.5") == "uz"
    with translation.override("uz"):
        assert str(ERRORS["not_found"][1]) == "Topilmadi."


def test_a_page_speaks_uzbek(client: Client, campaign: Campaign) -> None:
    client.cookies["django_language"] = "uz"
    response = client.get("/help/")
    assert response.status_code == 200 and response["Content-Language"] == "uz"
    html = response.content.decode()
    assert 'lang="uz"' in html and "Sizga nima kerak" in html and "What you need" not in html
    # The switcher offers Uzbek under its own name and marks it.
    assert '<option value="uz" selected>Oʻzbek tili</option>' in html


def test_an_api_problem_speaks_uzbek(client: Client, world: World, at_stage1: Any) -> None:
    family = world.family()
    headers = {
        "Accept-Language": "uz",
        "Authorization": f"Bearer {token_issue(user=family.parent, actor=SYSTEM)}",
    }
    body = {"child": str(family.child.pk), "school": str(world.other_school.pk), "language": "ky"}
    response = client.post(
        "/api/v1/applications", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    with translation.override("uz"):
        title = str(ERRORS["not_in_microdistrict"][1])
    assert problem["code"] == "not_in_microdistrict" and problem["title"] == title
    assert problem["title"].startswith("Birinchi bosqichda")
    # The account may keep Uzbek as the language of its messages.
    response = client.patch(
        "/api/v1/me", {"language": "uz"}, content_type="application/json", headers=headers
    )
    assert response.status_code == 200
    family.parent.refresh_from_db()
    assert family.parent.language == "uz"


def test_an_sms_speaks_uzbek() -> None:
    context = {"child": "Aziz", "school": "№ 5", "language": "O‘zbek tili", "position": 7}
    text = render("application_registered", context, "uz")
    assert text.startswith("Kattoo: Aziz 1-sinfga yozildi") and "7" in text
    assert text != render("application_registered", context, "ky")
    assert render("login_code", {"code": "123456"}, "uz") == (
        "Kattoo: kirish kodingiz 123456. Uni hech kimga aytmang."
    )


def test_a_parent_who_signs_in_in_uzbek_gets_uzbek_sms(
    client: Client, world: World, at_stage1: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The language of the page where the PIN is typed becomes the account's (issue 14)."""
    MemoryBackend.outbox.clear()
    family = world.family()
    pin = family.parent.person.pin
    cache.clear()
    client.cookies["django_language"] = "uz"
    response = client.post("/login/", {"pin": pin, "next": "/children/"})
    assert response.status_code == 302
    code = sign_in_code(latest_challenge(pin).pk)
    assert client.post(response["Location"], {"code": code}).status_code == 302
    family.parent.refresh_from_db()
    assert family.parent.language == "uz"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/applications/new/",
            {"child": family.child.pk, "school": world.school.pk, "language": "ky"},
        )
    assert response.status_code == 302
    [sms] = [m for m in MemoryBackend.outbox if "1-sinfga yozildi" in m["body"]]
    assert family.child.name in sms["body"] and "navbatdagi o‘rin: 1" in sms["body"]
    assert Notification.objects.get(event="application_registered").language == "uz"
    MemoryBackend.outbox.clear()
