"""Check your answers before a registration, the confirmation and the PDF receipt (issue 14),
with JavaScript off (plain GET pages and POST forms)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application, Draft, SeatPool
from kattoo.enrollment.receipts import application_number
from kattoo.enrollment.services import application_cancel, application_register
from kattoo.web.views import receipts

from ..conftest import BEFORE, World
from .test_parent_journey import sign_in


@pytest.fixture(autouse=True)
def _limits():
    cache.clear()


def check_url(child_id: int, school_id: int, language: str = "") -> str:
    query = f"?language={language}" if language else ""
    return f"/children/{child_id}/schools/{school_id}/check/{query}"


def test_the_school_list_names_each_class_and_leads_to_the_check(
    client: Client, world: World, at_stage1
) -> None:
    family = world.family()
    sign_in(client, family.parent.person.pin, language="en")
    page = client.get(f"/children/{family.child.pk}/schools/").content.decode()
    # Different language pools: different words and a class of their own on the page.
    assert "Register: Kyrgyz class" in page and "Register: Russian class" in page
    assert 'class="pool pool-ky"' in page and 'class="pool pool-ru"' in page
    assert check_url(family.child.pk, world.school.pk, "ky") in page
    # The list itself registers nothing: no POST form to the register URL.
    assert 'action="/applications/new/"' not in page


def test_check_your_answers_then_confirm_registers(client: Client, world: World, at_stage1) -> None:
    family = world.family()
    sign_in(client, family.parent.person.pin, language="en")
    response = client.get(check_url(family.child.pk, world.school.pk, "ky"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Check your answers before registering" in page
    assert family.child.full_name in page and family.child.birth_date.strftime("%d.%m.%Y") in page
    assert world.school.name_en in page and "Kyrgyz class" in page
    # The address that opened the school to the child (§10), from the registry.
    assert "The child's registered address (propiska) is in this school" in page
    assert family.child.address_text and family.child.address_text in page
    # What cancelling costs (§20), from the same count the cancel service uses.
    assert "This child has 3 cancellations left in this campaign." in page
    assert 'action="/applications/new/"' in page and "Confirm and register" in page
    assert not Application.objects.exists()  # the check writes nothing

    response = client.post(
        "/applications/new/",
        {"child": family.child.pk, "school": world.school.pk, "language": "ky"},
    )
    assert response.status_code == 302
    application = Application.objects.get()
    confirmation = client.get(response["Location"]).content.decode()
    assert application_number(application) in confirmation
    assert "Place in the queue of this school and language: 1." in confirmation
    # What to bring and when: the campaign's dates, shown as 04.08.2026.
    campaign = world.campaign
    assert campaign.medical_from.strftime("%d.%m.%Y") in confirmation
    assert campaign.medical_until.strftime("%d.%m.%Y") in confirmation
    assert "the certificate of vaccinations (original)" in confirmation
    assert f"/applications/{application.pk}/receipt.pdf" in confirmation


def test_the_address_used_may_be_a_parents(client: Client, world: World, at_stage1) -> None:
    """The child and the mother live elsewhere; the father's registered address is in the
    school's microdistrict, and the page says it was his."""
    family = world.family(street=world.elsewhere, father_street=world.home)
    sign_in(client, family.parent.person.pin, language="en")
    page = client.get(check_url(family.child.pk, world.school.pk, "ru")).content.decode()
    assert "The father's registered address (propiska) is in this school" in page
    assert "Register: Russian class" not in page and "Russian class" in page


def test_the_last_cancellation_is_announced_before_registering(
    client: Client, world: World, at_stage1
) -> None:
    family = world.family()
    actor = Actor(user=family.parent, channel="web")
    for _ in range(world.campaign.cancel_limit):
        application = application_register(
            campaign=world.campaign,
            user=family.parent,
            child=family.child,
            school=world.school,
            language="ky",
            actor=actor,
        )
        application_cancel(application=application, actor=actor)
    sign_in(client, family.parent.person.pin, language="en")
    page = client.get(check_url(family.child.pk, world.school.pk, "ky")).content.decode()
    assert "The child has no cancellations left: this registration cannot be cancelled." in page


def test_a_refused_choice_is_explained_on_the_check_page(
    client: Client, world: World, at_stage1
) -> None:
    family = world.family()
    sign_in(client, family.parent.person.pin, language="en")
    response = client.get(check_url(family.child.pk, world.other_school.pk, "ky"))
    page = response.content.decode()
    assert response.status_code == 200 and 'id="problem"' in page
    assert "Confirm and register" not in page and "Back to the schools" in page
    # The refusal's own next step: ask the school to add the address.
    assert f"/schools/{world.other_school.pk}/request-address/" in page


def test_without_a_language_the_check_page_offers_the_classes(
    client: Client, world: World, at_stage1
) -> None:
    family = world.family()
    sign_in(client, family.parent.person.pin, language="en")
    page = client.get(check_url(family.child.pk, world.school.pk)).content.decode()
    assert "Register: Kyrgyz class" in page and "Register: Russian class" in page
    assert "Confirm and register" not in page
    stranger = world.family(street=world.elsewhere)
    assert client.get(check_url(stranger.child.pk, world.school.pk, "ky")).status_code == 404


def test_before_the_opening_the_check_prepares_a_draft(client: Client, world: World) -> None:
    family = world.family()
    with clock.frozen(BEFORE):
        sign_in(client, family.parent.person.pin, language="en")
        schools = client.get(f"/children/{family.child.pk}/schools/").content.decode()
        assert "Prepare: Kyrgyz class" in schools
        page = client.get(check_url(family.child.pk, world.school.pk, "ky")).content.decode()
        assert "Check your choice before preparing it" in page
        assert 'action="/drafts/"' in page and "A prepared choice takes no seat" in page
        response = client.post(
            "/drafts/", {"child": family.child.pk, "school": world.school.pk, "language": "ky"}
        )
        assert response.status_code == 302
    draft = Draft.objects.get()
    assert (draft.school, draft.language) == (world.school, "ky")
    assert not Application.objects.exists()


def test_a_registered_child_gets_no_register_buttons(
    client: Client, world: World, at_stage1
) -> None:
    family = world.family()
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent, channel="web"),
    )
    sign_in(client, family.parent.person.pin, language="en")
    page = client.get(f"/children/{family.child.pk}/schools/").content.decode()
    assert "Register: " not in page and "/check/" not in page
    assert "A child holds one registration at a time" in page
    assert f"/applications/{application.pk}/" in page


def test_the_receipt_is_a_pdf_in_the_pages_language_for_its_owner_only(
    client: Client, world: World, at_stage1, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = world.family()
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent, channel="web"),
    )
    seen: list[dict[str, Any]] = []
    real = receipts.receipt_pdf

    def recording(**kwargs: Any) -> bytes:
        seen.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(receipts, "receipt_pdf", recording)
    sign_in(client, family.parent.person.pin, language="ru")
    response = client.get(f"/applications/{application.pk}/receipt.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert application_number(application) in response["Content-Disposition"]
    (words,) = seen
    rows = dict(words["rows"])
    assert any(re.search("[а-яё]", label) for label in rows), rows  # Russian labels
    assert application_number(application) in rows.values()
    assert world.school.name_ru in rows.values()
    dates = " ".join(words["notes"])
    assert world.campaign.medical_from.strftime("%d.%m.%Y") in dates

    stranger = world.family(street=world.elsewhere)
    other = Client()
    sign_in(other, stranger.parent.person.pin)
    assert other.get(f"/applications/{application.pk}/receipt.pdf").status_code == 404
    assert SeatPool.objects.get(school=world.school, language="ky").taken == 1
