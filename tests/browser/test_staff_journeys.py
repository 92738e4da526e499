"""Staff at work in the browser (issue 5): a director adjusts and confirms the quota, admits and
refuses; a district officer approves a quota, places a child by a commission decision and
answers an appeal; a ministry analyst reads the dashboard and downloads a report.

Staff work on computers (1280×800); one page is also read on a phone. Every page reached gets
axe-core, the weight budget and a screenshot (``Screen.check``). Buttons and fields are found
by their names in the page's language (``t``), so the tests hold with or without a translation.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.utils import translation
from openpyxl import load_workbook
from playwright.sync_api import Locator, Page, expect

from kattoo.accounts.models import Role
from kattoo.appeals.models import AppealStatus
from kattoo.appeals.services import appeal_file
from kattoo.catalog.models import Language
from kattoo.commission.models import CommissionDecision
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application, RefusalReason, Route, SeatPool, Status
from kattoo.enrollment.services import application_register
from kattoo.quotas.models import ClassSet, Quota, QuotaStatus
from kattoo.quotas.services import quota_confirm
from kattoo.reports.exports import COLUMN_LABELS

from ..conftest import BEFORE, STAGE1, STAGE2, Family, World
from .conftest import Screen
from .parent import name_in, t
from .staff import flash, label_in, staff_account, staff_sign_in

pytestmark = pytest.mark.browser

LOCK = "2026-03-28 00:00"  # 3 working days before stage 1 (§17)


def registered(world: World, family: Family, language: str = "ky") -> Application:
    return application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language=language,
        actor=Actor(user=family.parent, channel="web"),
    )


def nav(page: Page, language: str, link: str) -> None:
    page.locator("nav.main").get_by_role("link", name=t(language, link), exact=True).click()


def row_of(rows: Locator, application: Application) -> Locator:
    """A child's row of the school's list (the children of these families share a name)."""
    link = f"a[href='/staff/school/applications/{application.pk}/']"
    return rows.filter(has=rows.page.locator(link))


def form_with(page: Page, language: str, button: str) -> Locator:
    """The form on the page that holds the button of that name."""
    return page.locator("form").filter(
        has=page.get_by_role("button", name=t(language, button), exact=True)
    )


# ---- the school's director, in Kyrgyz -----------------------------------------------------


def test_director_adjusts_and_confirms_the_quota_in_kyrgyz(desktop_factory, world: World) -> None:
    school = world.school
    director = staff_account(Role.SCHOOL, school=school)
    screen = desktop_factory(locale="ky-KG")
    page = screen.page
    with clock.frozen(BEFORE):  # 2026-03-02: weeks before the lock
        staff_sign_in(screen, director, "ky", home="/staff/school/")
        nav(page, "ky", "Quota")
        screen.check("quota")
        assert page.locator("nav.main [aria-current=page]").inner_text() == t("ky", "Quota")
        assert page.locator("h1").inner_text() == t("ky", "Quota of first grades")
        assert LOCK in page.locator("main").inner_text()
        assert page.locator(".countdown").inner_text().strip()  # the time left to the lock
        # Computed from last year's 4th grades: №1 Kyrgyz 25, №2 Russian 26.
        rows = page.locator("main table.data tbody tr")
        expect(rows).to_have_count(2)

        # Raise №1 to 30 seats. Above 42 the browser itself refuses to send the form.
        raise_form = form_with(page, "ky", "Raise the seats")
        raise_form.get_by_label(t("ky", "Class-set")).select_option("1")
        seats = raise_form.get_by_label(t("ky", "New number of seats"))
        seats.fill("43")
        raise_form.get_by_role("button", name=t("ky", "Raise the seats")).click()
        assert seats.evaluate("input => input.validity.rangeOverflow")
        assert screen.path == "/staff/school/quota/" and not page.locator(".alert").count()
        seats.fill("30")
        raise_form.get_by_role("button", name=t("ky", "Raise the seats")).click()
        screen.check("raised")
        assert t("ky", "The quota is changed. Confirm it when it is final.") in flash(screen)

        # Add a Kyrgyz class-set of 25 seats, then switch №2 (Russian) to Kyrgyz.
        page.get_by_label(t("ky", "Seats of the new Kyrgyz class-set")).fill("25")
        page.get_by_role("button", name=t("ky", "Add a Kyrgyz class-set")).click()
        screen.check("added")
        switch_form = form_with(page, "ky", "Switch to Kyrgyz")
        switch_form.get_by_label(t("ky", "Class-set")).select_option("2")
        switch_form.get_by_role("button", name=t("ky", "Switch to Kyrgyz")).click()
        screen.check("switched")
        expect(rows).to_have_count(3)
        assert not form_with(page, "ky", "Switch to Kyrgyz").count()  # nothing left to switch

        page.get_by_label(t("ky", "I have checked the quota: it is final.")).check()
        page.get_by_role("button", name=t("ky", "Confirm the quota"), exact=True).click()
        screen.check("confirmed")
        assert t("ky", "The quota is confirmed; the district office approves it next.") in flash(
            screen
        )
        main = page.locator("main").inner_text()
        assert t("ky", "confirmed by the school") in main
        assert not page.get_by_role("button", name=t("ky", "Raise the seats")).count()
        assert not page.get_by_role("button", name=t("ky", "Confirm the quota")).count()
        history = page.locator("ol.timeline li")
        expect(history).to_have_count(5)  # computed, three changes, confirmed
        assert director.get_username() in history.nth(4).inner_text()

    quota = Quota.objects.get(school=school)
    assert quota.status == QuotaStatus.CONFIRMED and quota.confirmed_by_id == director.pk
    sets = {c.number: (c.language, c.seats) for c in ClassSet.objects.filter(quota=quota)}
    assert sets == {1: ("ky", 30), 2: ("ky", 26), 3: ("ky", 25)}
    assert SeatPool.objects.get(school=school, language="ky").quota_seats == 81


def test_director_admits_and_refuses_in_kyrgyz(desktop_factory, world: World, at_stage1) -> None:
    families = [world.family() for _ in range(3)]
    first, second, third = (registered(world, f) for f in families)
    director = staff_account(Role.SCHOOL, school=world.school)
    screen = desktop_factory(locale="ky-KG")
    page = screen.page
    staff_sign_in(screen, director, "ky", home="/staff/school/")
    nav(page, "ky", "Children")
    screen.check("children")
    listed = page.locator("main table.data").nth(1).locator("tbody tr")
    expect(listed).to_have_count(3)

    # Admit the first from the list; the list comes back.
    row = row_of(listed, first)
    row.get_by_role("button", name=t("ky", "Admit")).click()
    screen.check("admitted")
    assert screen.path == "/staff/school/children/"
    assert t("ky", "The child is admitted; the applicant gets the notice by SMS.") in flash(screen)
    first.refresh_from_db()
    assert first.status == Status.ADMITTED
    row = row_of(listed, first)
    assert "0/2" in row.inner_text()  # the two medical certificates are still to come

    # Refuse the second: a legal reason and words for the family are required.
    row_of(listed, second).get_by_role("link", name=t("ky", "Refuse…")).click()
    screen.check("application")
    assert screen.path == f"/staff/school/applications/{second.pk}/#refuse"
    refuse = page.locator("form#refuse")
    assert refuse.get_by_label(t("ky", "Legal reason")).input_value() == ""  # none preselected
    refuse.get_by_label(t("ky", "Legal reason")).select_option("false_data")
    refuse.locator("input[name=confirm]").check()
    refuse.get_by_role("button", name=t("ky", "Refuse the registration")).click()
    screen.check("refusal-without-words")
    text = page.get_by_label(t("ky", "Explanation for the applicant and the district office"))
    assert text.get_attribute("aria-invalid") == "true"
    error = page.locator(f"[id='{text.get_attribute('aria-describedby')}']")
    assert error.inner_text().strip()  # the reason is read out with the field
    second.refresh_from_db()
    assert second.status == Status.REGISTERED
    text.fill("Туулгандыгы тууралуу күбөлүк каттоодогу маалыматка дал келбейт.")
    if not page.locator("form#refuse input[name=confirm]").is_checked():
        page.locator("form#refuse input[name=confirm]").check()
    page.locator("form#refuse").get_by_role(
        "button", name=t("ky", "Refuse the registration")
    ).click()
    screen.check("refused")
    assert t(
        "ky", "The registration is refused; the seat is free again and the district sees it."
    ) in flash(screen)
    second.refresh_from_db()
    assert second.status == Status.REFUSED
    assert not page.locator("form#refuse").count()
    legal = label_in("ky", RefusalReason.FALSE_DATA.label)
    assert legal in page.locator("ol.timeline").inner_text()  # the legal reason, then the words

    page.get_by_role("link", name=t("ky", "Registered children")).click()
    screen.check("children-after")
    counts = page.locator("main table.data").first.locator("tbody tr").first
    cells = counts.locator("td").all_inner_texts()
    # Quota 25, taken 2 (the admitted and the waiting child), free 23; 1 waiting, 1 admitted,
    # 1 refused, 0 cancelled.
    assert [c.strip() for c in cells] == ["25", "0", "2", "23", "1", "1", "1", "0"], cells
    assert row_of(page.locator("main table.data tbody tr"), third).count() == 1
    assert SeatPool.objects.get(school=world.school, language="ky").taken == 2

    # The district office sees the refusal and its reason (§22), in Russian.
    officer = staff_account(Role.DISTRICT, district=world.school.district)
    office: Screen = desktop_factory(locale="ru-RU")
    staff_sign_in(office, officer, "ru", home="/staff/district/")
    nav(office.page, "ru", "Refusals")
    office.check("district-refusals")
    refusals = office.page.locator("main table.data tbody tr")
    expect(refusals).to_have_count(1)
    assert "Туулгандыгы тууралуу күбөлүк" in refusals.inner_text()
    assert label_in("ru", RefusalReason.FALSE_DATA.label) in refusals.inner_text()
    assert director.get_username() in refusals.inner_text()


# ---- the district office, in Russian ------------------------------------------------------


def test_district_approves_places_by_decision_and_answers_an_appeal_in_russian(
    desktop_factory, world: World
) -> None:
    district = world.school.district
    world.other_school.district = district  # two schools: one confirmed, one not
    world.other_school.save()
    officer = staff_account(Role.DISTRICT, district=district)
    director = staff_account(Role.SCHOOL, school=world.school)
    with clock.frozen(BEFORE):
        quota_confirm(quota=Quota.objects.get(school=world.school), actor=Actor(user=director))
    with clock.frozen(STAGE1 + dt.timedelta(minutes=5)):
        complaining = world.family()
        late_appeal = appeal_file(
            campaign=world.campaign,
            user=complaining.parent,
            subject="refusal",
            text="Мектеп телефонго жооп бербейт.",
            school=world.school,
            actor=Actor(user=complaining.parent),
        )

    screen = desktop_factory(locale="ru-RU")
    page = screen.page
    with clock.frozen(BEFORE + dt.timedelta(days=1)):
        staff_sign_in(screen, officer, "ru", home="/staff/district/")
        assert LOCK in page.locator("main").inner_text()
        unconfirmed = page.locator("main .alert.warn")
        assert world.other_school.code in unconfirmed.inner_text()
        assert world.school.code not in unconfirmed.inner_text()
        rows = page.locator("main table.data tbody tr")
        expect(rows).to_have_count(2)
        own = rows.filter(has_text=world.school.code)
        assert not rows.filter(has_text=world.other_school.code).get_by_role("button").count()
        own.locator("input[name=confirm]").check()  # a required confirmation, no JavaScript
        own.get_by_role("button", name=t("ru", "Approve")).click()
        screen.check("approved")
        assert t("ru", "The quota of %(code)s is approved.", code=world.school.code) in flash(
            screen
        )
        assert t("ru", "approved by the district") in own.inner_text()
        assert not own.get_by_role("button").count()
        page.get_by_role("link", name=name_in("ru", world.other_school)).first.click()
        screen.check("school-not-confirmed")
        assert world.other_school.name_ru in page.locator("main").inner_text()
        assert not page.get_by_role("button", name=t("ru", "Approve the quota")).count()
    assert Quota.objects.get(school=world.school).approved_by_id == officer.pk
    assert Quota.objects.get(school=world.other_school).approved_at is None

    with clock.frozen(STAGE2 + dt.timedelta(days=3)):  # 2026-06-04, stage 2
        older = world.family(births=[dt.date(2018, 2, 2)])  # over the birth window
        nav(page, "ru", "Commission decisions")
        screen.check("commission")
        page.get_by_label(t("ru", "Child's PIN")).fill(older.child.pin)
        page.get_by_label(t("ru", "Applicant's PIN")).fill(older.parent.person.pin)
        page.get_by_label(t("ru", "School"), exact=True).select_option(str(world.school.pk))
        page.get_by_label(t("ru", "Language of instruction")).select_option("ky")
        page.get_by_label(t("ru", "Number of the decision")).fill("КДД-7")
        page.get_by_label(t("ru", "Date of the decision")).fill("2026-06-03")
        page.get_by_label(t("ru", "Ground"), exact=True).select_option("over_age")
        page.get_by_label(
            t("ru", "The documents of this special-order admission are checked")
        ).check()
        page.get_by_role("button", name=t("ru", "Record the decision and place the child")).click()
        screen.check("placed")
        decision = CommissionDecision.objects.get(number="КДД-7")
        placed = decision.application
        assert placed.route == Route.COMMISSION and placed.child == older.child
        assert decision.documents_checked and not placed.above_quota
        assert t(
            "ru",
            "The decision is recorded: the child takes a free seat, place %(position)d.",
            position=placed.position,
        ) in flash(screen)
        decided = page.locator("main table.data tbody tr").filter(has_text="КДД-7")
        assert older.child.full_name in decided.inner_text()
        assert "2026-06-03" in decided.inner_text()

        fresh = appeal_file(
            campaign=world.campaign,
            user=older.parent,
            subject="other",
            text="Качан сабак башталат?",
            school=world.school,
            actor=Actor(user=older.parent),
        )
        nav(page, "ru", "Appeals")
        screen.check("appeals")
        cards = page.locator("main .card")
        expect(cards).to_have_count(2)
        # The overdue appeal (filed on the opening day) comes first, marked.
        assert cards.first.get_attribute("id") == f"appeal-{late_appeal.pk}"
        assert t("ru", "overdue") in cards.first.inner_text()
        assert cards.nth(1).get_attribute("id") == f"appeal-{fresh.pk}"
        cards.first.get_by_label(t("ru", "Answer")).fill(
            "Мектеп сиз менен 5-июнда байланышат; документтерди алып келиңиз."
        )
        cards.first.get_by_role("button", name=t("ru", "Send the answer")).click()
        screen.check("answered")
        assert t(
            "ru",
            "Appeal № %(number)d is answered; the applicant gets an SMS.",
            number=late_appeal.pk,
        ) in flash(screen)
        late_appeal.refresh_from_db()
        assert late_appeal.status == AppealStatus.ANSWERED
        assert late_appeal.answered_by_id == officer.pk


# ---- the ministry ---------------------------------------------------------------------------


def test_ministry_reads_the_dashboard_and_downloads_a_report(
    desktop_factory, phone_factory, world: World, tmp_path: Path
) -> None:
    with clock.frozen(STAGE1 + dt.timedelta(minutes=5)):
        for language in ("ky", "ky", "ru"):
            registered(world, world.family(), language)
    analyst = staff_account(Role.MINISTRY_ANALYST)
    region = world.school.district.region
    screen = desktop_factory(locale="ru-RU")
    page = screen.page
    with clock.frozen(STAGE1 + dt.timedelta(days=2)):
        staff_sign_in(screen, analyst, "ru", home="/staff/ministry/")
        charts = page.locator("main svg[role=img]")
        expect(charts).to_have_count(2)  # registrations per hour; seats by region and language
        assert "<title>10: 3</title>" in charts.first.inner_html()

        nav(page, "ru", "Reports")
        screen.check("reports")
        group_by = page.locator("main fieldset")
        for dimension in ("region", "language"):
            group_by.get_by_label(t("ru", dimension), exact=True).check()
        page.locator("main").get_by_role("button", name=t("ru", "Show")).click()
        screen.check("report")
        table = page.locator("main table.data")
        assert name_in("ru", region) in table.inner_text()

        with page.expect_download() as csv_download:
            page.get_by_role("link", name=t("ru", "Download CSV")).click()
        assert csv_download.value.suggested_filename == "kattoo-applications-region-language.csv"
        csv_file = tmp_path / "report.csv"
        csv_download.value.save_as(csv_file)
        # The file speaks the page's language: columns, places and languages in Russian.
        with translation.override("ru"):
            keys = ("region", "language", "registered", "admitted", "refused", "cancelled")
            keys += ("above_quota",)
            header = tuple(str(COLUMN_LABELS[k]) for k in keys)
            kyrgyz, russian = str(Language.KY.label), str(Language.RU.label)
        table_rows = list(csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8-sig"))))
        place = name_in("ru", region)
        assert table_rows == [
            list(header),
            [place, kyrgyz, "2", "0", "0", "0", "0"],
            [place, russian, "1", "0", "0", "0", "0"],
        ], table_rows

        with page.expect_download() as xlsx_download:
            page.get_by_role("link", name=t("ru", "Download XLSX")).click()
        xlsx_file = tmp_path / "report.xlsx"
        xlsx_download.value.save_as(xlsx_file)
        sheet = load_workbook(xlsx_file).active
        assert sheet is not None
        assert list(sheet.iter_rows(values_only=True)) == [
            header,
            (place, kyrgyz, 2, 0, 0, 0, 0),
            (place, russian, 1, 0, 0, 0, 0),
        ]
        assert screen.path.startswith("/staff/ministry/reports/?")  # the page stays

        # A colleague glances at the dashboard on her phone, in Kyrgyz.
        colleague = staff_account(Role.MINISTRY_ANALYST)
        phone: Screen = phone_factory(locale="ky-KG")
        staff_sign_in(phone, colleague, "ky", home="/staff/ministry/")
        assert phone.page.locator("h1").inner_text() == t("ky", "Campaign dashboard")


def test_ministry_reads_the_audit_trail_and_a_district_reviews_fraud_signals(
    desktop_factory, world: World
) -> None:
    """Issue 7: the ministry's audit viewer (filter, one event with its seal) and the district
    officer's list of fraud signals, in the browser, with axe and the weight budget."""
    with clock.frozen(STAGE1 + dt.timedelta(minutes=5)):
        # One family registers five children of different births: "many children" (§20).
        births = [dt.date(2019, 9, 1 + i * 3) for i in range(5)]
        family = world.family(births=births)
        for child in family.children:
            application_register(
                campaign=world.campaign,
                user=family.parent,
                child=child,
                school=world.school,
                language="ky",
                actor=Actor(user=family.parent, channel="web"),
            )
    admin = staff_account(Role.MINISTRY_ADMIN)
    screen = desktop_factory(locale="ru-RU")
    page = screen.page
    with clock.frozen(STAGE1 + dt.timedelta(days=1)):
        staff_sign_in(screen, admin, "ru", home="/staff/ministry/")
        screen.goto("/staff/ministry/audit/?action=application.register")
        screen.check("audit-filtered")
        rows = page.locator("main table tbody tr")
        expect(rows).to_have_count(5)
        rows.first.get_by_role("link").first.click()
        screen.check("audit-event")
        assert "application.register" in page.locator("main").inner_text()

    officer = staff_account(Role.DISTRICT, district=world.school.district)
    office = desktop_factory(locale="ru-RU")
    with clock.frozen(STAGE1 + dt.timedelta(days=1)):
        staff_sign_in(office, officer, "ru", home="/staff/district/")
        office.goto("/staff/fraud/")
        office.check("fraud-signals")
        assert family.children[0].surname in office.page.locator("main").inner_text()
