"""A real campaign from an empty database, in the browser (issue 11; docs/runbooks/campaign.md,
its first half — the API performs all of it in tests/e2e/test_campaign_runbook.py).

No demo data: only what the migrations load (the 2026-2027 campaign). The operator creates the
first ministry administrator on the server; from there everything is a page:

1. the administrator opens the one-time link on her phone, chooses a password, scans the QR
   code (the test reads the key the page shows, as an authenticator app would) and types the
   first code, then signs in at /staff/login/;
2. still on the phone, she enters the 2027 holidays, creates 2027-2028 from the form prefilled
   by copying 2026-2027, tries a contradictory stage 2, fixes it and publishes;
3. at her computer, she uploads the catalog, reads the dry run, imports it: quotas computed;
4. creates a district officer and reads the one-time link;
5. the officer enrols on his phone, signs in, creates the director of S-1, reads the district's
   readiness (blockers listed); the ministry's readiness shows the country.

Every page passes ``Screen.check`` (axe, weight, no CSP refusal, no sideways scroll) and leaves
a screenshot in var/screenshots/; computer pages are also checked at a phone's 360 px width.

The server checks authenticator codes against its own time: here the app's clock
(``kattoo.core.clock``), frozen on 2 December 2026 and moved a minute on before each sign-in,
as a code is accepted once per 30-second step.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
from base64 import b32decode
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django_otp.oath import TOTP
from playwright.sync_api import Locator, Page, ViewportSize, expect

from kattoo.accounts.models import Role, User
from kattoo.campaigns.models import Campaign
from kattoo.core import clock
from kattoo.quotas.models import Quota

from ..catalog.test_importing import small_catalog
from .conftest import Screen
from .parent import t
from .staff import flash

pytestmark = pytest.mark.browser

CODE = "2027-2028"
LENIN = "41711211000000"
PASSWORD = "a long passphrase for the ministry"
TODAY = clock.bishkek(2026, 12, 2, 10, 0)
PHONE_WIDTH: ViewportSize = {"width": 360, "height": 740}


class Moments:
    """The app's clock, frozen at ``TODAY`` and moved on by the test (never back)."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self.stack = stack
        self.now = TODAY
        stack.enter_context(clock.frozen(self.now))

    def later(self, minutes: int = 1) -> None:
        self.now += dt.timedelta(minutes=minutes)
        self.stack.enter_context(clock.frozen(self.now))


def authenticator_code(secret: str) -> str:
    """What the phone's authenticator app shows now for the key it scanned (RFC 6238)."""
    token = TOTP(b32decode(secret))
    token.time = clock.now().timestamp()
    return f"{token.token():06d}"


@pytest.fixture(autouse=True)
def _server_time_follows_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-otp reads time.time(); the live server runs in this process."""
    monkeypatch.setattr(
        "django_otp.plugins.otp_totp.models.time",
        SimpleNamespace(time=lambda: clock.now().timestamp()),
    )


def also_on_a_phone(screen: Screen, step: str) -> None:
    """A computer page checked again at a phone's width (staff also read them on a phone)."""
    size = screen.page.viewport_size
    screen.page.set_viewport_size(PHONE_WIDTH)
    try:
        screen.check(f"{step}-360")
    finally:
        if size:
            screen.page.set_viewport_size(size)


def nav(page: Page, language: str, link: str) -> None:
    page.locator("nav.main").get_by_role("link", name=t(language, link), exact=True).click()


def button(page: Page, language: str, name: str) -> Locator:
    return page.locator("main").get_by_role("button", name=t(language, name), exact=True)


def enrol(screen: Screen, link: str, language: str) -> str:
    """The newcomer opens the link, chooses a password, reads the QR page and types the
    first code of the app; returns the key the app keeps."""
    page = screen.goto(re.sub(r"^https?://[^/]+", "", link))
    screen.check("enrol-password")
    assert page.locator("html").get_attribute("lang") == language
    page.get_by_label(t(language, "New password")).fill(PASSWORD)
    page.get_by_label(t(language, "The same password again")).fill(PASSWORD)
    button(page, language, "Continue").click()
    screen.check("enrol-qr")
    qr = page.locator("main svg[role=img]")
    expect(qr).to_have_count(1)
    assert qr.bounding_box()["width"] <= page.viewport_size["width"]  # type: ignore[index]
    secret = page.locator("#secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]+=*", secret), secret
    page.get_by_label(t(language, "Code from the authenticator app")).fill(
        authenticator_code(secret)
    )
    button(page, language, "Confirm and finish").click()
    assert screen.path == "/staff/login/", (screen.path, flash(screen))
    assert t(
        language,
        "Your authenticator app is enrolled. Sign in with your username, your new password "
        "and a code from the app.",
    ) in flash(screen)
    screen.check("enrolled")
    return secret


def sign_in(screen: Screen, username: str, secret: str, language: str, *, home: str) -> None:
    page = screen.goto("/staff/login/")
    page.get_by_label(t(language, "Username")).fill(username)
    page.get_by_label(t(language, "Password"), exact=True).fill(PASSWORD)
    page.get_by_label(t(language, "Code from the authenticator app")).fill(
        authenticator_code(secret)
    )
    button(page, language, "Sign in").click()
    assert screen.path == home, (screen.path, flash(screen))
    screen.check("signed-in")


def test_a_campaign_set_up_in_the_browser_from_an_empty_database(
    phone_factory, desktop_factory, campaign: Campaign, tmp_path: Path
) -> None:
    assert not User.objects.exists()
    with contextlib.ExitStack() as stack:
        moments = Moments(stack)
        out = io.StringIO()
        call_command(
            "create_staff",
            "--username",
            "aida",
            "--role",
            "ministry_admin",
            "--full-name",
            "Аида Асанова",
            "--no-qr",
            stdout=out,
        )
        link = re.search(r"enrolment link: (\S+)", out.getvalue())
        assert link, out.getvalue()

        # 1. The administrator enrols on her phone, in Kyrgyz, and signs in.
        phone = phone_factory(locale="ky-KG")
        page = phone.page
        secret = enrol(phone, link.group(1), "ky")
        moments.later()
        sign_in(phone, "aida", secret, "ky", home="/staff/ministry/")

        # 2. The 2027 calendar, then the campaign copied from 2026-2027.
        nav(page, "ky", "Campaigns")
        phone.check("campaigns")
        page.locator("main").get_by_role(
            "link", name=t("ky", "Working-day calendar"), exact=True
        ).click()
        assert phone.path == "/staff/ministry/calendar/2026/"
        page.locator("main").get_by_role("link", name="2027 →").click()
        phone.check("calendar-2027")
        assert (
            t("ky", "No holidays or moved days are set for this year.")
            in page.locator("main").inner_text()
        )
        page.get_by_label(t("ky", "Holidays (days off that would be working days)")).fill(
            "01.01.2027 Жаңы жыл\n08.03.2027\n22.03.2027 Нооруз\n29.03.2027 Орозо айт"
        )
        button(page, "ky", "Save the calendar").click()
        phone.check("calendar-saved")
        assert t("ky", "The calendar of %(year)d is saved.", year=2027) in flash(phone)
        expect(page.locator("main table.data tbody tr")).to_have_count(4)
        assert "Нооруз" in page.locator("main table.data").inner_text()

        nav(page, "ky", "Campaigns")
        page.locator("main").get_by_role("link", name=t("ky", "New campaign")).click()
        phone.check("campaign-new")
        assert page.get_by_label(t("ky", "Code"), exact=True).input_value() == CODE
        assert page.get_by_label(t("ky", "Stage 1 opens")).input_value() == "01.04.2027 10:00"
        assert page.get_by_label(t("ky", "Children born from")).input_value() == "01.01.2020"
        # A contradiction: stage 2 before stage 1.
        stage2 = page.get_by_label(t("ky", "Stage 2 opens"))
        assert stage2.input_value() == "01.06.2027 10:00"
        stage2.fill("01.03.2027 10:00")
        button(page, "ky", "Create the draft").click()
        phone.check("campaign-new-refused")
        expect(page.locator("#problem")).to_have_count(1)  # what is wrong, in one line
        summary = page.locator("main .alert.error[role=alert]").filter(
            has_text=t("ky", "Please correct the fields marked below.")
        )
        expect(summary).to_have_count(1)
        message = t("ky", "Stage 2 must open after stage 1.")
        assert message in summary.inner_text()
        field = page.locator(".field.field-error").filter(has=stage2)
        assert message in field.locator(".error-text").inner_text()
        assert not Campaign.objects.filter(code=CODE).exists()
        summary.get_by_role("link", name=t("ky", "Stage 2 opens")).click()
        expect(stage2).to_be_focused()
        stage2.fill("01.06.2027 10:00")
        button(page, "ky", "Create the draft").click()
        phone.check("campaign-created")
        assert phone.path == f"/staff/ministry/campaigns/{CODE}/"
        assert t(
            "ky",
            "Campaign %(code)s is created as a draft. Publish it when it is ready.",
            code=CODE,
        ) in flash(phone)
        # §17: three working days before Thursday 1 April, Monday 29 March a holiday of the
        # calendar just saved: 31, 30 and 26 March; the quota locks at the end of the 26th.
        assert "27.03.2027 00:00" in page.locator("main").inner_text()
        button(page, "ky", "Publish").click()
        phone.check("campaign-published")
        assert t("ky", "Campaign %(code)s is now the current campaign.", code=CODE) in flash(phone)
        created = Campaign.objects.get(code=CODE)
        assert created.is_active and created.cancel_limit == 3
        assert created.birth_from == dt.date(2020, 1, 1)
        assert not Campaign.objects.get(code="2026-2027").is_active
        nav(page, "ky", "Campaigns")
        row = page.locator("main table.data tbody tr").filter(has_text=CODE)
        assert "27.03.2027 00:00" in row.inner_text()
        phone.check("campaigns-after")

        # 3. At her computer: the catalog, dry run first.
        moments.later()
        desk = desktop_factory(locale="ky-KG")
        office = desk.page
        sign_in(desk, "aida", secret, "ky", home="/staff/ministry/")
        catalog_file = tmp_path / "catalog.json"
        catalog_file.write_text(
            json.dumps(small_catalog() | {"academic_year": CODE}, ensure_ascii=False),
            encoding="utf-8",
        )
        nav(office, "ky", "Catalog")
        desk.check("catalog")
        also_on_a_phone(desk, "catalog")
        office.get_by_label(t("ky", "Campaign"), exact=True).select_option(CODE)
        office.get_by_label(t("ky", "Catalog file")).set_input_files(catalog_file)
        button(office, "ky", "Check the file").click()
        desk.check("catalog-check")
        also_on_a_phone(desk, "catalog-check")
        assert desk.path.startswith("/staff/catalog/check/")
        assert t("ky", "The file is correct. Importing it would make these changes:") in (
            office.locator("main").inner_text()
        )
        assert not Quota.objects.exists()  # a dry run writes nothing
        button(office, "ky", "Import this file").click()
        desk.check("catalog-imported")
        also_on_a_phone(desk, "catalog-imported")
        assert desk.path == "/staff/catalog/result/"
        assert t("ky", "The catalog file was imported.") in flash(desk)
        computed = office.locator("main #quota-outcomes tbody tr")
        expect(computed).to_have_count(2)
        assert t("ky", "computed as a draft") in computed.first.inner_text()
        assert Quota.objects.filter(campaign__code=CODE).count() == 2

        # 4. A district officer for Lenin district; the one-time link shows once.
        nav(office, "ky", "People")
        desk.check("people")
        office.get_by_label(t("ky", "Username")).fill("lenin.officer")
        office.get_by_label(t("ky", "Full name")).fill("Абдыкадыров Нурлан")
        office.get_by_label(t("ky", "Role"), exact=True).select_option(Role.DISTRICT)
        office.get_by_label(t("ky", "District (for a district officer)")).select_option(LENIN)
        button(office, "ky", "Create and show the enrolment link").click()
        desk.check("people-link")
        also_on_a_phone(desk, "people-link")
        assert t("ky", "The account %(name)s is created.", name="lenin.officer") in flash(desk)
        officer_link = office.locator("#enrolment-link code").inner_text().strip()
        assert "/staff/enrol/" in officer_link
        assert "lenin.officer" in office.locator("#person-lenin\\.officer").inner_text()
        office.reload()
        expect(office.locator("#enrolment-link")).to_have_count(0)  # shown only once

        # 5. The officer, on his phone in Russian: enrols, signs in, creates the director.
        moments.later()
        own = phone_factory(locale="ru-RU")
        mobile = own.page
        officer_secret = enrol(own, officer_link, "ru")
        moments.later()
        sign_in(own, "lenin.officer", officer_secret, "ru", home="/staff/district/")
        nav(mobile, "ru", "People")
        own.check("district-people")
        mobile.get_by_label(t("ru", "Username")).fill("s1.director")
        mobile.get_by_label(t("ru", "Full name")).fill("Жээнбеков Талант")
        mobile.get_by_label(t("ru", "School"), exact=True).select_option("S-1")
        button(mobile, "ru", "Create and show the enrolment link").click()
        own.check("district-people-link")
        assert "/staff/enrol/" in mobile.locator("#enrolment-link code").inner_text()
        director = User.objects.get(username="s1.director")
        assert director.role == Role.SCHOOL
        assert director.school is not None and director.school.code == "S-1"

        nav(mobile, "ru", "Readiness")
        own.check("district-readiness")
        blockers = mobile.locator("#blockers > ul > li")
        assert blockers.count() >= 1
        # The director cannot sign in until he enrols: S-1 (and S-2, nobody yet) are listed.
        no_director = mobile.locator("#blocker-no_director")
        expect(no_director).to_have_count(1)
        no_director.locator("summary").click()
        assert "S-1" in no_director.inner_text() and "S-2" in no_director.inner_text()
        schools = mobile.locator("main table.data tbody tr")
        expect(schools).to_have_count(2)
        own.check("district-readiness-open")

        # The ministry's readiness: the country, district by district.
        nav(office, "ky", "Readiness")
        desk.check("ministry-readiness")
        also_on_a_phone(desk, "ministry-readiness")
        assert office.get_by_label(t("ky", "Campaign"), exact=True).input_value() == CODE
        districts = office.locator("main table.data tbody tr")
        expect(districts).to_have_count(1)
        cells = [c.strip() for c in districts.first.locator("td").all_inner_texts()]
        assert cells[2:4] == ["2", "2"], cells  # two schools, two quotas computed
        expect(office.locator("#blocker-no_director")).to_have_count(1)
