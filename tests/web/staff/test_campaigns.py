"""The ministry's campaign and calendar pages (issue 11, ADR 0016): analysts read,
administrators write, every refusal beside its field and nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from kattoo.accounts.models import Role
from kattoo.audit.models import AuditEvent
from kattoo.campaigns.models import CalendarDay, Campaign
from kattoo.core import clock

from ...factories import SchoolFactory
from .conftest import staff_user, verified

NOW = clock.bishkek(2026, 12, 1, 12, 0)
NEW = "/staff/ministry/campaigns/new/"


@pytest.fixture(autouse=True)
def _december(campaign, client: Client):
    client.cookies["django_language"] = "en"  # the texts below; translations: test_translations
    with clock.frozen(NOW):
        yield


@pytest.fixture
def admin(client: Client) -> Client:
    return verified(client, staff_user(Role.MINISTRY_ADMIN))


@pytest.fixture
def analyst(client: Client) -> Client:
    return verified(client, staff_user(Role.MINISTRY_ANALYST))


def form_of(response) -> dict[str, str | list[str]]:
    """The form's fields as the page prefilled them (what a browser would send back)."""
    form = response.context["form"]
    data: dict[str, str | list[str]] = {}
    for field in form:
        value = field.value()
        if isinstance(value, list):
            data[field.name] = [str(v) for v in value]
        elif value is not None:
            data[field.name] = field.field.widget.format_value(value) or str(value)
    return data


def test_the_list_shows_campaigns_and_the_admin_button(admin) -> None:
    page = admin.get("/staff/ministry/campaigns/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "2026-2027" in text and "01.04.2026 10:00" in text and "28.03.2026 00:00" in text
    assert NEW in text


def test_new_is_prefilled_from_last_year_and_creates_a_draft(admin) -> None:
    page = admin.get(NEW)
    assert page.status_code == 200
    data = form_of(page)
    assert data["code"] == "2027-2028"
    assert data["stage1_starts_at"] == "01.04.2027 10:00"
    assert data["birth_from"] == "01.01.2020" and data["birth_to"] == "31.12.2021"
    assert data["weekend_days"] == ["5", "6"]
    created = admin.post(NEW, {**data, "copy_from": "2026-2027"})
    assert created.status_code == 302, created.content.decode()[:3000]
    assert created["Location"] == "/staff/ministry/campaigns/2027-2028/"
    campaign = Campaign.objects.get(code="2027-2028")
    assert not campaign.is_active and campaign.published_at is None
    assert campaign.stage1_starts_at == clock.bishkek(2027, 4, 1, 10, 0)
    event = AuditEvent.objects.get(action="campaign.create", object_id=str(campaign.pk))
    assert event.data["copy_from"] == "2026-2027" and event.channel == "web"


def test_a_title_per_language_and_each_reader_sees_their_own(admin) -> None:
    """Issue 14: the form takes the title in each interface language; the list shows the
    reader's, or the academic year in the reader's language where none is given."""
    data = form_of(admin.get(NEW))
    assert all(data.get(f"title_{lang}", "") == "" for lang in ("ky", "ru", "uz", "en"))
    data.update(title_ky="2027–2028 окуу жылы (машыгуу)", title_ru="2027–2028 (пробная)")
    assert admin.post(NEW, data).status_code == 302
    campaign = Campaign.objects.get(code="2027-2028")
    assert (campaign.title_ky, campaign.title_ru, campaign.title_en) == (
        "2027–2028 окуу жылы (машыгуу)",
        "2027–2028 (пробная)",
        "",
    )
    english = admin.get("/staff/ministry/campaigns/").content.decode()
    assert "2027–2028 school year" in english and "машыгуу" not in english
    admin.cookies["django_language"] = "ru"
    russian = admin.get("/staff/ministry/campaigns/").content.decode()
    assert "2027–2028 (пробная)" in russian and "машыгуу" not in russian
    too_long = {**form_of(admin.get("/staff/ministry/campaigns/2027-2028/")), "title_uz": "x" * 201}
    assert admin.post("/staff/ministry/campaigns/2027-2028/", too_long).status_code == 422
    assert Campaign.objects.get(code="2027-2028").title_uz == ""


def test_contradictions_are_shown_beside_their_fields_and_nothing_is_saved(admin) -> None:
    data = form_of(admin.get(NEW))
    data.update(
        {"stage2_starts_at": "01.03.2027 10:00", "birth_to": "30.12.2021", "class_size_min": "50"}
    )
    page = admin.post(NEW, data)
    assert page.status_code == 422
    form = page.context["form"]
    assert set(form.errors) >= {"stage2_starts_at", "birth_to", "class_size_max"}
    text = page.content.decode()
    assert 'role="alert"' in text and "31.12.2021" in text  # the window's end, in the message
    assert not Campaign.objects.filter(code="2027-2028").exists()
    assert not AuditEvent.objects.filter(action="campaign.create").exists()


def test_edit_then_publish(admin) -> None:
    data = form_of(admin.get(NEW))
    assert admin.post(NEW, data).status_code == 302
    page = admin.get("/staff/ministry/campaigns/2027-2028/")
    assert page.status_code == 200 and page.context["form"] is not None
    data = form_of(page)
    data["cancel_limit"] = "2"
    assert admin.post("/staff/ministry/campaigns/2027-2028/", data).status_code == 302
    assert Campaign.objects.get(code="2027-2028").cancel_limit == 2
    published = admin.post("/staff/ministry/campaigns/2027-2028/publish/", follow=True)
    assert "2027-2028" in published.content.decode()
    assert Campaign.objects.get(is_active=True).code == "2027-2028"


def test_after_stage_1_the_campaign_is_read_only(admin) -> None:
    page = admin.get("/staff/ministry/campaigns/2026-2027/")
    assert page.status_code == 200 and page.context["form"] is None
    assert "01.01.2019 – 31.12.2020" in page.content.decode()
    data = {"title_ky": "x", "cancel_limit": "1"}
    assert admin.post("/staff/ministry/campaigns/2026-2027/", data).status_code in (302, 422)
    assert Campaign.objects.get(code="2026-2027").title_ky == ""


def test_publishing_while_the_current_campaign_is_open_is_refused(admin) -> None:
    data = form_of(admin.get(NEW))
    assert admin.post(NEW, data).status_code == 302
    with clock.frozen(clock.bishkek(2026, 8, 1)):
        page = admin.post("/staff/ministry/campaigns/2027-2028/publish/", follow=True)
    assert "still open" in page.content.decode()
    assert Campaign.objects.get(is_active=True).code == "2026-2027"


def test_analysts_read_and_cannot_write(analyst) -> None:
    assert analyst.get("/staff/ministry/campaigns/").status_code == 200
    assert NEW not in analyst.get("/staff/ministry/campaigns/").content.decode()
    assert analyst.get("/staff/ministry/campaigns/2026-2027/").status_code == 200
    assert analyst.get("/staff/ministry/calendar/2026/").status_code == 200
    assert analyst.get(NEW).status_code == 404
    assert analyst.post(NEW, {"code": "2027-2028"}).status_code == 404
    assert analyst.post("/staff/ministry/campaigns/2026-2027/publish/").status_code == 404
    assert (
        analyst.post("/staff/ministry/calendar/2027/", {"holidays": "22.03.2027"}).status_code
        == 404
    )
    assert not CalendarDay.objects.filter(date__year=2027).exists()


@pytest.mark.parametrize("role", [Role.SCHOOL, Role.DISTRICT, Role.OPERATOR])
def test_other_staff_see_no_campaign_pages(client: Client, role: str) -> None:
    school = SchoolFactory()
    scope = {"school": school} if role == Role.SCHOOL else {}
    if role == Role.DISTRICT:
        scope = {"district": school.district}
    other = verified(client, staff_user(role, **scope))
    for url in ("/staff/ministry/campaigns/", NEW, "/staff/ministry/calendar/2026/"):
        assert other.get(url).status_code == 404


def test_an_applicant_is_sent_to_the_staff_sign_in(client: Client, world) -> None:
    family = world.family()
    client.force_login(family.parent)
    assert client.get("/staff/ministry/campaigns/").status_code in (302, 404)


def test_the_calendar_page_saves_a_year_and_shows_the_lock(admin) -> None:
    data = form_of(admin.get(NEW))
    assert admin.post(NEW, data).status_code == 302
    page = admin.post(
        "/staff/ministry/calendar/2027/",
        {"holidays": "22.03.2027 Nooruz (moved)\n29.03.2027", "working_days": "27.03.2027"},
    )
    assert page.status_code == 302
    assert dict(CalendarDay.objects.filter(date__year=2027).values_list("date", "is_working")) == {
        dt.date(2027, 3, 22): False,
        dt.date(2027, 3, 27): True,
        dt.date(2027, 3, 29): False,
    }
    assert CalendarDay.objects.get(date=dt.date(2027, 3, 22)).name_en == "Nooruz (moved)"
    text = admin.get("/staff/ministry/calendar/2027/").content.decode()
    assert "22.03.2027" in text and "28.03.2027 00:00" in text  # the lock moved to Sat 27


def test_a_bad_calendar_is_refused_beside_its_field(admin) -> None:
    page = admin.post(
        "/staff/ministry/calendar/2027/",
        {"holidays": "22.03.2027\n01.01.2028\nnot a date", "working_days": ""},
    )
    assert page.status_code == 422 and "holidays" in page.context["form"].errors
    page = admin.post(
        "/staff/ministry/calendar/2027/",
        {"holidays": "22.03.2027\n01.01.2028", "working_days": "22.03.2027"},
    )
    assert page.status_code == 422
    assert set(page.context["form"].errors) == {"holidays", "working_days"}
    past = admin.post("/staff/ministry/calendar/2026/", {"holidays": "", "working_days": ""})
    assert past.status_code == 422 and "01.01.2026" in past.content.decode()
    assert not CalendarDay.objects.filter(date__year__in=[2027, 2028]).exists()
    assert CalendarDay.objects.filter(date__year=2026).count() == 14
    assert admin.get("/staff/ministry/calendar/1900/").status_code == 404
