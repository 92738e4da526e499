"""Officers' pages as issue 14 asks: the countdown's words come from the server in the page's
language, the dashboard explains its two registration numbers side by side, and a place in
the queue names its language."""

from __future__ import annotations

import re

from django.test import Client

from kattoo.core import clock

from ...conftest import BEFORE
from .conftest import Scene, verified


def _as(client: Client, scene: Scene, who: str, language: str = "en") -> Client:
    user = scene.users[who]
    assert user is not None
    client.cookies["django_language"] = language
    return verified(client, user)


def test_the_countdown_carries_its_words_for_the_script(client: Client, scene: Scene) -> None:
    _as(client, scene, "district_own")
    with clock.frozen(BEFORE):
        page = client.get("/staff/district/").content.decode()
    body = re.search(r"<body[^>]*>", page)
    assert body is not None
    assert 'data-format-days="{d} d {h} h {m} min"' in body.group(0)
    assert 'data-format-hours="{h} h {m} min {s} s"' in body.group(0)
    # the countdown itself, and without JavaScript the time left in words
    node = re.search(r'<span class="countdown" data-opens-at="[^"]+"[^>]*>([^<]+)</span>', page)
    assert node is not None and re.fullmatch(r"(\d+ days? )?\d+ hours? \d+ minutes?", node[1])


def test_the_dashboard_explains_its_two_numbers_side_by_side(client: Client, scene: Scene) -> None:
    _as(client, scene, "analyst")
    page = client.get("/staff/ministry/").content.decode()
    figures = re.search(r'<dl class="figures">(.*?)</dl>', page, re.S)
    assert figures is not None
    opening = re.search(
        r'id="figure-opening-day"><dt>Registrations on the opening day</dt>'
        r'<dd class="figure-number">(\d+)</dd>\s*<dd class="figure-caption">([^<]+)</dd>',
        figures[1],
    )
    active = re.search(
        r'id="figure-active"><dt>Active registrations</dt><dd class="figure-number">(\d+)</dd>'
        r'\s*<dd class="figure-caption">([^<]+)</dd>',
        figures[1],
    )
    assert opening is not None and active is not None
    # the scene's one registration was made at the opening and is still waiting
    assert (opening[1], active[1]) == ("1", "1")
    assert "cancelled and refused ones are counted too" in opening[2]
    assert "Cancelled and refused ones are not counted" in active[2]


def test_a_place_in_the_queue_names_its_language(client: Client, scene: Scene) -> None:
    _as(client, scene, "school_own")
    page = client.get(f"/staff/school/applications/{scene.application.pk}/").content.decode()
    assert "No. 1 in the queue (Kyrgyz)" in page
