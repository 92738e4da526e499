"""Admission control: a process at its limit answers 503 + Retry-After at once, in front of
Django, changes nothing, and never refuses health checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from bench.flash_crowd import admission_limit
from kattoo.api import hot
from kattoo.web.admission import AdmissionControl


class Held:
    """A WSGI app that stays in flight until released, holding one admission slot."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        self.calls += 1
        self.entered.set()
        self.release.wait(5)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


class Answer:
    status = ""
    headers: dict[str, str]

    def __call__(self, status: str, headers: list[tuple[str, str]]) -> None:
        self.status, self.headers = status, dict(headers)


def call(
    app: AdmissionControl, path: str, language: str = "", request_id: str | None = None
) -> tuple[Answer, bytes]:
    """As a WSGI server does: iterate the response, then close it."""
    answer = Answer()
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "POST", "HTTP_ACCEPT_LANGUAGE": language}
    if request_id is not None:
        environ["HTTP_X_REQUEST_ID"] = request_id
    result = app(environ, answer)
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return answer, body


class Closable:
    """A response whose close() Django uses to end the request (connections back to the pool)."""

    def __init__(self) -> None:
        self.closed = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        start_response("200 OK", [])
        app = self

        class Result(list[bytes]):
            def close(self) -> None:
                app.closed += 1

        return Result([b"streamed ", b"body"])


def test_the_slot_is_held_until_the_server_closes_the_response() -> None:
    inner = Closable()
    app = AdmissionControl(inner, limit=1, retry_after=2)
    environ = {"PATH_INFO": "/api/v1/schools", "REQUEST_METHOD": "GET"}
    result = app(environ, Answer())
    assert call(app, "/api/v1/schools")[0].status.startswith("503")  # still streaming
    assert b"".join(result) == b"streamed body"
    result.close()  # type: ignore[attr-defined]
    assert inner.closed == 1  # Django's close ran (the request ends, the connection returns)
    assert call(app, "/api/v1/schools")[0].status.startswith("200")
    assert inner.closed == 2


def busy() -> tuple[AdmissionControl, Held, threading.Thread]:
    view = Held()
    app = AdmissionControl(view, limit=1, retry_after=2)
    first = threading.Thread(target=call, args=(app, "/api/v1/schools"))
    first.start()
    assert view.entered.wait(5)
    return app, view, first


def test_a_full_process_answers_503_problem_with_retry_after() -> None:
    app, view, first = busy()
    try:
        answer, body = call(app, "/api/v1/drafts/1/submit", "ru-RU,ru;q=0.9,en;q=0.5")
        assert answer.status.startswith("503")
        assert 1 <= int(answer.headers["Retry-After"]) <= 4
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        problem = json.loads(body)
        assert problem["code"] == "service_busy" and problem["status"] == 503
        assert "Ничего не изменено" in problem["detail"]  # in the language asked for
        assert answer.headers["Content-Language"] == "ru"
        assert view.calls == 1  # the application never ran for the refused request
        # It names its request as every answer does: the one sent, else a new one.
        sent = call(app, "/api/v1/drafts/1/submit", request_id="b0-17")[0]
        assert sent.headers["X-Request-Id"] == "b0-17"
        made = call(app, "/api/v1/drafts/1/submit", request_id="no spaces, please")[0]
        assert made.headers["X-Request-Id"] not in ("", "no spaces, please")
        assert made.headers["X-Request-Id"] != answer.headers["X-Request-Id"]
    finally:
        view.release.set()
        first.join()
    # The slot is back: the next request is served.
    answer, body = call(app, "/api/v1/schools")
    assert answer.status.startswith("200") and body == b"ok"


def test_web_pages_get_a_page_in_kyrgyz_by_default_and_probes_pass() -> None:
    app, view, first = busy()
    try:
        answer, body = call(app, "/")
        assert answer.status.startswith("503") and answer.headers["Retry-After"]
        assert answer.headers["Content-Type"].startswith("text/html")
        assert answer.headers["Content-Language"] == "ky"
        assert "Kattoo'ну".encode() in body
        _english, body = call(app, "/", "ru;q=0.2, en")  # the preferred one, not the first
        assert b"Too many people" in body
        view.release.set()  # the probe is let through even while the slot is taken
        probe, _ = call(app, "/readyz")
        assert probe.status.startswith("200")
    finally:
        view.release.set()
        first.join()


def test_off_when_the_limit_is_zero_and_wired_in_front_of_django() -> None:
    app = AdmissionControl(Held(), limit=0, retry_after=2)
    app.app.release.set()  # type: ignore[attr-defined]
    assert app.slots is None
    assert call(app, "/")[0].status.startswith("200")
    from config.wsgi import application

    assert isinstance(application, AdmissionControl)
    with override_settings(KATTOO_ADMISSION_LIMIT=3):
        assert AdmissionControl.from_settings(application.app).limit == 3


def _in_flight(view: Held, n: int) -> None:
    deadline = time.monotonic() + 5
    while view.calls < n and time.monotonic() < deadline:
        time.sleep(0.005)
    assert view.calls == n


def test_requests_django_serves_fill_the_pool_and_plain_submits_the_rest() -> None:
    """ADR 0053: of the limit, at most the pool's size for requests that hold a connection to
    their end; the opening minute's plain submit (which holds none while it waits for its
    batch) is counted against the limit alone."""
    view = Held()
    app = AdmissionControl(view, limit=4, retry_after=2, pool=2, borrows=hot.borrows)
    held: list[threading.Thread] = []

    def hold(path: str) -> None:
        thread = threading.Thread(target=call, args=(app, path))
        thread.start()
        held.append(thread)

    try:
        hold("/api/v1/schools")
        hold("/api/v1/applications")
        _in_flight(view, 2)
        refused, _body = call(app, "/api/v1/schools")  # the pool's share is full
        assert refused.status.startswith("503") and view.calls == 2
        hold("/api/v1/drafts/1/submit")
        hold("/api/v1/drafts/2/submit")  # the refused request gave its slot back
        _in_flight(view, 4)
        full, _body = call(app, "/api/v1/drafts/3/submit")  # the limit itself
        assert full.status.startswith("503") and view.calls == 4
    finally:
        view.release.set()
        for thread in held:
            thread.join()
    answers = [call(app, path)[0].status for path in ("/api/v1/schools", "/api/v1/drafts/4/submit")]
    assert all(status.startswith("200") for status in answers)


def test_only_a_post_to_the_submit_path_holds_no_connection() -> None:
    submit = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/drafts/12/submit"}
    assert hot.borrows(submit)
    assert not hot.borrows({**submit, "REQUEST_METHOD": "GET"})
    assert not hot.borrows({**submit, "PATH_INFO": "/api/v1/drafts/12/submit/"})
    assert not hot.borrows({**submit, "PATH_INFO": "/api/v1/drafts/12"})


def test_without_a_pool_the_limit_is_the_only_bound() -> None:
    app = AdmissionControl(Held(), limit=4, retry_after=2, pool=0, borrows=hot.borrows)
    assert app.holding is None
    app = AdmissionControl(Held(), limit=4, retry_after=2, pool=4, borrows=hot.borrows)
    assert app.holding is None  # a pool as large as the limit bounds nothing more


@pytest.mark.parametrize(("pool", "limit"), [("16", 32), ("5", 10), ("2", 4)])
def test_production_admits_twice_the_pool(pool: str, limit: int) -> None:
    """ADR 0065 (revising 0055): production's default limit is twice the pool (the plain
    submits beyond the pool, ADR 0053); nginx's max_conns and granian's threads follow it
    (deploy/), and so does the benchmark's front (``bench.flash_crowd.admission_limit``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KATTOO_", "DJANGO_"))}
    env |= {
        "DJANGO_SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgres://u:p@127.0.0.1:1/none",
        "KATTOO_FIELD_KEYS": "a-production-key",
        "KATTOO_ALLOW_FAKE_BACKENDS": "1",
        "KATTOO_DB_POOL_MAX": pool,
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import config.settings.production as p; print(p.KATTOO_ADMISSION_LIMIT)",
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(done.stdout.split()[-1]) == limit
    assert admission_limit(int(pool)) == limit
