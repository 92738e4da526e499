"""Issue 14 on a 360 px phone: check your answers → the confirmation → the PDF receipt, with
JavaScript on (Russian) and off (Kyrgyz); and a refusal that is no dead end: the child's card
→ the appeal with its school fixed and the answer's date."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from kattoo.appeals.models import Appeal
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application, RefusalReason, Status
from kattoo.enrollment.receipts import application_number
from kattoo.enrollment.services import application_refuse, application_register

from ..conftest import SYSTEM, World
from .conftest import SCREENSHOTS, Phone
from .parent import alert_text, choose_class, class_name, name_in, sign_in, t

pytestmark = pytest.mark.browser


def render_pdf(path: str, stem: str) -> None:
    """The receipt as PNG pages next to the screenshots, to be looked at (poppler's
    pdftoppm, when the machine has it)."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:
        command = [pdftoppm, "-png", "-r", "60", path, str(SCREENSHOTS / stem)]
        subprocess.run(command, check=True)  # noqa: S603 (our own file, a fixed program)


def check_confirm_receipt(phone: Phone, world: World, lang: str) -> None:
    family = world.family()
    child = family.child
    sign_in(phone, family.parent.person.pin, lang)
    page = phone.page
    page.get_by_role("link", name=t(lang, "Choose a school")).click()
    phone.check("schools")
    rows = page.locator(f"#school-{world.school.pk}")
    # The two classes of the school say their language in words.
    for language in ("ky", "ru"):
        label = t(lang, "Register: %(class)s", **{"class": class_name(lang, language)})
        assert rows.get_by_role("link", name=label).count() == 1

    choose_class(phone, world.school, "ky", lang)
    main = page.locator("main").inner_text()
    assert child.name in main and name_in(lang, world.school) in main
    assert class_name(lang, "ky") in main
    assert child.address_text in main  # the registered address that opened the school
    assert not Application.objects.exists()

    page.get_by_role("button", name=t(lang, "Confirm and register")).click()
    phone.check("confirmation")
    application = Application.objects.get(child=child)
    assert phone.path == f"/applications/{application.pk}/"
    main = page.locator("main").inner_text()
    assert application_number(application) in main
    assert world.campaign.medical_from.strftime("%d.%m.%Y") in main
    assert world.campaign.medical_until.strftime("%d.%m.%Y") in main
    assert t(lang, "Place in the queue of this school and language: %(position)s.", position=1) in (
        main
    )

    with page.expect_download() as download:
        page.get_by_role("link", name=t(lang, "Download the receipt (PDF)")).click()
    target = SCREENSHOTS / f"{phone.name}-receipt.pdf"
    download.value.save_as(target)
    body = target.read_bytes()
    assert body.startswith(b"%PDF") and len(body) > 1000
    assert download.value.suggested_filename == f"receipt-{application_number(application)}.pdf"
    render_pdf(str(target), f"{phone.name}-receipt")


def test_check_confirmation_and_receipt_in_russian(phone_factory, world: World, at_stage1) -> None:
    check_confirm_receipt(phone_factory(locale="ru-RU"), world, "ru")


def test_check_confirmation_and_receipt_without_javascript(
    phone_factory, world: World, at_stage1
) -> None:
    check_confirm_receipt(phone_factory(locale="ky-KG", javascript=False), world, "ky")


def test_a_refusal_leads_to_the_appeal_in_two_taps(phone_factory, world: World, at_stage1) -> None:
    family = world.family()
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent, channel="web"),
    )
    application_refuse(
        application=application,
        reason_code=RefusalReason.FALSE_DATA,
        reason="Туулгандыгы тууралуу күбөлүктүн номери дал келбейт.",
        actor=SYSTEM,
    )
    phone = phone_factory(locale="ky-KG")
    page = phone.page
    sign_in(phone, family.parent.person.pin, "ky")
    card = page.locator("main .card").first
    assert card.get_by_role("link", name=t("ky", "Choose a school")).count() == 1
    card.get_by_role("link", name=t("ky", "Appeal the refusal")).click()  # tap 1
    phone.check("appeal-form")
    main = page.locator("main").inner_text()
    assert name_in("ky", world.school) in main and "номери дал келбейт" in main
    assert page.locator("select[name=school]").count() == 0  # the school is fixed
    assert "06.04.2026" in main  # 3 working days from Wednesday 01.04.2026
    page.get_by_label(t("ky", "Your appeal")).fill(
        "Күбөлүктүн номери туура, кайра текшерип бериңиздер."
    )
    page.get_by_role("button", name=t("ky", "Send the appeal")).click()  # tap 2
    phone.check("appeal-sent")
    appeal = Appeal.objects.get()
    assert appeal.application == application and appeal.school == world.school
    application.refresh_from_db()
    assert application.status == Status.REFUSED  # the refusal stands until the district decides
    assert t("ky", "Your appeals about this registration") in page.locator("main").inner_text()
    assert str(appeal.pk) in alert_text(phone)
    assert phone.path == f"/applications/{application.pk}/"
