"""The parent's web journey with JavaScript off (plain forms), in Kyrgyz and Russian."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from kattoo.enrollment.models import Application, SeatPool, Status

from ..conftest import World
from ..notifications.phone import latest_challenge, sign_in_code


@pytest.fixture(autouse=True)
def _limits():
    cache.clear()


def sign_in(client: Client, pin: str, language: str = "ky") -> None:
    client.cookies["django_language"] = language
    response = client.post("/login/", {"pin": pin, "next": "/children/"})
    assert response.status_code == 302 and response["Location"].startswith("/login/code/")
    challenge = latest_challenge(pin)
    code = sign_in_code(challenge.pk)
    response = client.post(response["Location"], {"code": code})
    assert response.status_code == 302 and response["Location"] == "/children/"


def test_register_and_cancel_in_kyrgyz(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    sign_in(client, family.parent.person.pin)
    page = client.get("/children/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'lang="ky"' in html and family.child.name in html and "Мектеп тандоо" in html

    schools = client.get(f"/children/{family.child.pk}/schools/").content.decode()
    assert world.school.name_ky in schools and world.other_school.name_ky not in schools

    response = client.post(
        "/applications/new/",
        {"child": family.child.pk, "school": world.school.pk, "language": "ky"},
    )
    assert response.status_code == 302
    application = Application.objects.get()
    detail = client.get(response["Location"]).content.decode()
    assert "1" in detail and world.school.name_ky in detail

    confirm = client.get(f"/applications/{application.pk}/cancel/").content.decode()
    assert "2" in confirm  # cancellations left after this one
    response = client.post(f"/applications/{application.pk}/cancel/")
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.CANCELLED
    assert SeatPool.objects.get(school=world.school, language="ky").taken == 0


def test_refusal_explains_why_and_what_next_in_russian(
    client: Client, world: World, at_stage1
) -> None:
    family = world.family()
    sign_in(client, family.parent.person.pin, language="ru")
    response = client.post(
        "/applications/new/",
        {"child": family.child.pk, "school": world.other_school.pk, "language": "ky"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert 'lang="ru"' in html and "микроучаст" in html and "2026-06-01 10:00" in html
    assert not Application.objects.exists()


def test_htmx_refresh_returns_only_the_rows(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    sign_in(client, family.parent.person.pin)
    partial = client.get(f"/children/{family.child.pk}/schools/", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and b"<html" not in partial.content


def test_other_parents_children_and_registrations_are_404(
    client: Client, world: World, at_stage1
) -> None:
    family, stranger = world.family(), world.family()
    sign_in(client, stranger.parent.person.pin)
    assert client.get(f"/children/{family.child.pk}/schools/").status_code == 404
    other = Client()
    sign_in(other, family.parent.person.pin)
    other.post(
        "/applications/new/",
        {"child": family.child.pk, "school": world.school.pk, "language": "ky"},
    )
    application = Application.objects.get()
    assert client.get(f"/applications/{application.pk}/").status_code == 404
    assert client.post(f"/applications/{application.pk}/cancel/").status_code == 404


def test_anonymous_is_sent_to_sign_in(client: Client, campaign) -> None:
    response = client.get("/children/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_public_pages(client: Client, world: World) -> None:
    for path in ("/", "/status/", f"/addresses/?q={world.home.name_ru}+3"):
        response = client.get(path)
        assert response.status_code == 200, path
    assert (
        world.school.name_ky in client.get(f"/addresses/?q={world.home.name_ru}+3").content.decode()
    )


def test_wrong_code_is_explained(client: Client, world: World) -> None:
    family = world.family()
    response = client.post("/login/", {"pin": family.parent.person.pin})
    page = client.post(response["Location"], {"code": "000000"})
    assert page.status_code == 200 and b"alert error" in page.content


def test_bad_pin_is_tied_to_its_field(client: Client, campaign) -> None:
    page = client.post("/login/", {"pin": "123"}).content.decode()
    assert 'class="field field-error"' in page
    assert 'aria-describedby="id_pin_helptext id_pin_error"' in page and 'id="id_pin_error"' in page


def test_language_switch_is_kept_for_the_user(client: Client, world: World) -> None:
    family = world.family()
    sign_in(client, family.parent.person.pin)
    client.post("/language/", {"language": "ru", "next": "/children/"})
    family.parent.refresh_from_db()
    assert family.parent.language == "ru"
