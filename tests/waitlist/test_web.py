"""The waitlist on the web, without JavaScript: join from the list of schools, see the number,
accept or decline the offer; staff read the line of their school."""

from __future__ import annotations

import re

from django.test import Client

from kattoo.accounts.models import Role
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application, Status
from kattoo.enrollment.services import application_cancel
from kattoo.waitlist.models import EntryStatus, WaitlistEntry

from ..web.staff.conftest import staff_user, verified
from .conftest import Town


def signed_in(client: Client, town: Town, language: str = "en"):
    family = town.world.family()
    client.force_login(family.parent)
    client.cookies["django_language"] = language
    return family


def join_form(town: Town, family) -> dict[str, object]:
    return {"child": family.child.pk, "school": town.world.school.pk, "language": "ky"}


def test_a_full_pool_offers_the_waitlist_and_the_number_shows(town: Town, client: Client) -> None:
    family = signed_in(client, town)
    page = client.get(f"/children/{family.child.pk}/schools/").content.decode()
    assert "/waitlist/join/" in page and "Join the waitlist" in page
    response = client.post("/waitlist/join/", join_form(town, family))
    assert response.status_code == 302 and response["Location"] == "/waitlist/"
    page = client.get("/waitlist/").content.decode()
    assert re.search(r"You are No\. 1 in the waitlist for .+ \(Kyrgyz\)", page)


def test_a_refused_join_says_why_and_changes_nothing(town: Town, client: Client) -> None:
    family = signed_in(client, town)
    client.post("/waitlist/join/", join_form(town, family))
    response = client.post("/waitlist/join/", join_form(town, family))
    assert response.status_code == 409
    assert "already in a waitlist" in response.content.decode()
    assert WaitlistEntry.objects.count() == 1


def test_accept_the_offer_in_kyrgyz(town: Town, client: Client) -> None:
    family = signed_in(client, town, language="ky")
    client.post("/waitlist/join/", join_form(town, family))
    entry = WaitlistEntry.objects.get()
    application_cancel(application=town.holders[0], actor=Actor(user=None))
    page = client.get("/waitlist/").content.decode()
    assert f"/waitlist/{entry.pk}/accept/" in page
    response = client.post(f"/waitlist/{entry.pk}/accept/")
    application = Application.objects.get(child=family.child)
    assert response.status_code == 302 and str(application.pk) in response["Location"]
    assert application.status == Status.REGISTERED


def test_decline_and_leave(town: Town, client: Client) -> None:
    family = signed_in(client, town)
    client.post("/waitlist/join/", join_form(town, family))
    entry = WaitlistEntry.objects.get()
    assert client.post(f"/waitlist/{entry.pk}/decline/").status_code == 302
    entry.refresh_from_db()
    assert entry.status == EntryStatus.WAITING  # nothing was offered: the refusal changed nothing
    assert client.post(f"/waitlist/{entry.pk}/leave/").status_code == 302
    entry.refresh_from_db()
    assert entry.status == EntryStatus.LEFT


def test_another_parents_entry_is_not_found(town: Town, client: Client) -> None:
    family = signed_in(client, town)
    client.post("/waitlist/join/", join_form(town, family))
    entry = WaitlistEntry.objects.get()
    other = Client()
    other.force_login(town.world.family().parent)
    assert other.post(f"/waitlist/{entry.pk}/leave/").status_code == 404
    assert WaitlistEntry.objects.get().status == EntryStatus.WAITING


def test_the_school_sees_its_line(town: Town, client: Client) -> None:
    family = signed_in(client, town)
    client.post("/waitlist/join/", join_form(town, family))
    director = verified(Client(), staff_user(Role.SCHOOL, school=town.world.school))
    page = director.get(f"/staff/schools/{town.world.school.pk}/waitlist/")
    assert page.status_code == 200
    assert family.child.surname in page.content.decode()
