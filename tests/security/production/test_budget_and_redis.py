"""Issue 13 items 1 and 6 on a second application of the production layout (its own granian
with a country-wide budget of only ``BUDGET`` codes a minute, its own Redis, its own nginx;
the same PostgreSQL and task worker as the package's stack):

- the country-wide budget sheds load: once it is spent, ``/auth/code`` answers ``503
  service_busy`` with ``Retry-After`` — every client asked once, so no one of them is locked
  out, and no per-client or per-PIN limit is what refused;
- Redis killed: sign-ins that must count (a code, a token, a staff token) answer ``503`` with
  ``Retry-After``, ``/readyz`` answers ``503`` naming the cache, ``/healthz`` still ``200``,
  reads go on — never a ``500``; Redis back, sign-in works again.

Counts, never durations: the budget's window is a clock minute, so the test sends enough codes
to spend it even if a minute turns over once while it runs."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from .conftest import App, Stack, app_env, own_redis, running_app
from .test_attacks import ask_code, problem, unknown_pin

pytestmark = [pytest.mark.postgres]

BUDGET = 5  # codes a minute, the whole country


@pytest.fixture(scope="module")
def small(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    work = tmp_path_factory.mktemp("small-budget")
    env = app_env(stack.demo, stack.var, stack.upload_tmp, CODES_PER_MINUTE=BUDGET)
    with own_redis(work) as redis, running_app(stack.demo, work, redis, **env) as app:
        yield app


def test_the_country_wide_budget_answers_503_with_retry_after(small: App) -> None:
    answers: list[httpx.Response] = []
    for _ in range(2 * BUDGET + 1):  # a minute may turn over once in between
        with small.client() as client:  # every request from another client, for another PIN
            answers.append(ask_code(client, unknown_pin()))
        if answers[-1].status_code != 202:
            break
    shed = answers[-1]
    assert [a.status_code for a in answers[:-1]] == [202] * (len(answers) - 1)
    problem(shed, 503, "service_busy")
    retry_after = shed.headers.get("Retry-After", "")
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 60, shed.headers


def test_redis_stopped_sign_in_and_readyz_answer_503_never_500(small: App, stack: Stack) -> None:
    small.redis.kill()
    try:
        with small.client() as client:
            code = ask_code(client, unknown_pin())
            problem(code, 503, "service_unavailable")
            assert code.headers.get("Retry-After", "").isdigit(), code.headers
            token = client.post(
                "/api/v1/auth/token", json={"challenge": "x" * 43, "code": "123456"}
            )
            assert token.status_code == 503, token.text
            assert token.headers.get("Retry-After", "").isdigit(), token.headers
            staff = client.post(
                "/api/v1/auth/staff-token",
                json={"username": "director", "password": "wrong-password", "code": "123456"},
            )
            problem(staff, 503, "service_unavailable")
            assert staff.headers.get("Retry-After", "").isdigit(), staff.headers
            # Reads come from the database meanwhile.
            assert client.get("/api/v1/schools", params={"limit": 5}).status_code == 200
        with small.bypass() as direct:  # the balancer's probes reach the node itself
            ready = direct.get("/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.headers.get("Retry-After", "").isdigit(), ready.headers
            assert ready.json()["cache"].startswith("unavailable"), ready.json()
            assert ready.json()["checks"]["database"] == "ok"
            assert direct.get("/healthz").status_code == 200
    finally:
        small.redis.start()
    with small.bypass() as direct:
        deadline = time.monotonic() + 30
        while direct.get("/readyz").status_code != 200:  # reconnected (a liveness guard)
            assert time.monotonic() < deadline, direct.get("/readyz").text
            time.sleep(0.1)
    with small.client() as client:
        assert ask_code(client, unknown_pin()).status_code == 202
        parent = stack.adult()
        bearer = stack.sign_in(client, parent)  # the code reaches the phone and signs in
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {bearer}"})
    assert me.status_code == 200, me.text
