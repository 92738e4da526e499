"""kattoo/core/shells.py: an unsaved instance built without ``Model.__init__`` holds what
``Model(**values)`` holds, and reads its relations from the cache, never from the database."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import models
from django.db.models.signals import post_init

from kattoo.accounts.models import User
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import School
from kattoo.core import shells
from kattoo.core.shells import shell
from kattoo.enrollment.models import Application, ApplicationTransition
from kattoo.people.models import Person

NOW = dt.datetime(2027, 4, 1, 4, 0, tzinfo=dt.UTC)
DAY = dt.date(2020, 5, 1)


def _fields(instance: models.Model) -> dict[str, Any]:
    return {k: v for k, v in instance.__dict__.items() if k != "_state"}


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (User, {"id": 1, "role": "applicant", "person_id": 2, "language": "ky", "is_active": True,
                "date_joined": NOW}),
        (Campaign, {"id": 3, "birth_from": DAY, "birth_to": DAY, "stage1_starts_at": NOW,
                    "stage2_starts_at": NOW, "registration_ends_at": NOW, "cancel_limit": 3,
                    "guardian_child_limit": 2}),
        (Person, {"id": 4, "surname": "Асанова", "name": "Айгерим", "birth_date": DAY}),
        (School, {"id": 5, "name_ky": "№ 1", "name_ru": "№ 1", "name_uz": "", "name_en": "No. 1"}),
    ],
)  # fmt: skip
def test_a_shell_holds_what_the_model_holds(model: type[models.Model], values: dict) -> None:
    built, made = model(**values), shell(model, **values)
    assert type(made) is model
    assert _fields(made) == _fields(built)
    assert made._state.adding and made._state.db is None
    assert made.pk == values["id"]


def test_relations_come_from_the_cache(django_assert_num_queries: Any) -> None:
    campaign = shell(Campaign, id=3, birth_from=DAY, birth_to=DAY)
    child = shell(Person, id=4, surname="Асанова", name="Айгерим", birth_date=DAY)
    school = shell(School, id=5, name_ky="№ 1")
    application = shell(
        Application,
        related={"campaign": campaign, "child": child, "school": school},
        id=uuid.UUID(int=7),
        language="ky",
        pool_id=9,
        status="registered",
        created_at=NOW,
        status_changed_at=NOW,
    )
    first = shell(ApplicationTransition, related={"application": application}, at=NOW)
    reference = Application(
        campaign=campaign,
        child=child,
        school=school,
        id=uuid.UUID(int=7),
        language="ky",
        pool_id=9,
        status="registered",
        created_at=NOW,
        status_changed_at=NOW,
    )
    assert _fields(application) == _fields(reference)
    with django_assert_num_queries(0):
        assert application.child is child and application.school is school
        assert application.campaign is campaign
        assert (application.child_id, application.school_id, application.campaign_id) == (4, 5, 3)
        assert first.application is application and first.application_id == application.pk


def test_a_callable_default_is_called_for_each_shell() -> None:
    one, two = shell(User, id=1), shell(User, id=2)
    assert one.date_joined is not None and two.date_joined >= one.date_joined
    given = shell(User, id=3, date_joined=NOW)
    assert given.date_joined == NOW


@pytest.mark.django_db
def test_a_model_with_init_receivers_is_refused() -> None:
    def receiver(**_kwargs: Any) -> None:
        pass

    shells._PLANS.pop(Person, None)
    post_init.connect(receiver, sender=Person)
    try:
        with pytest.raises(TypeError, match="init signal receivers"):
            shell(Person, id=1)
    finally:
        post_init.disconnect(receiver, sender=Person)
    assert shell(Person, id=1).pk == 1
