"""What the API's problem answers leave in the log (kattoo/api/problems.py): a registration
the regulation refused is its audit row and nothing in ``django.request`` — a hundred thousand
parents are refused in the opening's minutes — while every other 4xx keeps Django's line."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db.models import F

from kattoo.accounts.services import token_issue
from kattoo.audit.models import AuditEvent
from kattoo.audit.refusals import REFUSED
from kattoo.enrollment.models import SeatPool

from ..conftest import SYSTEM, World
from .test_hot import call, draft, environ_for, fast_path_off  # noqa: F401 (a fixture)

# The ordinary path answers (on PostgreSQL the fast path would answer the refusal first).
# A WSGI call ends with request_finished, which closes the connection: committed data.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_path_off")]


def request_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request"]


def test_a_refused_registration_is_audited_and_not_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    family = world.family()
    draft(world, family)
    SeatPool.objects.filter(school=world.school, language="ky").update(taken=F("capacity"))
    token = token_issue(user=family.parent, actor=SYSTEM)
    environ = environ_for(family.child.pk, token=token, key=str(uuid.uuid4()), language="ky")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        answer = call(WSGIHandler(), environ)
    assert answer.status == 409 and answer.json()["code"] == "no_free_seats"
    assert AuditEvent.objects.filter(action=REFUSED, object_id=str(family.child.pk)).count() == 1
    assert request_lines(caplog) == []


def test_other_problems_keep_djangos_line(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """No draft for this child (404) and a bad token (401): not refusals of the regulation,
    each logged as Django logs a 4xx."""
    family = world.family()
    token = token_issue(user=family.parent, actor=SYSTEM)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        missing = call(WSGIHandler(), environ_for(family.child.pk, token=token, key=None))
        stranger = call(WSGIHandler(), environ_for(family.child.pk, token="nope", key=None))
    assert (missing.status, stranger.status) == (404, 401)
    assert [r.status_code for r in request_lines(caplog)] == [404, 401]  # type: ignore[attr-defined]
