"""After admission on a phone: the parent reads the school's ПМПК proposal and answers it, then
withdraws the admitted child through the warning page; at a computer, the district transfers a
child by a commission decision — axe-core, weights and screenshots on every page."""

from __future__ import annotations

import pytest

from kattoo.accounts.models import Role
from kattoo.catalog.models import School
from kattoo.core.actors import Actor
from kattoo.enrollment.after_admission import pmpk_propose
from kattoo.enrollment.models import AdmissionTransfer, Application, PmpkOutcome, Status
from kattoo.enrollment.schoolwork import pmpk_outcome_record, pmpk_refer
from kattoo.enrollment.services import application_admit, application_register

from ..conftest import SYSTEM, Family, World, build_school
from ..factories import UserFactory
from .conftest import Phone
from .parent import alert_text, sign_in, t
from .staff import flash, staff_account, staff_sign_in

pytestmark = pytest.mark.browser


def admitted(world: World, family: Family) -> Application:
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )
    return application_admit(application=application, actor=SYSTEM)


def test_parent_answers_the_pmpk_proposal_then_withdraws(
    phone_factory, world: World, at_stage1
) -> None:
    family = world.family()
    application = admitted(world, family)
    director = Actor(user=UserFactory(role=Role.SCHOOL, school=world.school))
    referral = pmpk_refer(application=application, note="", actor=director)
    pmpk_outcome_record(referral=referral, outcome=PmpkOutcome.SPECIAL_SCHOOL, actor=director)
    pmpk_propose(
        application=application,
        kind="special_school",
        note="Special school No. 7, Chui Avenue 12",
        actor=director,
    )
    phone: Phone = phone_factory(locale="en-US")
    sign_in(phone, family.parent.person.pin, "en")
    page = phone.goto(f"/applications/{application.pk}/")
    phone.check("proposal")
    assert "Special school No. 7" in page.locator("main").inner_text()
    page.get_by_role("button", name=t("en", "I do not agree")).click()
    phone.check("declined")
    assert t("en", "Your answer is recorded.") in alert_text(phone)
    application.refresh_from_db()
    assert application.status == Status.ADMITTED

    page.get_by_role("link", name=t("en", "Withdraw the child from the school")).click()
    phone.check("withdraw-warning")
    assert "cannot be returned" in page.locator("main .alert").inner_text()
    page.get_by_label(t("en", "Why (optional)")).fill("We move to Osh.")
    page.get_by_label(
        t("en", "I understand that the seat is given to another child and cannot be returned")
    ).check()
    page.get_by_role("button", name=t("en", "Yes, withdraw the child")).click()
    phone.check("withdrawn")
    assert phone.path == f"/applications/{application.pk}/"
    application.refresh_from_db()
    assert application.status == Status.WITHDRAWN


def test_district_transfers_a_child_by_a_decision(desktop_factory, world: World, at_stage1) -> None:
    family = world.family()
    application = admitted(world, family)
    neighbour = build_school(world.campaign, sizes=[("ky", 25)])
    School.objects.filter(pk=neighbour.pk).update(district=world.school.district)
    officer = staff_account(Role.DISTRICT, district=world.school.district)
    screen = desktop_factory(locale="en-US")
    staff_sign_in(screen, officer, "en", home="/staff/district/")
    page = screen.goto("/staff/district/after-admission/")
    screen.check("after-admission")
    page.get_by_label(t("en", "Child's PIN")).fill(family.child.pin)
    page.get_by_label(t("en", "New school")).select_option(str(neighbour.pk))
    page.get_by_label(t("en", "Language of instruction")).select_option("ky")
    page.get_by_label(t("en", "Number of the decision")).fill("T-12")
    page.get_by_label(t("en", "Date of the decision")).fill("2026-04-01")
    page.get_by_role("button", name=t("en", "Record the decision and transfer the child")).click()
    screen.check("transferred")
    assert t("en", "The child is transferred and takes a free seat.") in flash(screen)
    transfer = AdmissionTransfer.objects.get()
    assert transfer.from_application_id == application.pk
    assert "T-12" in page.locator("main").inner_text()
