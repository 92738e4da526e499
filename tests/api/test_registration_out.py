"""``registration_out``: the opening minute's answer, built from what its statement writes, is
``application_out`` of the registration once written (issue 15) — the same body the parent's
``GET /applications/{id}`` shows, and the same JSON through the slim handler's encoder."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from ninja.responses import NinjaJSONEncoder

from kattoo.api import hot
from kattoo.api.v1.serializers import application_out, registration_out
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.abilities import application_abilities
from kattoo.enrollment.fastpath import NewRegistration
from kattoo.enrollment.models import Application
from kattoo.enrollment.services import application_register

from ..conftest import STAGE1, World

pytestmark = pytest.mark.django_db

# Microseconds in the moment: the answer writes milliseconds, as Django's encoder does.
IN_STAGE1 = STAGE1 + dt.timedelta(seconds=3, microseconds=123_456)


def registered(world: World, language: str) -> Application:
    family = world.family()
    with clock.frozen(IN_STAGE1):
        made = application_register(
            campaign=world.campaign,
            user=family.parent,
            child=family.child,
            school=world.school,
            language=language,
            actor=Actor(user=family.parent, channel="api"),
        )
    return (
        Application.objects.select_related("child", "school", "user")
        .prefetch_related("transitions")
        .get(pk=made.pk)
    )


def written(application: Application) -> NewRegistration:
    """What the statement would have been handed for this registration."""
    return NewRegistration(
        id=application.pk,
        child=application.child,
        school=application.school,
        language=application.language,
        route=application.route,
        above_quota=application.above_quota,
        at=application.created_at,
    )


@pytest.mark.parametrize("language", [None, "ky", "ru", "uz", "en"])
@pytest.mark.parametrize("class_language", ["ky", "ru"])
def test_the_answer_is_the_written_registration_s(
    world: World, language: str | None, class_language: str
) -> None:
    world.school.name_ru = "Школа-гимназия № 5"
    world.school.name_en = 'School "No. 5"'  # quotes: the JSON escapes them alike
    world.school.save()
    application = registered(world, class_language)
    assert application.status_changed_at == application.created_at
    abilities = application_abilities(application.user, application)

    body = registration_out(written(application), abilities, language=language)
    body["position"] = application.position
    expected = application_out(application, abilities, language=language)

    assert body == expected
    assert [type(v) for v in body.values()] == [type(v) for v in expected.values()]
    assert hot._ninja_json(body) == json.dumps(expected, cls=NinjaJSONEncoder, ensure_ascii=False)


def test_the_encoder_converts_one_moment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer's three moments are one object: Ninja's ``default`` sees it once. Equal
    moments that are different objects are each converted, in their own zones."""
    seen: list[object] = []
    original = NinjaJSONEncoder.default

    def counting(self: NinjaJSONEncoder, o: object) -> object:
        seen.append(o)
        return original(self, o)

    monkeypatch.setattr(NinjaJSONEncoder, "default", counting)
    at = clock.bishkek(2026, 4, 1, 10, 0) + dt.timedelta(seconds=3)
    utc = at.astimezone(dt.UTC)
    body = {"a": at, "b": [{"at": at}], "c": at, "d": utc}

    text = hot._ninja_json(body)

    assert seen == [at, utc]
    assert json.loads(text) == {
        "a": "2026-04-01T10:00:03+06:00",
        "b": [{"at": "2026-04-01T10:00:03+06:00"}],
        "c": "2026-04-01T10:00:03+06:00",
        "d": "2026-04-01T04:00:03Z",
    }
