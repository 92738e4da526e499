"""The API's gate before any handler (kattoo/api/content_type.py): bodies of writes are JSON,
and no query string holds a NUL character; what Django itself refuses before any view (a Host
it does not allow) and a path no route knows are problem documents on the API too
(``problems.bad_request``, ``problems.not_found``)."""

from __future__ import annotations

from django.test import Client

from .test_applicant_api import problem


def test_a_nul_in_a_query_string_is_a_bad_request(client: Client, campaign) -> None:
    """PostgreSQL cannot compare text holding NUL: refused before any handler (the fuzz found
    a 500 in the address lookup)."""
    response = client.get("/api/v1/addresses/lookup", {"q": "Ахунбаева\x00 12"})
    problem(response, 400, "bad_request")
    assert client.get("/api/v1/addresses/lookup", {"q": "Ахунбаева 12"}).status_code == 200


def test_a_host_django_does_not_allow_is_a_problem_on_the_api(client: Client, campaign) -> None:
    """The fuzz sent ``Host: L,8RJ{``: Django refuses it before any view (DisallowedHost), and
    its page was HTML where API.md promises a problem document."""
    for path in ("/api/v1/campaign", "/api/v1/schools/1/waitlist", "/api/v1/nowhere"):
        response = client.get(path, HTTP_HOST="L,8RJ{")
        problem(response, 400, "bad_request")
    response = client.post(
        "/api/v1/waitlist/1/leave", "{}", content_type="application/json", HTTP_HOST="L,8RJ{"
    )
    problem(response, 400, "bad_request")
    page = client.get("/", HTTP_HOST="L,8RJ{")  # a page stays Django's own
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
    assert client.get("/api/v1/campaign").status_code == 200


def test_a_path_no_route_knows_is_a_problem_on_the_api(client: Client, campaign) -> None:
    for path in ("/api/v1/nowhere", "/api/v2/campaign", "/api/"):
        problem(client.get(path), 404, "not_found")
    page = client.get("/nowhere-at-all/")  # a page stays Django's own
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
