"""A refusal on the parent's pages uses the words of ``core/errors.py`` (one source): a child
too young for the birth window is told so and not sent to the Commission (§8, §9)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client

from kattoo.core.actors import Actor
from kattoo.enrollment.models import Status
from kattoo.enrollment.services import application_register

from ..conftest import World
from ..factories import registry_person
from .test_parent_journey import sign_in


@pytest.fixture(autouse=True)
def _limits() -> None:
    cache.clear()


@pytest.mark.parametrize(
    ("born", "commission"), [(dt.date(2021, 2, 2), False), (dt.date(2018, 2, 2), True)]
)
def test_outside_the_window_the_pages_say_which_way(
    client: Client, world: World, at_stage1, born: dt.date, commission: bool
) -> None:
    family = world.family(births=[born])
    sign_in(client, family.parent.person.pin, "en")
    children = client.get("/children/").content.decode()
    assert ("too young for this campaign" in children) is not commission
    assert ("Commission on Children" in children) is commission
    refused = client.post(
        "/applications/new/",
        {"child": family.child.pk, "school": world.school.pk, "language": "ky"},
    )
    assert refused.status_code == 409
    page = refused.content.decode()
    assert ("too young for this campaign" in page) is not commission
    assert ("Write to the district office" in page) is commission


def test_a_representative_without_an_accepted_act_sees_no_cancel_button(
    client: Client, world: World, at_stage1
) -> None:
    """§21: the page shows what the cancel service accepts, and the service refuses."""
    family = world.family()
    relative = registry_person(sex="F", born=dt.date(1975, 5, 5), street=world.home)
    world.registry.add_person(relative)
    world.registry.add_ward(relative["pin"], family.population[2]["pin"])
    application = application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )
    sign_in(client, relative["pin"], "en")
    client.get("/children/?refresh=1")  # the relative's link to the child, from the registry
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert f"/applications/{application.pk}/cancel/" not in page
    assert "A legal representative must first upload an act" in page
    client.post(f"/applications/{application.pk}/cancel/")
    application.refresh_from_db()
    assert application.status == Status.REGISTERED
