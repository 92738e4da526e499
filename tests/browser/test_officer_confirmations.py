"""Staff confirmations on a phone (issue 14, Officers): a director refuses a child and a
district officer approves a quota on a 360 px phone — no reason is preselected, both ask for a
confirmation, and the row's actions are in view without scrolling sideways; the officer then
opens an appeal's card and reinstates the refused registration."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from kattoo.accounts.models import Role
from kattoo.appeals.models import AppealDecision
from kattoo.appeals.services import appeal_file
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Status
from kattoo.quotas.models import Quota
from kattoo.quotas.services import quota_confirm

from ..conftest import BEFORE, STAGE1, World
from .conftest import Screen
from .parent import t
from .staff import flash, staff_account, staff_sign_in
from .test_staff_journeys import registered, row_of

pytestmark = pytest.mark.browser

PHONE_WIDTH = 360


def no_sideways_scroll(screen: Screen) -> None:
    width = screen.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, width


def in_view(screen: Screen, locator) -> None:
    box = locator.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH, box


def test_refuse_on_a_phone_asks_for_reason_and_confirmation(phone_factory, world: World) -> None:
    director = staff_account(Role.SCHOOL, school=world.school)
    with clock.frozen(STAGE1 + dt.timedelta(minutes=5)):
        first = registered(world, world.family())
        second = registered(world, world.family())
    screen: Screen = phone_factory(locale="ky-KG")
    page = screen.page
    with clock.frozen(STAGE1 + dt.timedelta(hours=2)):
        staff_sign_in(screen, director, "ky", home="/staff/school/")
        screen.goto("/staff/school/children/")
        screen.check("children-phone")
        no_sideways_scroll(screen)
        rows = page.locator("table#children tbody tr")
        in_view(screen, row_of(rows, first).get_by_role("button", name=t("ky", "Admit")))
        refuse_link = row_of(rows, second).get_by_role("link", name=t("ky", "Refuse…"))
        in_view(screen, refuse_link)
        refuse_link.click()
        screen.check("application-phone")
        no_sideways_scroll(screen)
        form = page.locator("form#refuse")
        reason = form.get_by_label(t("ky", "Legal reason"))
        assert reason.input_value() == ""  # nothing preselected
        text = form.get_by_label(t("ky", "Explanation for the applicant and the district office"))
        text.fill("Күбөлүктөгү дарек туура эмес.")
        form.get_by_role("button", name=t("ky", "Refuse the registration")).click()
        screen.check("refuse-unconfirmed")
        second.refresh_from_db()
        assert second.status == Status.REGISTERED  # neither a reason nor a confirmation yet
        form = page.locator("form#refuse")
        form.get_by_label(t("ky", "Legal reason")).select_option("false_data")
        form.locator("input[name=confirm]").check()
        form.get_by_role("button", name=t("ky", "Refuse the registration")).click()
        screen.check("refused-phone")
        second.refresh_from_db()
        assert second.status == Status.REFUSED


def test_quota_approval_and_appeal_reinstatement_on_a_phone(phone_factory, world: World) -> None:
    officer = staff_account(Role.DISTRICT, district=world.school.district)
    with clock.frozen(BEFORE):
        quota_confirm(quota=Quota.objects.get(school=world.school), actor=Actor(user=None))
    screen: Screen = phone_factory(locale="ru-RU")
    page = screen.page
    with clock.frozen(BEFORE + dt.timedelta(days=1)):
        staff_sign_in(screen, officer, "ru", home="/staff/district/")
        no_sideways_scroll(screen)
        # The countdown to the quota lock speaks with units, in words the server sent.
        countdown = page.locator("main .countdown").first
        expect(countdown).to_have_text(re.compile(r"^\d+ \S+ \d\d \S+ \d\d \S+$"))
        row = page.locator("main table.data tbody tr").filter(has_text=world.school.code)
        button = row.get_by_role("button", name=t("ru", "Approve"))
        in_view(screen, button)
        button.click()  # the browser itself asks for the required box: nothing is sent
        assert Quota.objects.get(school=world.school).approved_at is None
        row.locator("input[name=confirm]").check()
        button.click()
        screen.check("approved-phone")
        assert t("ru", "The quota of %(code)s is approved.", code=world.school.code) in flash(
            screen
        )
    assert Quota.objects.get(school=world.school).approved_by_id == officer.pk

    from kattoo.enrollment.services import application_refuse

    with clock.frozen(STAGE1 + dt.timedelta(minutes=5)):
        family = world.family()
        application = registered(world, family)
        application_refuse(
            application=application,
            reason_code="false_data",
            reason="Дарек тастыкталган жок.",
            actor=Actor(user=None),
        )
        appeal = appeal_file(
            campaign=world.campaign,
            user=family.parent,
            subject="refusal",
            text="Мектеп мыйзамсыз баш тартты.",
            application=application,
            actor=Actor(user=family.parent),
        )
    with clock.frozen(STAGE1 + dt.timedelta(hours=3)):
        screen.goto("/staff/district/appeals/")
        page.locator(f"#appeal-{appeal.pk} h2 a").click()
        screen.check("appeal-card-phone")
        no_sideways_scroll(screen)
        main = page.locator("main").inner_text()
        assert family.child.pin in main and "Дарек тастыкталган жок." in main
        form = page.locator("form#reinstate")
        form.locator("input[name=confirm]").check()
        form.get_by_role("button").click()
        screen.check("appeal-reinstated-phone")
    application.refresh_from_db()
    appeal.refresh_from_db()
    assert application.status == Status.REGISTERED
    assert appeal.decision == AppealDecision.REINSTATED
