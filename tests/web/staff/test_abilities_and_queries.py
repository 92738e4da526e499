"""The pages show the API's abilities, and their queries do not grow with the rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kattoo.api.v1.staff import quota_abilities as api_quota_abilities
from kattoo.api.v1.staff import staff_application_out
from kattoo.campaigns.selectors import campaign_quota_lock_at
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.selectors import application_staff_abilities as application_abilities
from kattoo.enrollment.services import (
    application_admit,
    application_refuse,
    application_register,
)
from kattoo.quotas.models import Quota
from kattoo.quotas.selectors import quota_abilities, quota_state
from kattoo.quotas.services import quota_approve, quota_confirm

from ...conftest import BEFORE, SYSTEM
from .conftest import Scene, verified

STAFF = ["school_own", "school_other", "district_own", "district_other", "analyst", "admin"]


@pytest.mark.parametrize("moment", ["draft", "confirmed", "auto_confirmed", "approved"])
def test_quota_abilities_match_the_api(scene: Scene, moment: str) -> None:
    quota = Quota.objects.select_related("school", "campaign").get(school=scene.world.school)
    at = BEFORE if moment in ("draft", "confirmed") else clock.bishkek(2026, 3, 30, 9)
    with clock.frozen(at):
        if moment == "confirmed":
            quota = quota_confirm(quota=quota, actor=SYSTEM)
        if moment == "approved":
            quota = quota_approve(quota=quota, actor=SYSTEM)
        quota = Quota.objects.select_related("school", "campaign").get(pk=quota.pk)
        state = quota_state(quota, lock_at=campaign_quota_lock_at(quota.campaign))
        for who in STAFF:
            user = scene.users[who]
            assert user is not None
            assert quota_abilities(user, quota, state) == api_quota_abilities(user, quota, state)


@pytest.mark.parametrize("status", ["registered", "admitted", "refused"])
def test_application_abilities_match_the_api(scene: Scene, status: str) -> None:
    application = scene.application
    if status == "admitted":
        application = application_admit(application=application, actor=SYSTEM)
    if status == "refused":
        application = application_refuse(
            application=application, reason_code="other", reason="y", actor=SYSTEM
        )
    for who in STAFF:
        user = scene.users[who]
        assert user is not None
        api = staff_application_out(user, application)["abilities"]
        assert application_abilities(user, application) == api


def _queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def _more_children(scene: Scene, n: int, start: int) -> None:
    world = scene.world
    with clock.frozen(clock.bishkek(2026, 4, 1, 11)):
        for i in range(n):
            family = world.family(births=[dt.date(2019, 3, start + i)])
            application = application_register(
                campaign=world.campaign,
                user=family.parent,
                child=family.child,
                school=world.school,
                language="ky",
                actor=Actor(user=family.parent),
            )
            if i % 2:
                application_refuse(
                    application=application, reason_code="other", reason="y", actor=SYSTEM
                )
            else:
                application_admit(application=application, actor=SYSTEM)


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("school_own", "/staff/school/children/"),
        ("school_own", "/staff/school/classes/"),
        ("district_own", "/staff/district/refusals/"),
        ("district_own", "/staff/district/"),
        ("analyst", "/staff/ministry/"),
    ],
)
def test_page_queries_do_not_grow_with_rows(scene: Scene, who: str, path: str) -> None:
    user = scene.users[who]
    assert user is not None
    client = verified(Client(), user)
    _more_children(scene, 2, start=1)  # one admitted, one refused: every kind of row once
    client.post("/staff/school/classes/", {"language": "ky"})
    _queries(client, path)  # warm the session and the language
    few = _queries(client, path)
    _more_children(scene, 4, start=10)
    if who == "school_own":
        client.post("/staff/school/classes/", {"language": "ky"})
    assert _queries(client, path) == few
