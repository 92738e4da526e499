"""The people pages (ministry and district) and the public enrolment page (ADR 0018)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import Role, StaffEnrolment, User
from kattoo.accounts.staff import staff_create
from kattoo.audit.models import AuditEvent
from kattoo.core import clock

from ...accounts.staff_helpers import CLI, PASSWORD, code_for, wrong_code
from ...factories import DistrictFactory, SchoolFactory
from .conftest import PASSWORD as STAFF_PASSWORD
from .conftest import staff_user, verified

MINISTRY = "/staff/ministry/people/"
DISTRICT = "/staff/district/people/"


@pytest.fixture(autouse=True)
def _english(client: Client) -> None:
    client.cookies["django_language"] = "en"  # the texts below; translations: test_translations


def link_in(html: str) -> str:
    [url] = set(re.findall(r"http://127\.0\.0\.1:8000(/staff/enrol/[\w-]+/)", html))
    return url


def test_ministry_creates_an_officer_and_sees_the_link_once(client: Client) -> None:
    district = DistrictFactory()
    verified(client, staff_user(Role.MINISTRY_ADMIN))
    page = client.get(MINISTRY)
    assert page.status_code == 200 and 'name="district"' in page.content.decode()
    created = client.post(
        MINISTRY,
        {
            "username": "officer7",
            "full_name": "Нурлан Токтогулов",
            "role": "district",
            "district": district.soate,
        },
    )
    assert created.status_code == 302 and created["Location"] == MINISTRY
    shown = client.get(MINISTRY).content.decode()
    assert "officer7" in shown and "Нурлан Токтогулов" in shown
    link_in(shown)
    assert "http://127.0.0.1:8000/staff/enrol/" not in client.get(MINISTRY).content.decode()
    assert User.objects.get(username="officer7").district == district


def test_refused_creation_shows_the_reason_and_changes_nothing(client: Client) -> None:
    verified(client, staff_user(Role.MINISTRY_ADMIN))
    users = User.objects.count()
    bad = client.post(
        MINISTRY, {"username": "officer8", "full_name": "X", "role": "district", "district": ""}
    )
    assert bad.status_code == 422 and "SOATE" in bad.content.decode()
    User.objects.create(username="taken1", role=Role.MINISTRY_ANALYST)
    taken = client.post(
        MINISTRY, {"username": "taken1", "full_name": "Y", "role": "ministry_analyst"}
    )
    assert taken.status_code == 409 and 'id="problem"' in taken.content.decode()
    assert User.objects.count() == users + 1


def test_district_creates_a_director_of_its_own_school_only(client: Client) -> None:
    own, other = SchoolFactory(), SchoolFactory()
    verified(client, staff_user(Role.DISTRICT, district=own.district))
    page = client.get(DISTRICT).content.decode()
    assert own.code in page and other.code not in page and 'name="role"' not in page
    refused = client.post(DISTRICT, {"username": "dir9", "full_name": "D", "school": other.code})
    assert refused.status_code == 422 and not User.objects.filter(username="dir9").exists()
    created = client.post(DISTRICT, {"username": "dir9", "full_name": "D", "school": own.code})
    assert created.status_code == 302
    assert User.objects.get(username="dir9").school == own
    assert "dir9" in client.get(DISTRICT).content.decode()


@pytest.mark.parametrize(
    ("role", "url"),
    [
        (Role.MINISTRY_ANALYST, MINISTRY),
        (Role.DISTRICT, MINISTRY),
        (Role.SCHOOL, DISTRICT),
        (Role.MINISTRY_ADMIN, DISTRICT),
        (Role.OPERATOR, MINISTRY),
    ],
)
def test_people_pages_are_not_found_for_other_roles(client: Client, role: str, url: str) -> None:
    school = SchoolFactory()
    scope = {"school": school} if role == Role.SCHOOL else {}
    if role == Role.DISTRICT:
        scope = {"district": school.district}
    verified(client, staff_user(role, **scope))
    assert client.get(url).status_code == 404


def test_deactivate_and_reset_from_the_district_page(client: Client) -> None:
    own, other = SchoolFactory(), SchoolFactory()
    verified(client, staff_user(Role.DISTRICT, district=own.district))
    mine = staff_user(Role.SCHOOL, school=own)
    TOTPDevice.objects.create(user=mine, name="kattoo", confirmed=True)
    theirs = staff_user(Role.SCHOOL, school=other)
    reset = client.post(f"/staff/people/{mine.username}/second-factor/reset/")
    assert reset.status_code == 302 and reset["Location"] == DISTRICT
    link_in(client.get(DISTRICT).content.decode())
    assert not TOTPDevice.objects.filter(user=mine).exists()
    assert client.post(f"/staff/people/{theirs.username}/deactivate/").status_code == 404
    assert client.post(f"/staff/people/{mine.username}/deactivate/").status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert not mine.is_active and theirs.is_active
    assert client.get(f"/staff/people/{mine.username}/deactivate/").status_code == 405


def test_a_deactivated_person_is_signed_out(client: Client, campaign) -> None:
    school = SchoolFactory()
    director = staff_user(Role.SCHOOL, school=school)
    officer = staff_user(Role.DISTRICT, district=school.district)
    directors_browser = verified(Client(), director)
    assert directors_browser.get("/staff/school/").status_code != 302
    verified(client, officer).post(f"/staff/people/{director.username}/deactivate/")
    gone = directors_browser.get("/staff/school/")
    assert gone.status_code == 302 and "/staff/login/" in gone["Location"]


# --- the enrolment page --------------------------------------------------------------------


def _link(**kwargs: str) -> tuple[User, str]:
    user, token = staff_create(
        username=kwargs.get("username", "newofficer"),
        role=Role.MINISTRY_ANALYST,
        full_name="Жаңы",
        actor_user=None,
        actor=CLI,
    )
    return user, f"/staff/enrol/{token}/"


def test_enrolment_page_then_sign_in(client: Client) -> None:
    user, url = _link()
    first = client.get(url)
    assert first.status_code == 200 and 'name="password1"' in first.content.decode()
    mismatch = client.post(url, {"step": "password", "password1": PASSWORD, "password2": "x"})
    assert mismatch.status_code == 422
    weak = client.post(url, {"step": "password", "password1": "short", "password2": "short"})
    assert weak.status_code == 422 and StaffEnrolment.objects.get(user=user).password_hash == ""
    chosen = client.post(url, {"step": "password", "password1": PASSWORD, "password2": PASSWORD})
    assert chosen.status_code == 302 and chosen["Location"] == url
    page = client.get(url)
    html = page.content.decode()
    assert "<svg" in html and 'role="img"' in html and "<script" not in html.split("</header>")[1]
    device = TOTPDevice.objects.get(user=user)
    assert re.search(r'<code id="secret">[A-Z2-7]+</code>', html)
    assert page["Cache-Control"].startswith("max-age=0")
    wrong = client.post(url, {"step": "code", "code": wrong_code(device)})
    assert wrong.status_code == 422 and 'id="problem"' in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0  # django-otp waits a second after a wrong code
    device.save()
    done = client.post(url, {"step": "code", "code": code_for(device)})
    assert done.status_code == 302 and done["Location"] == "/staff/login/"
    assert TOTPDevice.objects.get(user=user).confirmed
    used = client.get(url)
    assert used.status_code == 409 and "already used" in used.content.decode()
    assert AuditEvent.objects.filter(action="staff.enrolment_complete").exists()


def test_expired_and_unknown_links_get_a_clear_page(client: Client) -> None:
    _user, url = _link()
    with clock.frozen(clock.now() + dt.timedelta(hours=73)):
        expired = client.get(url)
    assert expired.status_code == 409 and "expired" in expired.content.decode()
    unknown = client.get("/staff/enrol/not-a-real-token/")
    assert unknown.status_code == 404 and "not valid" in unknown.content.decode()


def test_sign_in_without_an_enrolled_device_says_to_ask_for_a_link(client: Client) -> None:
    user = staff_user(Role.MINISTRY_ANALYST)  # a password, but no authenticator yet
    page = client.post(
        "/staff/login/", {"username": user.username, "password": STAFF_PASSWORD, "code": "123456"}
    )
    assert "Ask your administrator for an enrolment link" in page.content.decode()
    stranger = client.post(
        "/staff/login/", {"username": user.username, "password": "wrong", "code": "123456"}
    )
    html = stranger.content.decode()
    assert "no authenticator app enrolled" not in html and "enrolment link" in html


def test_the_people_page_reads_a_fixed_number_of_queries(client: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    school = SchoolFactory()
    verified(client, staff_user(Role.DISTRICT, district=school.district))
    staff_user(Role.SCHOOL, school=school)
    with CaptureQueriesContext(connection) as one:
        client.get(DISTRICT)
    for _ in range(5):
        staff_user(Role.SCHOOL, school=SchoolFactory(district=school.district))
    with CaptureQueriesContext(connection) as six:
        assert "Deactivate" in client.get(DISTRICT).content.decode()
    assert len(six) == len(one)
