"""Register, cancel, register elsewhere — in Kyrgyz on a phone, and with JavaScript off."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application, SeatPool, Status
from kattoo.enrollment.services import application_register

from ..conftest import STAGE2, World
from .conftest import Phone
from .parent import alert_text, class_name, name_in, register_through_the_check, sign_in, t

pytestmark = pytest.mark.browser


def seats_refresh_without_reload(phone: Phone, world: World, language: str) -> None:
    """Another family takes a Russian-class seat; the open page shows it within 15 s."""
    page = phone.page
    russian = page.locator("#school-rows .pools li").filter(has_text=class_name(language, "ru"))
    assert "26" in russian.inner_text()
    page.evaluate("window.kattooSamePage = true")
    neighbours = world.family()
    application_register(
        campaign=world.campaign,
        user=neighbours.parent,
        child=neighbours.child,
        school=world.school,
        language="ru",
        actor=Actor(user=neighbours.parent, channel="web"),
    )
    page.clock.run_for(16_000)
    expect(russian.locator(".seats")).to_have_text(re.compile(r"\b25\b"), timeout=5_000)
    assert page.evaluate("window.kattooSamePage === true"), "the page was reloaded"


def register_cancel_register_elsewhere(phone: Phone, world: World, language: str) -> None:
    family = world.family()
    child = family.child
    if phone.javascript:
        phone.page.clock.install()  # the seats poll (every 15 s) is driven by the test
    sign_in(phone, family.parent.person.pin, language)
    page = phone.page
    assert page.locator("html").get_attribute("lang") == language
    assert child.name in page.locator("main").inner_text()

    page.get_by_role("link", name=t(language, "Choose a school")).click()
    phone.check("schools")
    rows = page.locator("#school-rows").inner_text()
    home_name, other_name = name_in(language, world.school), name_in(language, world.other_school)
    assert home_name in rows and other_name not in rows
    if phone.javascript:
        seats_refresh_without_reload(phone, world, language)

    register_through_the_check(phone, world.school, "ky", language)
    phone.check("registered")
    application = Application.objects.get(child=child)
    assert phone.path == f"/applications/{application.pk}/"
    assert t(language, "Registered. Your place in the queue is %(position)d.", position=1) in (
        alert_text(phone)
    )
    main = page.locator("main").inner_text()
    assert (
        t(language, "Place in the queue of this school and language: %(position)s.", position=1)
        in main
    )
    assert home_name in main

    page.get_by_role("link", name=t(language, "Cancel this registration")).click()
    phone.check("cancel-warning")
    warning = page.locator("main .alert.warn").inner_text()
    assert "2" in warning and home_name in warning
    page.get_by_role("button", name=t(language, "Yes, cancel")).click()
    phone.check("cancelled")
    application.refresh_from_db()
    assert application.status == Status.CANCELLED
    assert SeatPool.objects.get(school=world.school, language="ky").taken == 0
    assert t(language, "The registration is cancelled and the seat is freed.") in alert_text(phone)

    with clock.frozen(STAGE2 + dt.timedelta(minutes=5)):
        phone.goto(f"/children/{child.pk}/schools/")
        phone.check("stage2-schools")
        register_through_the_check(phone, world.other_school, "ky", language)
        phone.check("registered-elsewhere")
    elsewhere = Application.objects.get(child=child, status=Status.REGISTERED)
    assert elsewhere.school == world.other_school and elsewhere.position == 1
    assert phone.path == f"/applications/{elsewhere.pk}/"


def test_register_cancel_and_register_elsewhere_in_kyrgyz(
    phone_factory, world: World, at_stage1
) -> None:
    register_cancel_register_elsewhere(phone_factory(locale="ky-KG"), world, "ky")


def test_the_same_journey_works_without_javascript(phone_factory, world: World, at_stage1) -> None:
    register_cancel_register_elsewhere(phone_factory(locale="ky-KG", javascript=False), world, "ky")
