"""A refusal is no dead end (issue 14): from a refused registration (and from any other) one
appeal action, the school fixed, saying what happens next and by when (§17); the child's card
offers the appeal and another school. Plain forms, JavaScript off."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from kattoo.appeals.models import Appeal, Subject
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application, RefusalReason
from kattoo.enrollment.services import application_refuse, application_register

from ..conftest import SYSTEM, Family, World
from .test_parent_journey import sign_in

REASON = "The birth certificate does not match the registry."


@pytest.fixture(autouse=True)
def _limits():
    cache.clear()


@pytest.fixture
def family(world: World) -> Family:
    return world.family()


@pytest.fixture
def refused(world: World, family: Family, at_stage1) -> Application:
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent, channel="web"),
    )
    return application_refuse(
        application=application,
        reason_code=RefusalReason.FALSE_DATA,
        reason=REASON,
        actor=SYSTEM,
    )


def test_the_childs_card_after_a_refusal_offers_the_appeal_and_a_school(
    client: Client, world: World, family: Family, refused: Application
) -> None:
    sign_in(client, family.parent.person.pin, language="en")
    card = client.get("/children/").content.decode()
    assert "The school refused the admission" in card
    assert f"/applications/{refused.pk}/appeal/" in card
    listed = client.get("/appeals/").content.decode()  # the general page points there too
    assert f"/applications/{refused.pk}/appeal/" in listed
    assert f"/children/{family.child.pk}/schools/" in card and "Choose a school" in card


def test_the_refused_registration_says_why_and_what_next(
    client: Client, world: World, family: Family, refused: Application
) -> None:
    sign_in(client, family.parent.person.pin, language="en")
    page = client.get(f"/applications/{refused.pk}/").content.decode()
    assert REASON in page and "Appeal the refusal" in page
    assert f"/applications/{refused.pk}/appeal/" in page
    assert "Choose another school" in page and "within 3 working days" in page


def test_the_appeal_has_its_school_fixed_and_the_answers_date(
    client: Client, world: World, family: Family, refused: Application
) -> None:
    sign_in(client, family.parent.person.pin, language="en")
    page = client.get(f"/applications/{refused.pk}/appeal/").content.decode()
    # No list of every school: the registration's school, fixed.
    assert 'name="school"' not in page and world.school.name_en in page
    assert f'<option value="{Subject.REFUSAL}" selected>' in page
    assert REASON in page
    # Filed Wednesday 01.04.2026: three working days → Monday 06.04.2026 (Asia/Bishkek).
    assert "It answers within 3 working days: by 06.04.2026 if you send it today." in page

    short = client.post(f"/applications/{refused.pk}/appeal/", {"subject": "refusal", "text": "x"})
    assert short.status_code == 200 and 'id="error-summary"' in short.content.decode()
    assert not Appeal.objects.exists()

    response = client.post(
        f"/applications/{refused.pk}/appeal/",
        {"subject": "refusal", "text": "The certificate is right; please check it again."},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/applications/{refused.pk}/"
    appeal = Appeal.objects.get()
    assert (appeal.application, appeal.school, appeal.district) == (
        refused,
        world.school,
        world.school.district,
    )
    assert appeal.subject == Subject.REFUSAL and appeal.due_day.isoformat() == "2026-04-06"
    after = client.get(response["Location"]).content.decode()
    assert f"Your appeal No. {appeal.pk} is sent to the district education office." in after
    assert "Your appeals about this registration" in after and "06.04.2026" in after


def test_any_registration_offers_the_appeal(
    client: Client, world: World, family: Family, at_stage1
) -> None:
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent, channel="web"),
    )
    sign_in(client, family.parent.person.pin, language="en")
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert f"/applications/{application.pk}/appeal/" in page
    form = client.get(f"/applications/{application.pk}/appeal/").content.decode()
    assert f'<option value="{Subject.OTHER}" selected>' in form


def test_another_parent_cannot_appeal_about_it(
    client: Client, world: World, refused: Application
) -> None:
    stranger = world.family(street=world.elsewhere)
    sign_in(client, stranger.parent.person.pin, language="en")
    assert client.get(f"/applications/{refused.pk}/appeal/").status_code == 404
    response = client.post(
        f"/applications/{refused.pk}/appeal/",
        {"subject": "refusal", "text": "Somebody else's registration."},
    )
    assert response.status_code == 404 and not Appeal.objects.exists()


def test_the_general_appeal_lists_the_familys_schools_not_the_countrys(
    client: Client, world: World, family: Family, at_stage1
) -> None:
    assert world.other_school.district_id != world.school.district_id
    sign_in(client, family.parent.person.pin, language="en")
    page = client.get("/appeals/").content.decode()
    assert "It answers within 3 working days: by 06.04.2026 if you send it today." in page
    assert f'<option value="{world.school.pk}">' in page
    assert f'<option value="{world.other_school.pk}">' not in page
    refused = client.post(
        "/appeals/",
        {"subject": "other", "school": world.other_school.pk, "text": "A school far away."},
    )
    assert refused.status_code == 200 and not Appeal.objects.exists()
