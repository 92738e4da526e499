"""staff/readiness/: the ministry's country table per district with a district filter and a
campaign selector; a district officer's schools with links; scope; queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kattoo.accounts.models import Role
from kattoo.core import clock

from ...conftest import BEFORE, World, build_school
from ...factories import SchoolFactory
from ...reports.test_readiness import next_year
from .conftest import staff_user, verified

URL = "/staff/readiness/"


@pytest.fixture(autouse=True)
def _before():
    with clock.frozen(BEFORE):
        yield


def as_role(client: Client, role: str, **scope) -> Client:
    return verified(client, staff_user(role, **scope))


@pytest.mark.parametrize("role", [Role.MINISTRY_ADMIN, Role.MINISTRY_ANALYST])
def test_ministry_country_table(client: Client, world: World, role: str) -> None:
    as_role(client, role)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="table-wrap"' in page
    assert world.school.district.name_ky in page and world.other_school.district.name_ky in page
    assert f"district={world.school.district.soate}" in page
    assert 'id="blocker-no_director"' in page
    assert '<option value="2026-2027" selected>' in page
    # schools are not listed in the country view; the district filter lists them
    assert world.school.code not in page
    page = client.get(URL, {"district": world.school.district.soate}).content.decode()
    assert world.school.code in page and world.other_school.code not in page
    # the ministry has no district school page to link to
    assert f"/staff/district/schools/{world.school.pk}/" not in page


def test_district_officer_sees_its_schools_with_links(client: Client, world: World) -> None:
    as_role(client, Role.DISTRICT, district=world.school.district)
    page = client.get(URL).content.decode()
    assert world.school.code in page and world.other_school.code not in page
    assert f'href="/staff/district/schools/{world.school.pk}/"' in page
    assert 'id="blocker-no_director"' in page
    # a district officer cannot switch districts: the parameter is ignored, no filter shown
    page = client.get(URL, {"district": world.other_school.district.soate}).content.decode()
    assert world.other_school.code not in page and world.school.code in page
    assert 'name="district"' not in page


@pytest.mark.parametrize("role", [Role.SCHOOL, Role.OPERATOR])
def test_other_staff_get_404(client: Client, world: World, role: str) -> None:
    scope = {"school": world.school} if role == Role.SCHOOL else {}
    as_role(client, role, **scope)
    assert client.get(URL).status_code == 404


def test_anonymous_is_sent_to_sign_in(client: Client, world: World) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_unknown_campaign_or_district_is_404(client: Client, world: World) -> None:
    as_role(client, Role.MINISTRY_ANALYST)
    assert client.get(URL, {"campaign": "1999-2000"}).status_code == 404
    assert client.get(URL, {"district": "0000"}).status_code == 404


def test_next_campaign_is_shown_first_and_can_be_chosen(client: Client, world: World) -> None:
    next_year(world)  # the 2027-2028 campaign, not published yet
    as_role(client, Role.MINISTRY_ADMIN)
    with clock.frozen(world.campaign.registration_ends_at + dt.timedelta(days=10)):
        page = client.get(URL).content.decode()
        assert '<option value="2027-2028" selected>' in page
        assert 'id="blocker-campaign_not_published"' in page
        page = client.get(URL, {"campaign": "2026-2027"}).content.decode()
    assert 'id="blocker-campaign_not_published"' not in page


def test_queries_do_not_grow_with_schools(client: Client, world: World) -> None:
    officer = staff_user(Role.DISTRICT, district=world.school.district)
    verified(client, officer)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for _i in range(5):
        SchoolFactory(district=world.school.district)
        build_school(world.campaign, sizes=[("ky", 27)])
    assert count() == before
