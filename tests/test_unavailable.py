"""A database that does not answer is a 503 to retry with Retry-After: a problem document for
the API, a translated page for the web, never a 500 with a traceback (core/unavailable.py).
The fault is injected where Django talks to the database (an execute wrapper); the real
PostgreSQL restart is tests/reliability/test_pg_restart.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import OperationalError, connection
from django.test import Client
from django.utils import translation

from kattoo.accounts.services import token_issue
from kattoo.core.errors import ERRORS

from .api.test_applicant_api import Api, problem
from .conftest import SYSTEM, World


@contextmanager
def database_down() -> Iterator[None]:
    def refuse(*args: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        yield


def sentence(language: str) -> str:
    with translation.override(language):
        return str(ERRORS["service_unavailable"][1])


def test_api_answers_503_problem_with_retry_after(client: Client, world: World) -> None:
    family = world.family()
    api = Api(client, token_issue(user=family.parent, actor=SYSTEM), language="ru")
    with database_down():
        response = api.get("/me/children")
    body = problem(response, 503, "service_unavailable")
    assert response["Retry-After"] == "5"
    assert body["title"] == sentence("ru") != sentence("en")


def test_web_answers_a_translated_503_page(world: World) -> None:
    family = world.family()
    client = Client(raise_request_exception=False)
    client.force_login(family.parent)
    client.cookies["django_language"] = "ru"
    with database_down():
        response = client.get("/children/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    text = response.content.decode()
    assert sentence("ru") in text and 'href="/children/"' in text
    assert "Traceback" not in text and "OperationalError" not in text
