"""The district officer's commission page (§9, §26, §31): a child the registry does not know,
linked to the PIN later; younger children and schools that do not take part are refused."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from kattoo.audit.models import AuditEvent
from kattoo.catalog.models import Ownership, School
from kattoo.commission.models import CommissionDecision
from kattoo.core import clock
from kattoo.enrollment.models import Application
from kattoo.notifications.models import Notification
from kattoo.people.models import Person

from ...conftest import STAGE2
from ...factories import registry_person
from .conftest import Scene, verified

BODY = {
    "child_pin": "",
    "child_surname": "Токтогулов",
    "child_name": "Алмаз",
    "child_birth_date": "2017-11-02",
    "child_sex": "M",
    "certificate_series": "I-АН",
    "certificate_number": "654321",
    "language": "ky",
    "number": "КДД-40",
    "decided_on": "2026-06-03",
    "ground": "no_documents",
}


def test_a_child_without_a_pin_is_placed_then_linked(client: Client, scene: Scene) -> None:
    world = scene.world
    client.cookies["django_language"] = "en"
    verified(client, scene.users["district_own"])
    parent = scene.family.parent.person
    body = {**BODY, "applicant_pin": parent.pin, "school": world.school.pk}
    with clock.frozen(STAGE2 + dt.timedelta(days=3)):
        missing = client.post("/staff/district/commission/", {**body, "child_surname": ""})
        assert missing.status_code == 422
        assert "for a child the registry does not know" in missing.content.decode()
        placed = client.post("/staff/district/commission/", body, follow=True)
        page = placed.content.decode()
        decision = CommissionDecision.objects.get(number="КДД-40")
        assert decision.awaits_link and decision.temporary_id in page
        assert f"/staff/district/commission/{decision.pk}/link/" in page
        # the placed child is in the parent's account at once, and the family has the SMS
        family = Client()
        family.cookies["django_language"] = "en"
        family.force_login(scene.family.parent)
        for account_page in ("/applications/", "/children/"):
            shown = family.get(account_page)
            assert shown.status_code == 200
            assert "Алмаз" in shown.content.decode(), account_page
        assert Notification.objects.filter(
            event="commission_placed", user=scene.family.parent
        ).exists()

        record = registry_person(
            sex="M", born=dt.date(2017, 11, 2), mother=parent.pin, surname="Токтогулов"
        )
        world.registry.add_person(record)
        linked = client.post(
            f"/staff/district/commission/{decision.pk}/link/",
            {"child_pin": record["pin"]},
            follow=True,
        )
    assert "is linked to the registry&#x27;s PIN" in linked.content.decode()
    decision.refresh_from_db()
    assert decision.linked_at is not None
    assert Application.objects.get(pk=decision.application_id).child.pin == record["pin"]
    assert not Person.objects.filter(pin=decision.temporary_id).exists()


def test_younger_children_and_schools_outside_are_refused(client: Client, scene: Scene) -> None:
    world = scene.world
    client.cookies["django_language"] = "en"
    verified(client, scene.users["district_own"])
    parent = scene.family.parent.person
    body = {**BODY, "applicant_pin": parent.pin, "school": world.school.pk}
    with clock.frozen(STAGE2 + dt.timedelta(days=3)):
        young = client.post(
            "/staff/district/commission/", {**body, "child_birth_date": "2021-02-01"}
        )
        assert young.status_code == 409
        assert "younger than this campaign&#x27;s birth window" in young.content.decode()
        School.objects.filter(pk=world.school.pk).update(ownership=Ownership.PRIVATE)
        private = client.post("/staff/district/commission/", body)
        # §31: a school that does not take part is not even a choice
        assert private.status_code == 422
        assert f'value="{world.school.pk}"' not in private.content.decode()
    assert not CommissionDecision.objects.exists()


def test_a_ground_that_does_not_fit_is_said_at_the_ground_field(
    client: Client, scene: Scene
) -> None:
    # §26: "late" before the registration has ended is refused at the field, nothing changes.
    world = scene.world
    client.cookies["django_language"] = "en"
    verified(client, scene.users["district_own"])
    child = scene.family.children[0]
    body = {
        **BODY,
        "child_pin": child.pin,
        "applicant_pin": scene.family.parent.person.pin,
        "school": world.school.pk,
        "ground": "late",
        "number": "КДД-41",
    }
    with clock.frozen(STAGE2 + dt.timedelta(days=3)):
        early = client.post("/staff/district/commission/", body)
    assert early.status_code == 409
    page = early.content.decode()
    assert 'id="id_ground_error"' in page
    assert "a late registration is placed by the commission only after" in page
    assert not CommissionDecision.objects.exists()


def test_a_decision_dated_after_today_is_said_at_the_date_field(
    client: Client, scene: Scene
) -> None:
    """The officer enters tomorrow's date: the page answers at the date field, in the officer's
    language, with what was typed kept; no placement, no provisional child, no audit row."""
    world = scene.world
    client.cookies["django_language"] = "ru"
    verified(client, scene.users["district_own"])
    body = {**BODY, "applicant_pin": scene.family.parent.person.pin, "school": world.school.pk}
    people = Person.objects.count()
    with clock.frozen(STAGE2 + dt.timedelta(days=3)):  # 2026-06-04 in Bishkek
        dated = client.post("/staff/district/commission/", {**body, "decided_on": "2026-06-05"})
    assert dated.status_code == 422
    page = dated.content.decode()
    assert 'id="id_decided_on_error"' in page
    assert "Дата решения не может быть позже сегодняшней." in page
    assert 'value="КДД-40"' in page and 'value="Токтогулов"' in page
    assert not CommissionDecision.objects.exists()
    assert not Application.objects.filter(route="commission").exists()
    assert Person.objects.count() == people
    assert not AuditEvent.objects.filter(action="commission.place").exists()
