"""bench/lean.py's handler (issue 15): the least an HTTP registration can do — the minimal
statement behind a WSGI callable — must still be that registration: one seat and one
application a 201, its position in the answer, a 409 once the pool is full, the request id
echoed so wrk's script matches the answer to its child."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection  # noqa: F401 - named by the skipif conditions
from psycopg.conninfo import make_conninfo

from bench import lean as lean_handler

from .test_minimal import SEATS, lean  # noqa: F401 - the lean schema's fixture

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the statement is PostgreSQL's"),
]


@pytest.fixture
def served(lean: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:  # noqa: F811
    """The handler's environment pointed at the lean schema (one pool), its pool closed after."""
    dsn = {k: v for k, v in lean.items() if k != "autocommit"}
    monkeypatch.setenv("KATTOO_LEAN_DSN", make_conninfo(**dsn))
    monkeypatch.setenv("KATTOO_LEAN_POOLS", "1")
    monkeypatch.setenv("KATTOO_LEAN_POOL", "2")
    monkeypatch.setattr(lean_handler, "_pool", None)
    try:
        yield lean
    finally:
        if lean_handler._pool is not None:
            lean_handler._pool.close()


def call(method: str, path: str, rid: str = "b0-1") -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(
        lean_handler.application(
            {"REQUEST_METHOD": method, "PATH_INFO": path, "HTTP_X_REQUEST_ID": rid},
            start_response,
        )
    )
    return seen["status"], seen["headers"], body


def test_a_submit_takes_a_seat_and_answers_its_position(served: dict[str, Any]) -> None:
    status, headers, body = call("POST", "/api/v1/drafts/4242/submit", rid="b1-7")
    assert status == "201 Created"
    assert headers["X-Request-Id"] == "b1-7"
    assert b'"position": 1' in body and b'"status": "registered"' in body
    with psycopg.connect(**served) as conn:
        assert conn.execute("SELECT child_id, position FROM application").fetchall() == [(4242, 1)]
        assert conn.execute("SELECT seats_taken FROM pool").fetchone() == (1,)


def test_a_full_pool_is_a_409_and_writes_nothing(served: dict[str, Any]) -> None:
    for child in range(1, SEATS + 1):
        assert call("POST", f"/api/v1/drafts/{child}/submit")[0] == "201 Created"
    status, _headers, body = call("POST", "/api/v1/drafts/999/submit")
    assert status == "409 Conflict"
    assert b"no_free_seats" in body
    with psycopg.connect(**served) as conn:
        assert conn.execute("SELECT count(*) FROM application").fetchone() == (SEATS,)


def test_anything_but_the_submit_is_answered_empty(served: dict[str, Any]) -> None:
    assert call("GET", "/healthz")[0] == "200 OK"
    assert call("POST", "/api/v1/drafts/x/submit")[0] == "200 OK"
    with psycopg.connect(**served) as conn:
        assert conn.execute("SELECT count(*) FROM application").fetchone() == (0,)


def test_the_table_shows_the_app_beside_the_handler() -> None:
    found = {
        "pgbench_minimal": {"256": 10_000.0},
        "lean_256": {
            "accepted_per_s": 3_500.0,
            "lean_to_minimal": 0.35,
            "python_cpu_ms": 0.27,
            "postgres_cpu_ms": 0.18,
        },
        "app_256": {
            "accepted_per_s": 850.0,
            "ratio_to_minimal": 0.085,
            "app_to_lean": 0.243,
            "python_cpu_ms": 1.28,
            "postgres_cpu_ms": 0.98,
        },
    }
    row = lean_handler.table(found, [256]).splitlines()[-1]
    assert (
        row == "| 256 | 10,000 | 3,500 | 0.35 | 0.27 / 0.18 | 850 | 0.085 | 0.243 | 1.28 / 0.98 |"
    )
