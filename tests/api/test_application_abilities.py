"""A parent's abilities come from one function: the list and the detail of
``/applications`` say the same as the cancel service does (§20, §21); and a child too young
for the birth window is told so, not sent to the Commission (§8, §9)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from kattoo.accounts.services import applicant_for_pin, token_issue
from kattoo.core import clock
from kattoo.people.models import ActKind, ActStatus, GuardianAct
from kattoo.people.services import applicant_children_sync

from ..conftest import SYSTEM, World
from ..factories import registry_person
from .test_applicant_api import Api


def listed_and_detailed(api: Api) -> list[tuple[Any, Any]]:
    """For every application: (its list item's abilities, the detail's)."""
    pairs = []
    for item in api.get("/applications").json()["items"]:
        detail = api.get(f"/applications/{item['id']}").json()
        pairs.append(
            (
                (item["abilities"], item["cancellations_left"]),
                (detail["abilities"], detail["cancellations_left"]),
            )
        )
    return pairs


def test_list_and_detail_agree_through_the_cancel_limit(
    world: World, client: Client, at_stage1
) -> None:
    family = world.family()
    api = Api(client, token_issue(user=family.parent, actor=SYSTEM))
    body = {"child": str(family.child.pk), "school": str(world.school.pk), "language": "ky"}
    for done in range(world.campaign.cancel_limit):
        created = api.post("/applications", body).json()
        assert created["abilities"]["cancel"] is True
        assert created["cancellations_left"] == world.campaign.cancel_limit - done
        assert all(listed == detailed for listed, detailed in listed_and_detailed(api))
        assert api.post(f"/applications/{created['id']}/cancel").status_code == 200
    last = api.post("/applications", body).json()
    # §20: the last registration can no longer be cancelled; the list said "true" before.
    assert last["abilities"] == {"cancel": False, "appeal": True, "withdraw": False}
    pairs = listed_and_detailed(api)
    assert len(pairs) == world.campaign.cancel_limit + 1
    assert all(listed == detailed for listed, detailed in pairs)
    current = next(listed for listed, _ in pairs if listed[0]["cancel"] is False)
    assert current == ({"cancel": False, "appeal": True, "withdraw": False}, 0)
    refused = api.post(f"/applications/{last['id']}/cancel")
    assert refused.status_code == 409 and refused.json()["code"] == "cancel_limit_reached"


def test_a_representative_sees_what_the_cancel_service_accepts(
    world: World, client: Client, at_stage1
) -> None:
    """§21: a representative whose act is not accepted cannot cancel the parent's
    registration — the list, the detail and the service agree, before and after."""
    family = world.family()
    relative = registry_person(sex="F", born=dt.date(1975, 5, 5), street=world.home)
    world.registry.add_person(relative)
    world.registry.add_ward(relative["pin"], family.population[2]["pin"])
    user = applicant_for_pin(pin=relative["pin"], actor=SYSTEM)
    assert user.person is not None
    (link,) = applicant_children_sync(applicant=user.person, actor=SYSTEM)
    parent = Api(client, token_issue(user=family.parent, actor=SYSTEM))
    created = parent.post(
        "/applications",
        {"child": str(family.child.pk), "school": str(world.school.pk), "language": "ky"},
    ).json()
    rep = Api(client, token_issue(user=user, actor=SYSTEM))
    ((listed, detailed),) = listed_and_detailed(rep)
    assert listed == detailed and listed[0]["cancel"] is False
    refused = rep.post(f"/applications/{created['id']}/cancel")
    assert refused.status_code == 409 and refused.json()["code"] == "guardian_document_required"
    GuardianAct.objects.create(
        link=link, kind=ActKind.COURT, status=ActStatus.ACCEPTED, uploaded_at=clock.now()
    )
    ((listed, detailed),) = listed_and_detailed(rep)
    assert listed == detailed and listed[0]["cancel"] is True
    assert rep.post(f"/applications/{created['id']}/cancel").status_code == 200


@pytest.mark.parametrize(
    ("born", "commission"), [(dt.date(2021, 3, 1), False), (dt.date(2018, 6, 1), True)]
)
def test_a_child_outside_the_window_is_told_which_way(
    world: World, client: Client, at_stage1, born: dt.date, commission: bool
) -> None:
    """§8, §9: the code stays ``outside_birth_window`` (API.md); the words say whether the
    child is too young (a later campaign) or over-age (the Commission places the child)."""
    family = world.family(births=[born])
    api = Api(client, token_issue(user=family.parent, actor=SYSTEM), language="en")
    (child,) = api.get("/me/children").json()
    (reason,) = child["reasons"]
    assert reason["code"] == "outside_birth_window"
    assert ("Commission" in reason["message"]) is commission
    assert ("later campaign" in reason["message"]) is not commission
    response = api.post(
        "/applications",
        {"child": str(family.child.pk), "school": str(world.school.pk), "language": "ky"},
    )
    problem = response.json()
    assert response.status_code == 409 and problem["code"] == "outside_birth_window"
    assert problem["detail"] == reason["message"]
    assert "Commission" not in problem["title"]


def test_the_api_gives_the_number_the_web_page_and_the_receipt_show(
    world: World, client: Client, at_stage1
) -> None:
    """Issue 14: one number for a registration, whichever channel shows it (a field added to
    the response; nothing removed)."""
    from kattoo.enrollment.models import Application
    from kattoo.enrollment.receipts import application_number

    family = world.family()
    api = Api(client, token_issue(user=family.parent, actor=SYSTEM))
    created = api.post(
        "/applications",
        {"child": str(family.child.pk), "school": str(world.school.pk), "language": "ky"},
    ).json()
    application = Application.objects.get(pk=created["id"])
    assert created["number"] == application_number(application)
    assert len(created["number"]) == 8 and created["number"] == created["id"][:8].upper()
    detail = api.get(f"/applications/{created['id']}").json()
    assert detail["number"] == created["number"]
    assert {"cancel", "appeal", "withdraw"} <= set(detail["abilities"])
