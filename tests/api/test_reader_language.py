"""Campaign titles and school addresses in the request's language over the API (issue 14); the
older single ``title`` is still accepted."""

from __future__ import annotations

import pytest
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.campaigns.models import Campaign
from kattoo.core import clock

from ..conftest import World
from .test_applicant_api import Api
from .test_campaigns import BODY as OLD_BODY
from .test_campaigns import api_as

BODY = {**OLD_BODY, "copy_from": "2026-2027"}

TITLES = {
    "title_ky": "2027–2028 окуу жылы (машыгуу кампаниясы)",
    "title_ru": "2027–2028 учебный год (пробная кампания)",
    "title_uz": "2027–2028 o‘quv yili (sinov kampaniyasi)",
    "title_en": "2027–2028 school year (rehearsal)",
}


@pytest.fixture
def _december(campaign):
    with clock.frozen(clock.bishkek(2026, 12, 1, 12, 0)):
        yield


def test_a_title_per_language_read_in_the_requests_language(client: Client, _december) -> None:
    admin = api_as(client, Role.MINISTRY_ADMIN)
    body = {k: v for k, v in BODY.items() if k != "title"} | TITLES
    created = admin.post("/campaigns", body)
    assert created.status_code == 201, created.content
    assert {k: created.json()[k] for k in TITLES} == TITLES
    for language in ("ky", "ru", "uz", "en"):
        admin.headers["Accept-Language"] = language
        card = admin.get("/campaigns/2027-2028").json()
        assert card["title"] == TITLES[f"title_{language}"]


def test_an_empty_title_is_the_academic_year_in_the_readers_language(
    client: Client, _december
) -> None:
    admin = api_as(client, Role.MINISTRY_ADMIN)
    body = {k: v for k, v in BODY.items() if k != "title"}
    created = admin.post("/campaigns", body | {"title_ru": "Пробная"})
    assert created.status_code == 201, created.content
    # The client speaks English ("en"): no Russian title leaks onto its page.
    assert created.json()["title"] == "2027–2028 school year"
    admin.headers["Accept-Language"] = "ru"
    assert admin.get("/campaigns/2027-2028").json()["title"] == "Пробная"


def test_an_older_client_sends_one_title_for_every_language(client: Client, _december) -> None:
    admin = api_as(client, Role.MINISTRY_ADMIN)
    assert admin.post("/campaigns", BODY).status_code == 201
    changed = admin.client.patch(
        "/api/v1/campaigns/2027-2028",
        {"title": "2027–2028", "title_ru": "2027–2028 учебный год"},
        content_type="application/json",
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.content
    campaign = Campaign.objects.get(code="2027-2028")
    assert (campaign.title_ky, campaign.title_uz, campaign.title_en) == ("2027–2028",) * 3
    assert campaign.title_ru == "2027–2028 учебный год"


def test_too_long_a_title_is_refused_and_nothing_changes(client: Client, _december) -> None:
    admin = api_as(client, Role.MINISTRY_ADMIN)
    assert admin.post("/campaigns", BODY).status_code == 201
    refused = admin.client.patch(
        "/api/v1/campaigns/2027-2028",
        {"title_ky": "x" * 201},
        content_type="application/json",
        headers=admin.headers,
    )
    assert refused.status_code == 422
    assert Campaign.objects.get(code="2027-2028").title_ky == "2027–2028"


def test_the_school_card_gives_the_address_in_the_requests_language(
    client: Client, world: World
) -> None:
    school = world.school
    cards = {
        lang: Api(client, language=lang).get(f"/schools/{school.pk}").json()
        for lang in ["ky", "ru"]
    }
    assert cards["ky"]["address"] == school.address_ky != school.address_ru
    assert cards["ru"]["address"] == school.address_ru
    assert cards["ru"]["address_ky"] == school.address_ky
    assert cards["ky"]["address_ru"] == school.address_ru
