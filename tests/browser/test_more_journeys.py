"""A refusal and what to do about it, a draft at the opening, a guardian act, an appeal, and
the language switch — on a phone, with axe-core, weights and screenshots on every page."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from kattoo.appeals.models import Appeal
from kattoo.catalog.models import MicrodistrictRequest
from kattoo.core import clock
from kattoo.enrollment.models import Application, Draft, Status
from kattoo.people.models import GuardianAct, Person

from ..conftest import BEFORE, STAGE1, World
from ..factories import registry_person
from .conftest import Phone
from .parent import alert_text, choose_class, name_in, register_through_the_check, sign_in, t

pytestmark = pytest.mark.browser

# With units in the page's language (kattoo/web/templates/_countdown_formats.html).
COUNTDOWN = re.compile(r"^(\d+ \S+ )?\d\d \S+ \d\d \S+( \d\d \S+)?$")


def ask_for_a_school_stage1_does_not_offer(phone: Phone, world: World, child_id: int) -> None:
    """Confirm on the check page with another school in the form — what a stale page or an
    edited request sends: the server refuses and the page says why."""
    page = phone.page
    phone.goto(f"/children/{child_id}/schools/{world.school.pk}/check/?language=ky")
    page.locator("main form input[name=school]").evaluate(
        "(input, school) => { input.value = school }", str(world.other_school.pk)
    )
    page.locator("main form[action='/applications/new/'] button").click()


def test_not_in_microdistrict_says_why_and_asks_the_school_in_russian(
    phone_factory, world: World, at_stage1
) -> None:
    # The other school is in the family's district: listed as not offered, with the reason.
    world.other_school.district = world.home.settlement.district
    world.other_school.save()
    family = world.family()
    child = family.child
    phone = phone_factory(locale="ru-RU")
    sign_in(phone, family.parent.person.pin, "ru")
    page = phone.page
    page.get_by_role("link", name=t("ru", "Choose a school")).click()
    phone.check("schools")
    other = name_in("ru", world.other_school)
    assert other not in page.locator("#school-rows").inner_text()

    ask_for_a_school_stage1_does_not_offer(phone, world, child.pk)
    phone.check("refused")
    assert page.locator("html").get_attribute("lang") == "ru"
    problem = page.locator("#problem")
    assert problem.get_attribute("role") == "alert"
    text = problem.inner_text()
    assert "микроучаст" in text and "2026-06-01 10:00" in text, text
    assert not Application.objects.exists()

    page.get_by_role("link", name=t("ru", "Ask this school to add my address")).click()
    phone.check("address-confirm")
    # The registry's address first; nothing is sent before the parent confirms (issue 14).
    assert family.child.address_text in page.locator("main").inner_text()
    assert not MicrodistrictRequest.objects.exists()
    page.get_by_role("button", name=t("ru", "Yes, send the request")).click()
    phone.check("address-requested")
    request = MicrodistrictRequest.objects.get()
    assert request.school == world.other_school and request.street_code == world.home.code
    assert phone.path == f"/children/{child.pk}/schools/"
    assert t(
        "ru",
        "The school received your request to add your address to its microdistrict. "
        "You will see the answer here.",
    ) in alert_text(phone)


def test_draft_before_the_opening_is_submitted_at_the_opening(phone_factory, world: World) -> None:
    family = world.family()
    child = family.child
    phone = phone_factory(locale="ky-KG")
    page = phone.page
    with clock.frozen(BEFORE):
        sign_in(phone, family.parent.person.pin, "ky")
        page.get_by_role("link", name=t("ky", "See the schools now")).click()
        phone.check("schools-before")
        home = name_in("ky", world.school)
        assert home in page.locator("#school-rows").inner_text()
        registering = t("ky", "Register: %(class)s", **{"class": ""})
        assert page.locator("a", has_text=registering).count() == 0
        choose_class(phone, world.school, "ky", "ky", prepare=True)
        page.get_by_role("button", name=t("ky", "Save the prepared choice")).click()
        phone.check("draft-saved")
        assert phone.path == "/children/"
        assert Draft.objects.filter(child=child, school=world.school, language="ky").exists()
        draft = page.locator("main .alert", has=page.locator(".countdown"))
        assert t("ky", "Opens %(at)s (server time).", at="01.04.2026 10:00") in draft.inner_text()
        assert COUNTDOWN.match(page.locator(".countdown").inner_text()), page.locator(
            ".countdown"
        ).inner_text()

    with clock.frozen(STAGE1 - dt.timedelta(seconds=1)):
        page.get_by_role("button", name=t("ky", "Submit the registration")).click()
        phone.check("one-second-early")
        assert "2026-04-01 10:00" in alert_text(phone)
        assert not Application.objects.exists() and Draft.objects.exists()

    with clock.frozen(STAGE1):
        page.get_by_role("button", name=t("ky", "Submit the registration")).click()
        phone.check("submitted-at-opening")
    application = Application.objects.get()
    assert application.status == Status.REGISTERED and application.position == 1
    assert phone.path == f"/applications/{application.pk}/" and not Draft.objects.exists()


def test_the_countdown_counts_in_server_time(phone_factory, world: World) -> None:
    family = world.family()
    phone = phone_factory(locale="ky-KG")
    phone.page.clock.set_fixed_time(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))  # a phone set wrong
    with clock.frozen(STAGE1 - dt.timedelta(hours=1)):
        sign_in(phone, family.parent.person.pin, "ky")
        phone.page.get_by_role("link", name=t("ky", "See the schools now")).click()
        choose_class(phone, world.school, "ky", "ky", prepare=True)
        phone.page.get_by_role("button", name=t("ky", "Save the prepared choice")).click()
        phone.check("draft-saved")
        countdown = phone.page.locator(".countdown").inner_text()
    # An hour before the opening by the server's clock, whatever the phone's clock says.
    assert countdown == t("ky", "{h} h {m} min {s} s").format(h="01", m="00", s="00"), countdown


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_legal_representative_uploads_the_act_then_registers(
    phone_factory, world: World, at_stage1, tmp_path: Path
) -> None:
    ward = registry_person(sex="M", born=dt.date(2019, 10, 10), street=world.home)
    rep = registry_person(sex="F", born=dt.date(1970, 1, 1), street=world.home)
    for person in (ward, rep):
        world.registry.add_person(person)
    world.registry.add_ward(rep["pin"], ward["pin"])
    phone = phone_factory(locale="ru-RU")
    page = phone.page
    sign_in(phone, rep["pin"], "ru")
    child = Person.objects.get(pin=ward["pin"])
    assert (
        t("ru", "Upload the court act or the act of the social authority.")
        in page.locator("main").inner_text()
    )

    page.get_by_role("link", name=t("ru", "The act proving your status")).click()
    phone.check("act-form")
    page.get_by_label(t("ru", "Kind of act")).select_option("court")
    page.get_by_label(t("ru", "Number of the act")).fill("2-1/24")
    wrong = tmp_path / "act.pdf"
    wrong.write_bytes(b"MZ\x90\x00 not a pdf")
    page.get_by_label(t("ru", "The act (PDF, JPEG or PNG, up to 5 MB)")).set_input_files(wrong)
    page.get_by_role("button", name=t("ru", "Upload")).click()
    phone.check("act-refused")
    file_input = page.get_by_label(t("ru", "The act (PDF, JPEG or PNG, up to 5 MB)"))
    assert file_input.get_attribute("aria-invalid") == "true"
    described = (file_input.get_attribute("aria-describedby") or "").split()
    errors = [page.locator(f"[id='{i}']") for i in described]
    assert any(e.count() and e.inner_text().strip() for e in errors), described
    assert not GuardianAct.objects.exists()

    act = tmp_path / "act-2-1-24.pdf"
    act.write_bytes(PDF)
    page.get_by_label(t("ru", "Kind of act")).select_option("court")
    page.get_by_label(t("ru", "The act (PDF, JPEG or PNG, up to 5 MB)")).set_input_files(act)
    page.get_by_role("button", name=t("ru", "Upload")).click()
    phone.check("act-uploaded")
    assert GuardianAct.objects.filter(link__child=child).count() == 1
    assert t("ru", "The act is uploaded; the school will check it.") in alert_text(phone)

    page.get_by_role("link", name=t("ru", "Choose a school")).click()
    phone.check("schools")
    register_through_the_check(phone, world.school, "ru", "ru")
    phone.check("registered")
    application = Application.objects.get()
    assert application.child == child and application.language == "ru"


def test_an_appeal_is_written_and_listed(phone_factory, world: World, at_stage1) -> None:
    family = world.family()
    phone = phone_factory(locale="ky-KG")
    page = phone.page
    sign_in(phone, family.parent.person.pin, "ky")
    page.locator("nav.main").get_by_role("link", name=t("ky", "Appeals")).click()
    phone.check("appeals")
    page.get_by_label(t("ky", "What is it about?")).select_option("missing_address")
    page.get_by_label(t("ky", "School")).select_option(str(world.school.pk))
    page.get_by_label(t("ky", "Your appeal")).fill("short")
    page.get_by_role("button", name=t("ky", "Send")).click()
    phone.check("too-short")
    text = page.get_by_label(t("ky", "Your appeal"))
    assert text.get_attribute("aria-invalid") == "true" and not Appeal.objects.exists()

    text.fill("Биздин үй ушул мектептин жанында, дарегибизди микроучастокко кошуңуздар.")
    page.get_by_role("button", name=t("ky", "Send")).click()
    phone.check("sent")
    appeal = Appeal.objects.get()
    assert appeal.district == world.school.district
    assert t("ky", "Your appeal is sent to the district education office.") in alert_text(phone)
    card = page.locator("main .card").first.inner_text()
    assert "Биздин үй ушул мектептин жанында" in card and f"№ {appeal.pk}" in card
    assert appeal.due_day.strftime("%d.%m.%Y") in card  # the last day of the 3 working days


def test_language_switch_from_kyrgyz_to_russian_is_kept_across_pages(
    phone_factory, world: World, at_stage1
) -> None:
    family = world.family()
    child = family.child
    phone = phone_factory(locale="ky-KG")
    page = phone.page
    sign_in(phone, family.parent.person.pin, "ky")
    page.get_by_role("link", name=t("ky", "Choose a school")).click()
    ask_for_a_school_stage1_does_not_offer(phone, world, child.pk)
    phone.check("refused-ky")
    assert page.locator("html").get_attribute("lang") == "ky"

    # Switch on the refusal page (a page answered to a POST): back to the schools, in Russian.
    page.get_by_label(t("ky", "Language"), exact=True).select_option("ru")
    page.get_by_role("button", name=t("ky", "Change")).click()
    phone.check("switched-ru")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert phone.path == f"/children/{child.pk}/schools/"
    family.parent.refresh_from_db()
    assert family.parent.language == "ru"

    nav = page.locator("nav.main")
    for link, heading, step in (
        ("My children", "My children", "children-ru"),
        ("Registrations", "Registrations", "registrations-ru"),
        ("Appeals", "Appeals to the district education office", "appeals-ru"),
        ("Check an address", "Which schools' microdistricts hold an address?", "address-ru"),
        ("Status", "Status", "status-ru"),
        ("Home", "Register your child for the first grade", "home-ru"),
    ):
        nav.get_by_role("link", name=t("ru", link), exact=True).click()
        phone.check(step)
        assert page.locator("html").get_attribute("lang") == "ru"
        assert page.locator("h1").inner_text() == t("ru", heading)
