"""Issue 14, parents: no vague messages (a missing child, nearby schools, "my address belongs
here") and forms that say what is wrong at the top (an error summary, dates typed as day,
month and year). JavaScript off: plain pages and forms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kattoo.catalog.models import MicrodistrictRequest
from kattoo.people.models import GuardianAct, Person

from ..conftest import World
from ..factories import SchoolFactory, SettlementFactory, registry_person
from .test_parent_journey import sign_in


@pytest.fixture(autouse=True)
def _limits():
    cache.clear()


def test_a_child_missing_from_the_registry_gets_next_steps(
    client: Client, world: World, at_stage1
) -> None:
    family = world.family()
    sign_in(client, family.parent.person.pin, language="en")
    page = client.post(
        "/children/", {"pin": "20109201900001", "series": "I-TN", "number": "123456"}
    ).content.decode()
    assert 'id="problem"' in page and "What to do if the child is not found" in page
    assert 'href="/help/"' in page
    # Children without documents: the district's Commission on Children's Affairs.
    assert "/appeals/?subject=late_registration" in page
    assert "Commission on Children&#x27;s Affairs" in page or "Commission on Children's" in page


def test_the_form_errors_are_summed_up_at_the_top(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    sign_in(client, family.parent.person.pin, language="en")
    page = client.post("/children/", {"pin": "123", "series": "", "number": "x"}).content.decode()
    summary = page[page.index('id="error-summary"') - 80 :]
    assert 'role="alert"' in summary[:200] and 'tabindex="-1"' in summary[:200]
    assert "autofocus" in summary[:200]  # focus moves there without JavaScript too
    for field in ("id_pin", "id_series", "id_number"):
        assert f'href="#{field}"' in summary
    assert page.index('id="error-summary"') < page.index('<form method="post" novalidate>')
    assert "/static/web/focus-errors.js" in page


def representative(client: Client, world: World) -> int:
    child = registry_person(sex="M", born=dt.date(2019, 10, 10), street=world.home)
    rep = registry_person(sex="F", born=dt.date(1970, 1, 1), street=world.home)
    for p in (child, rep):
        world.registry.add_person(p)
    world.registry.add_ward(rep["pin"], child["pin"])
    sign_in(client, rep["pin"], language="en")
    client.get("/children/")
    return Person.objects.get(pin=child["pin"]).pk


def act(day: str, month: str, year: str) -> dict[str, object]:
    return {
        "kind": "court",
        "number": "2-1/24",
        "issued_on_0": day,
        "issued_on_1": month,
        "issued_on_2": year,
        "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4 x"),
    }


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (("31", "02", "2024"), "Enter a real date as day, month and year, for example 31 08 2020."),
        (("3", "", "2024"), "Enter the day, the month and the year."),
        (("aa", "01", "2024"), "Enter a real date as day, month and year, for example 31 08 2020."),
        (("01", "01", "2099"), "The date cannot be later than today."),
    ],
)
def test_the_acts_date_is_typed_as_day_month_year_and_checked(
    client: Client, world: World, at_stage1, parts: tuple[str, str, str], message: str
) -> None:
    child_id = representative(client, world)
    form = client.get(f"/children/{child_id}/act/").content.decode()
    assert all(f'name="issued_on_{i}"' in form for i in range(3))
    assert "<legend>Date of the act</legend>" in form and "YYYY" not in form
    bad = client.post(f"/children/{child_id}/act/", act(*parts))
    page = bad.content.decode()
    assert bad.status_code == 200 and 'id="error-summary"' in page
    assert 'href="#id_issued_on_0"' in page and message in page
    # Said once, at the date: the form parses, the service refuses a later date (in_future).
    assert bad.context["form"].errors == {"issued_on": [message]}
    assert not GuardianAct.objects.exists()


def test_a_real_date_is_kept(client: Client, world: World, at_stage1) -> None:
    child_id = representative(client, world)
    good = client.post(f"/children/{child_id}/act/", act("31", "08", "2020"))
    assert good.status_code == 302
    assert GuardianAct.objects.get().issued_on == dt.date(2020, 8, 31)
    empty = client.post(f"/children/{child_id}/act/", act("", "", ""))
    assert empty.status_code == 302 and GuardianAct.objects.filter(issued_on=None).count() == 1


def test_nearby_schools_are_a_handful_the_familys_settlement_first(
    client: Client, world: World, at_stage1
) -> None:
    family = world.family()
    home_settlement = world.home.settlement
    district = home_settlement.district
    elsewhere = SettlementFactory(district=district)
    far = [SchoolFactory(district=district, settlement=elsewhere) for _ in range(6)]
    near = [SchoolFactory(district=district, settlement=home_settlement) for _ in range(2)]
    sign_in(client, family.parent.person.pin, language="en")
    page = client.get(f"/children/{family.child.pk}/schools/").content.decode()
    section = page[page.index('id="not-offered"') :]
    shown = [s for s in near + far if f"/schools/{s.pk}/request-address/" in section]
    assert len(shown) == 5 and shown[:2] == near
    assert section.index(f"/schools/{near[1].pk}/") < section.index(f"/schools/{far[0].pk}/")
    assert "Show all 8 schools of the district" in section and "?all=1#not-offered" in section
    every = client.get(f"/children/{family.child.pk}/schools/?all=1").content.decode()
    assert all(f"/schools/{s.pk}/request-address/" in every for s in near + far)
    assert "Show all" not in every


def test_my_address_belongs_here_shows_the_registry_address_first(
    client: Client, world: World, at_stage1
) -> None:
    family = world.family()
    sign_in(client, family.parent.person.pin, language="en")
    url = f"/children/{family.child.pk}/schools/{world.other_school.pk}/request-address/"
    page = client.get(url).content.decode()
    assert family.child.address_text in page and "Yes, send the request" in page
    assert world.other_school.name_en in page
    assert not MicrodistrictRequest.objects.exists()  # nothing is sent before the confirmation
    response = client.post(url)
    assert response.status_code == 302
    request = MicrodistrictRequest.objects.get()
    assert request.school == world.other_school and request.address_text == (
        family.child.address_text
    )
