"""Property-based fuzzing of API v1 from its own OpenAPI document (schemathesis): whatever a
client sends, the answer is never a server error, and it is the answer the document promises —
a documented status code, the documented media type (problem documents are
``application/problem+json``) and a body valid against the documented schema. Hypothesis
generates up to 20 requests per operation, beside schemathesis' coverage phase (edge values,
undocumented methods): about 2,800 requests in ~30 s, never fewer than 1,000 (counted below)."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kattoo.accounts.services import token_issue

from ..conftest import SYSTEM, World

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
MIN_CASES = 1_000
# Requests sent per operation in this process (the last test checks the total).
sent: Counter[str] = Counter()


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
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_answers_conform_to_the_schema(case, bearer) -> None:
    sent[case.operation.label] += 1  # the operation fuzzed, whatever method the case tries
    case.call_and_validate(headers=bearer, checks=CHECKS)


def test_the_fuzz_sent_enough_requests() -> None:
    """Runs after the fuzz above (file order); alone, there is nothing to count. Test
    processes (``make test``: pytest-xdist, work stealing) share the operations out, and each
    counts only its own: a process holds its share of ``MIN_CASES``, in proportion to the
    operations it fuzzed (all of them in one process)."""
    if not sent:
        pytest.skip("the fuzz did not run in this session")
    operations = sum(1 for _ in schema.get_all_operations())
    assert sum(sent.values()) >= MIN_CASES * len(sent) / operations, sent
