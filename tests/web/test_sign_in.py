"""The applicant's sign-in pages (ADR 0023): the same page for every PIN, the challenge only in
this browser's session, a lockout that says how long."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from kattoo.accounts.models import LoginChallenge, User
from kattoo.core import clock

from ..conftest import World
from ..notifications.phone import sign_in_code, window_start


@pytest.fixture(autouse=True)
def _fresh_limits():
    """Empty counters, and a clock pinned at the start of a limit window: a count never
    straddles two windows however slow the machine."""
    cache.clear()
    with clock.frozen(window_start()):
        yield
    cache.clear()


def ask(client: Client, pin: str) -> Any:
    client.cookies["django_language"] = "en"
    return client.post("/login/", {"pin": pin, "next": "/children/"})


def test_every_well_formed_pin_reaches_the_same_code_page(client: Client, world: World) -> None:
    family = world.family()
    pages = []
    for pin in (family.parent.person.pin, family.children[0].pin, "12001199012345"):
        fresh = Client()
        response = ask(fresh, pin)
        assert response.status_code == 302 and response["Location"].startswith("/login/code/")
        page = fresh.get(response["Location"]).content.decode()
        assert "If this PIN belongs to an adult" in page
        main = page.split("<main", 1)[-1].split("</main>", 1)[0]
        pages.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", main))
        # The handle lives in the session only; the page never shows it.
        handle = fresh.session["kattoo_login_challenge"]
        assert len(handle) >= 40 and handle not in page
    assert len(set(pages)) == 1
    assert User.objects.filter(username="12001199012345").count() == 0


def test_sign_in_with_the_code_of_this_browsers_challenge(client: Client, world: World) -> None:
    family = world.family()
    response = ask(client, family.parent.person.pin)
    code = sign_in_code(client.session["kattoo_login_challenge"])
    done = client.post(response["Location"], {"code": code})
    assert done.status_code == 302 and done["Location"] == "/children/"
    assert LoginChallenge.objects.get().user == family.parent


def test_the_lockout_says_how_long(client: Client, world: World, settings: Any) -> None:
    settings.KATTOO_LOGIN = {**settings.KATTOO_LOGIN, "CODES_PER_PIN_CLIENT": 1}
    family = world.family()
    ask(client, family.parent.person.pin)
    page = ask(client, family.parent.person.pin)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Try again in" in text and "min." in text
