"""The API's gate before any handler (kattoo/api/content_type.py): bodies of writes are JSON,
and no query string holds a NUL character."""

from __future__ import annotations

from django.test import Client

from .test_applicant_api import problem


def test_a_nul_in_a_query_string_is_a_bad_request(client: Client, campaign) -> None:
    """PostgreSQL cannot compare text holding NUL: refused before any handler (the fuzz found
    a 500 in the address lookup)."""
    response = client.get("/api/v1/addresses/lookup", {"q": "Ахунбаева\x00 12"})
    problem(response, 400, "bad_request")
    assert client.get("/api/v1/addresses/lookup", {"q": "Ахунбаева 12"}).status_code == 200
