"""Campaign and school data in the page's language (issue 14): a demo-like rehearsal campaign
with a title per language and schools with a Kyrgyz and a Russian address; the parent's main
pages and the PDF receipt in Kyrgyz and in Russian show neither English titles nor the other
language's address."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import School
from kattoo.core.actors import Actor
from kattoo.enrollment.services import application_register
from kattoo.web.views import receipts

from ..conftest import World
from ..factories import SchoolFactory
from .test_parent_journey import sign_in

# As kattoo/demo sets them (load_demo).
TITLES = {
    "ky": "2026–2027 окуу жылы (машыгуу кампаниясы)",
    "ru": "2026–2027 учебный год (пробная кампания)",
    "uz": "2026–2027 o‘quv yili (sinov kampaniyasi)",
    "en": "2026–2027 school year (rehearsal)",
}
OTHER = {"ky": "ru", "ru": "ky"}


@pytest.fixture(autouse=True)
def _limits():
    cache.clear()


@pytest.fixture
def rehearsal(world: World) -> World:
    Campaign.objects.filter(pk=world.campaign.pk).update(
        **{f"title_{language}": title for language, title in TITLES.items()}
    )
    world.campaign.refresh_from_db()
    return world


@pytest.fixture
def nearby(world: World) -> School:
    """A school of the family's settlement whose microdistrict does not hold their address."""
    settlement = world.home.settlement
    return SchoolFactory(
        district=settlement.district,
        settlement=settlement,
        address_ky="Бишкек ш., Токтогул көчөсү, 7",
        address_ru="г. Бишкек, ул. Токтогула, 7",
    )


def no_foreign_words(page: str, language: str, world: World, *more: School) -> None:
    assert not re.search(r"rehearsal|school year", page, re.IGNORECASE)
    for school in (world.school, world.other_school, *more):
        foreign = getattr(school, f"address_{OTHER[language]}")
        assert foreign not in page, (language, foreign)


@pytest.mark.parametrize("language", ["ky", "ru"])
def test_main_pages_and_the_receipt_speak_the_pages_language(
    client: Client,
    rehearsal: World,
    nearby: School,
    at_stage1,
    language: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = rehearsal
    family = world.family()
    sign_in(client, family.parent.person.pin, language=language)
    own_address = getattr(world.school, f"address_{language}")

    status = client.get("/status/").content.decode()
    assert TITLES[language] in status
    schools = client.get(f"/children/{family.child.pk}/schools/").content.decode()
    assert own_address in schools
    # Nearby schools show their address in the page's language too.
    assert getattr(nearby, f"address_{language}") in schools
    check = client.get(
        f"/children/{family.child.pk}/schools/{world.school.pk}/check/?language=ky"
    ).content.decode()
    assert own_address in check
    pages = [status, schools, check]

    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent, channel="web"),
    )
    for path in ("/", "/children/", f"/applications/{application.pk}/", "/help/"):
        response = client.get(path)
        assert response.status_code == 200, path
        pages.append(response.content.decode())
    for page in pages:
        assert f'lang="{language}"' in page
        no_foreign_words(page, language, world, nearby)

    seen: list[dict[str, Any]] = []
    real = receipts.receipt_pdf

    def recording(**kwargs: Any) -> bytes:
        seen.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(receipts, "receipt_pdf", recording)
    response = client.get(f"/applications/{application.pk}/receipt.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    (words,) = seen
    assert TITLES[language] in words["subtitle"]
    assert own_address in dict(words["rows"]).values()
    text = " ".join(
        [str(words["title"]), words["subtitle"], *map(str, dict(words["rows"]).values())]
    )
    no_foreign_words(text, language, world)


def test_an_untitled_campaign_reads_as_the_academic_year_of_the_page(
    client: Client, world: World, at_stage1
) -> None:
    family = world.family()
    sign_in(client, family.parent.person.pin, language="en")
    assert "2026–2027 school year" in client.get("/status/").content.decode()


def test_uzbek_pages_show_the_uzbek_name_else_the_kyrgyz_one(
    client: Client, rehearsal: World, at_stage1
) -> None:
    world = rehearsal
    School.objects.filter(pk=world.school.pk).update(name_uz="1-son maktab")
    family = world.family()
    sign_in(client, family.parent.person.pin, language="uz")
    page = client.get(f"/children/{family.child.pk}/schools/").content.decode()
    assert 'lang="uz"' in page and "1-son maktab" in page
    # No Uzbek address in the catalog: the Kyrgyz one, never the Russian.
    assert world.school.address_ky in page and world.school.address_ru not in page
    assert TITLES["uz"] in client.get("/status/").content.decode()
