"""The help page (issue 14): what a parent needs, this campaign's stages and dates in the
page's language, the answers to common questions, and whom to call."""

from __future__ import annotations

from typing import Any

from django.test import Client

from kattoo.campaigns.models import Campaign
from kattoo.core import clock


def page(client: Client, language: str) -> str:
    client.cookies["django_language"] = language
    response = client.get("/help/")
    assert response.status_code == 200
    return response.content.decode()


def test_help_tells_what_is_needed_and_the_dates(client: Client, campaign: Campaign) -> None:
    html = page(client, "en")
    assert "Your PIN: the 14 digits" in html
    assert campaign.stage1_starts_at.astimezone(clock.BISHKEK).strftime("%d.%m.%Y") in html
    assert campaign.medical_from.strftime("%d.%m.%Y") in html
    assert f"at most {campaign.cancel_limit} times" in html
    assert "The SMS with the code does not come" in html


def test_help_speaks_kyrgyz_and_russian(client: Client, campaign: Campaign) -> None:
    ky, ru = page(client, "ky"), page(Client(), "ru")
    assert 'lang="ky"' in ky and 'lang="ru"' in ru
    assert "Your PIN" not in ky and "Your PIN" not in ru


def test_the_contact_is_shown_only_when_configured(
    client: Client, campaign: Campaign, settings: Any
) -> None:
    assert "tel:" not in page(client, "en")
    settings.KATTOO_CONTACT = {
        "PHONE": "+996 312 62 05 19",
        "HOURS": "9:00–18:00",
        "EMAIL": "",
        "FEEDBACK_URL": "https://example.kg/feedback",
    }
    html = page(client, "en")
    assert 'href="tel:+996312620519"' in html and "9:00–18:00" in html
    assert "mailto:" not in html and 'href="https://example.kg/feedback"' in html


def test_every_page_links_to_help(client: Client, campaign: Campaign) -> None:
    client.cookies["django_language"] = "en"
    assert 'href="/help/"' in client.get("/").content.decode()
    assert 'href="/help/"' in client.get("/login/").content.decode()


def test_stage_dates_follow_the_clock(client: Client, campaign: Campaign, at_stage1) -> None:
    """A stage that has opened is told in the past tense, one still to come in the future."""
    client.cookies["django_language"] = "en"
    for path in ("/", "/help/"):
        html = client.get(path).content.decode()
        assert "Stage 1 opened" in html and "Stage 1 opens" not in html
        assert "Stage 2 opens" in html
