"""Pages and lists run a fixed number of SQL queries, whatever their length (no N+1)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kattoo.accounts.services import token_issue

from ..conftest import SYSTEM, World, build_school
from .test_applicant_api import Api


def queries(call) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def test_children_list_is_constant(client: Client, world: World, at_stage1) -> None:
    small = world.family()
    large = world.family(births=[dt.date(2019, 3, 3)] * 3 + [dt.date(2020, 1, 1)])
    small_api = Api(client, token_issue(user=small.parent, actor=SYSTEM))
    large_api = Api(client, token_issue(user=large.parent, actor=SYSTEM))
    assert queries(lambda: small_api.get("/me/children")) == queries(
        lambda: large_api.get("/me/children")
    )


def test_school_list_is_constant(client: Client, world: World) -> None:
    api = Api(client)
    before = queries(lambda: api.get("/schools"))
    for _ in range(5):
        build_school(world.campaign, sizes=[("ky", 30), ("ru", 30)])
    assert queries(lambda: api.get("/schools")) == before


def test_application_list_is_constant(client: Client, world: World, at_stage2) -> None:
    from kattoo.core.actors import Actor
    from kattoo.enrollment.services import application_cancel, application_register

    family = world.family()
    api = Api(client, token_issue(user=family.parent, actor=SYSTEM))

    def register():
        return application_register(
            campaign=world.campaign,
            user=family.parent,
            child=family.child,
            school=world.school,
            language="ky",
            actor=Actor(user=family.parent),
        )

    application_cancel(application=register(), actor=SYSTEM)
    one = queries(lambda: api.get("/applications"))
    application_cancel(application=register(), actor=SYSTEM)
    register()
    assert queries(lambda: api.get("/applications")) == one
