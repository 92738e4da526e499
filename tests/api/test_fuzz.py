"""Property-based fuzzing of API v1 from its own OpenAPI document (schemathesis): whatever a
client sends — 30 generated requests per operation, about 1,300 in all — the answer is never a
server error. (Validating every answer against the schema is issue 7's work.)"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from kattoo.accounts.services import token_issue

from ..conftest import SYSTEM, World

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Like Django's test client: the in-process WSGI calls must not close the test's
    database connection (it holds the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(world: World, at_stage1) -> dict[str, str]:
    family = world.family()
    return {"Authorization": f"Bearer {token_issue(user=family.parent, actor=SYSTEM)}"}


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_server_errors(case, bearer) -> None:
    response = case.call(headers=bearer)
    assert response.status_code < 500, (
        case.method,
        case.formatted_path,
        response.status_code,
        response.text[:300],
    )
