"""Drafts and the opening, a missing address, a guardian act, an appeal — on the web."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from kattoo.appeals.models import Appeal
from kattoo.catalog.models import Language, MicrodistrictRequest
from kattoo.core import clock
from kattoo.enrollment.models import Application, Draft
from kattoo.people.models import GuardianAct
from kattoo.web.templatetags.kattoo import QUOTA_EVENT_KINDS

from ..conftest import BEFORE, STAGE1, World
from ..factories import registry_person
from .test_parent_journey import sign_in


@pytest.fixture(autouse=True)
def _limits():
    cache.clear()


def test_prepare_before_the_opening_submit_at_it(client: Client, world: World) -> None:
    family = world.family()
    with clock.frozen(BEFORE):
        sign_in(client, family.parent.person.pin, language="en")
        page = client.get(f"/children/{family.child.pk}/schools/").content.decode()
        # Before the opening a class is prepared (through the check page), never registered.
        assert "Prepare: Kyrgyz class" in page and "Register: " not in page
        response = client.post(
            "/drafts/", {"child": family.child.pk, "school": world.school.pk, "language": "ky"}
        )
        assert response.status_code == 302
        children = client.get("/children/").content.decode()
        assert "data-opens-at" in children and "01.04.2026 10:00" in children
        early = client.post(f"/drafts/{family.child.pk}/submit/", follow=True).content.decode()
        assert "2026-04-01 10:00" in early and not Application.objects.exists()
    with clock.frozen(STAGE1 + dt.timedelta(seconds=1)):
        response = client.post(f"/drafts/{family.child.pk}/submit/")
    assert (
        response.status_code == 302
        and Application.objects.count() == 1
        and not Draft.objects.exists()
    )


def test_ask_the_school_to_add_a_missing_address(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    sign_in(client, family.parent.person.pin)
    refused = client.post(
        "/applications/new/",
        {"child": family.child.pk, "school": world.other_school.pk, "language": "ky"},
    )
    assert (
        f"/children/{family.child.pk}/schools/{world.other_school.pk}/request-address/"
        in refused.content.decode()
    )
    client.post(f"/children/{family.child.pk}/schools/{world.other_school.pk}/request-address/")
    request = MicrodistrictRequest.objects.get()
    assert request.school == world.other_school and request.street_code == world.home.code
    page = client.get(f"/children/{family.child.pk}/schools/").content.decode()
    assert request.address_text in page


def test_guardian_uploads_the_act_and_can_register(client: Client, world: World, at_stage1) -> None:
    child = registry_person(sex="M", born=dt.date(2019, 10, 10), street=world.home)
    rep = registry_person(sex="F", born=dt.date(1970, 1, 1), street=world.home)
    for p in (child, rep):
        world.registry.add_person(p)
    world.registry.add_ward(rep["pin"], child["pin"])
    sign_in(client, rep["pin"])
    from kattoo.people.models import Person

    page = client.get("/children/").content.decode()
    child_id = Person.objects.get(pin=child["pin"]).pk
    assert f"/children/{child_id}/act/" in page
    bad = client.post(
        f"/children/{child_id}/act/",
        {"kind": "court", "file": SimpleUploadedFile("a.pdf", b"MZ..")},
    )
    assert bad.status_code == 200 and "field-error" in bad.content.decode()
    good = client.post(
        f"/children/{child_id}/act/",
        {"kind": "court", "number": "2-1/24", "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4 x")},
    )
    assert good.status_code == 302 and GuardianAct.objects.count() == 1
    response = client.post(
        "/applications/new/", {"child": child_id, "school": world.school.pk, "language": "ky"}
    )
    assert response.status_code == 302


def test_write_an_appeal(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    sign_in(client, family.parent.person.pin)
    response = client.post(
        "/appeals/",
        {
            "subject": "missing_address",
            "school": world.school.pk,
            "text": "Our house is next to this school.",
        },
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.district == world.school.district
    page = client.get("/appeals/").content.decode()
    assert "Our house is next to this school." in page
    short = client.post("/appeals/", {"subject": "other", "text": "short"})
    assert short.status_code == 200 and Appeal.objects.count() == 1


def test_schools_not_offered_in_stage_one_say_why(client: Client, world: World, at_stage1) -> None:
    world.other_school.district = world.home.settlement.district
    world.other_school.save()
    family = world.family()
    sign_in(client, family.parent.person.pin, language="en")
    page = client.get(f"/children/{family.child.pk}/schools/").content.decode()
    assert "Other schools nearby" in page and world.other_school.name_en in page
    assert "01.06.2026 10:00" in page
    assert f"/schools/{world.other_school.pk}/request-address/" in page


def test_open_data_and_the_public_quota_log(client: Client, world: World, at_stage1) -> None:
    page = client.get("/open-data/")
    assert page.status_code == 200 and b"<table>" in page.content
    log = client.get(f"/schools/{world.school.pk}/quota-log/").content.decode()
    # Words in the page's language, never the internal codes (issue 14).
    with translation.override("ky"):
        computed = str(QUOTA_EVENT_KINDS["computed"])
        kyrgyz = str(Language.KY.label)
    assert computed in log and f"№1 {kyrgyz} 25" in log
    assert "computed" not in log and " ky " not in log
    client.cookies["django_language"] = "en"
    log = client.get(f"/schools/{world.school.pk}/quota-log/").content.decode()
    assert "computed from last year" in log and "№1 Kyrgyz 25" in log
    assert client.get("/schools/999999/quota-log/").status_code == 404
