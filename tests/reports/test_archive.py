"""The archive stays readable (issue 11, item 6): after 2027–2028 is published, the reports of
2026–2027 are still read with ``campaign=2026-2027`` — API, page, files and dashboard."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import translation

from kattoo.accounts.models import Role
from kattoo.accounts.services import token_issue
from kattoo.campaigns.models import Campaign
from kattoo.reports.exports import COLUMN_LABELS

from ..api.test_applicant_api import Api, problem
from ..conftest import SYSTEM, World
from ..factories import UserFactory
from ..web.staff.conftest import staff_user, verified
from .test_reports import fill

YEAR = dt.timedelta(days=365)


def campaign_copy(world: World, code: str, *, years: int, **changes) -> Campaign:
    fields = {
        f.name: getattr(world.campaign, f.name)
        for f in Campaign._meta.get_fields()
        if f.concrete and not f.primary_key
    }
    fields.update(
        code=code,
        academic_year=code,
        title_en=code,
        is_active=False,
        published_at=None,
        stage1_starts_at=world.campaign.stage1_starts_at + years * YEAR,
        stage2_starts_at=world.campaign.stage2_starts_at + years * YEAR,
        registration_ends_at=world.campaign.registration_ends_at + years * YEAR,
    )
    fields.update(changes)
    return Campaign.objects.create(**fields)


@pytest.fixture
def archived(world: World, at_stage1) -> World:
    """2026–2027 had registrations, then 2027–2028 was published and became the current one;
    2028–2029 is a draft."""
    fill(world)
    finished = world.campaign.registration_ends_at + dt.timedelta(days=30)
    Campaign.objects.filter(pk=world.campaign.pk).update(is_active=False, published_at=finished)
    campaign_copy(world, "2027-2028", years=1, is_active=True, published_at=finished)
    campaign_copy(world, "2028-2029", years=2)
    return world


def analyst_api(client: Client) -> Api:
    return Api(client, token_issue(user=UserFactory(role=Role.MINISTRY_ANALYST), actor=SYSTEM))


def test_api_reads_the_active_campaign_by_default_and_the_archive_on_request(
    client: Client, archived: World
) -> None:
    api = analyst_api(client)
    current = api.get("/reports/summary", by="district").json()
    assert current["campaign"] == "2027-2028" and current["applications"] == []
    old = api.get("/reports/summary", by="district", campaign="2026-2027").json()
    assert old["campaign"] == "2026-2027"
    assert sum(r["registered"] + r["admitted"] for r in old["applications"]) == 4
    csv_file = client.get(
        "/api/v1/reports/summary.csv",
        {"by": "school", "campaign": "2026-2027"},
        headers=api.headers,
    )
    rows = list(csv.DictReader(io.StringIO(csv_file.content.decode("utf-8-sig"))))
    assert {r["school"] for r in rows} == {archived.school.code, archived.other_school.code}
    open_data = Api(client).get("/open-data/summary", by="route", campaign="2026-2027").json()
    assert open_data["campaign"] == "2026-2027"


def test_api_unknown_or_draft_campaign_is_404(client: Client, archived: World) -> None:
    api = analyst_api(client)
    problem(api.get("/reports/summary", campaign="1999-2000"), 404, "not_found")
    problem(api.get("/reports/summary", campaign="2028-2029"), 404, "not_found")
    problem(Api(client).get("/open-data/summary", campaign="2028-2029"), 404, "not_found")


def test_district_officer_reads_its_archive_only(client: Client, archived: World) -> None:
    officer = UserFactory(role=Role.DISTRICT, district=archived.school.district)
    api = Api(client, token_issue(user=officer, actor=SYSTEM))
    rows = api.get("/reports/summary", by="school", campaign="2026-2027").json()["applications"]
    assert [r["school"] for r in rows] == [archived.school.code]


def test_ministry_pages_read_the_archive(client: Client, archived: World) -> None:
    verified(client, staff_user(Role.MINISTRY_ANALYST))
    page = client.get("/staff/ministry/reports/", {"by": "school"}).content.decode()
    assert '<option value="2027-2028" selected>' in page
    assert '<option value="2026-2027">' in page and "2028-2029" not in page
    assert archived.school.code not in page  # nothing registered in 2027–2028 yet
    query = {"by": "school", "campaign": "2026-2027"}
    page = client.get("/staff/ministry/reports/", query).content.decode()
    assert '<option value="2026-2027" selected>' in page
    assert archived.school.code in page and "campaign=2026-2027" in page
    file = client.get("/staff/ministry/reports/report.csv", query)
    assert file["Content-Disposition"] == (
        'attachment; filename="kattoo-2026-2027-applications-school.csv"'
    )
    # A file from the pages names its columns in the page's language (Kyrgyz by default).
    rows = list(csv.DictReader(io.StringIO(file.content.decode("utf-8-sig"))))
    with translation.override("ky"):
        school = str(COLUMN_LABELS["school"])
    assert {r[school] for r in rows} == {archived.school.code, archived.other_school.code}
    assert client.get("/staff/ministry/reports/", {"campaign": "1999-2000"}).status_code == 404
    dashboard = client.get("/staff/ministry/", {"campaign": "2026-2027"})
    assert dashboard.status_code == 200
    assert '<option value="2026-2027" selected>' in dashboard.content.decode()
