"""Issue 13's attacks, repeated against the production layout behind a real nginx
(conftest.py: nginx from deploy/nginx/kattoo.conf -> granian with production settings ->
PostgreSQL holding the demo, Redis, the task worker), each client on a loopback address of
its own so nginx forwards a different ``X-Forwarded-For`` for each.

What they prove, one test each:

- a crowd of addresses (more than one client's limit) asking for codes, or failing staff
  sign-ins against a guessable username, locks nobody else out: a fresh parent and the real
  staff member sign in; the application and its audit see each client's own address, not the
  balancer's (items 1, 9, 10);
- one client over its own limit gets ``429`` with ``Retry-After`` and a detail saying how many
  minutes to wait, and only that client is refused (item 1);
- a stranger's wrong codes — on guessed challenge ids, on random ones, on challenges of their
  own for the victim's PIN — never lock the victim's fresh challenge, which then signs in with
  the code read from the phone; the stranger runs into their own per-client limit (item 3);
- API writes refuse ``text/plain`` and form bodies with ``415`` before anything happens (no
  SMS is sent); ``application/json`` works (item 3);
- ``/auth/code`` answers an unknown PIN, a child's, an adult's without a phone and an adult's
  with one alike (``202``, the same keys), and creates no account and no person — only the
  code, once verified, does (item 4);
- a logged-out token and the tokens of a deactivated staff member answer ``401`` (item 5);
- PINs, codes and ids written with non-ASCII digits are ``422``, never a ``500`` (item 7);
- a body over the limit is refused by nginx (``413``, ``client_max_body_size``) and, sent to
  granian directly, by the application from its ``Content-Length`` before the body is sent,
  so nothing is spooled (item 8).

The country-wide budget and a Redis outage run on a second stack (test_budget_and_redis.py).
Limits are counts (conftest.LOGIN), never durations."""

from __future__ import annotations

import itertools
import re
import secrets
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from .conftest import (
    LOGIN,
    STAFF_FAILURES_PER_ADDRESS,
    STAFF_FAILURES_PER_USERNAME_AND_ADDRESS,
    STAFF_PASSWORD,
    Stack,
    fresh_address,
    window_turn_guard,
)

pytestmark = [pytest.mark.postgres]

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_unknown = itertools.count(1)


def unknown_pin() -> str:
    """A well-formed PIN (a woman born 15 June 1985) the registry does not hold."""
    return f"115061985{90000 + next(_unknown):05d}"


def problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert answer.headers["Content-Type"].startswith("application/problem+json"), answer.headers
    body: dict[str, Any] = answer.json()
    assert body["code"] == code, body
    return body


def told_how_long(answer: httpx.Response, window: int) -> None:
    """A refusal that says how long to wait: ``Retry-After`` seconds within the window, and
    the same wait in minutes in the detail a person reads."""
    retry_after = answer.headers.get("Retry-After", "")
    assert retry_after.isdigit() and 1 <= int(retry_after) <= window, answer.headers
    minutes = max(1, (int(retry_after) + 59) // 60)
    assert re.search(rf"\b{minutes}\b", answer.json()["detail"]), answer.json()


def ask_code(client: httpx.Client, pin: str) -> httpx.Response:
    return client.post("/api/v1/auth/code", json={"pin": pin})


# -- items 1, 9, 10: a crowd locks nobody out -------------------------------------------------


def test_a_crowd_of_addresses_asking_codes_does_not_lock_out_a_fresh_parent(stack: Stack) -> None:
    crowd = [fresh_address() for _ in range(LOGIN["CODES_PER_CLIENT"] + 1)]
    for address in crowd:  # behind the balancer: one request each, from 31 real clients
        with stack.app.client(address) as client:
            answer = ask_code(client, unknown_pin())
            assert answer.status_code == 202, (address, answer.status_code, answer.text)

    # nginx saw the crowd as different clients (the premise of the test). nginx writes a
    # request's log line after its answer is sent: the last one may land a moment later.
    path = stack.app.logs / "nginx" / "logs" / "kattoo.access.log"
    deadline = time.monotonic() + 30  # a liveness guard, not a timing claim
    while not all(f"{a} - [" in (log := path.read_text()) for a in crowd):
        assert time.monotonic() < deadline, log[-2000:]
        time.sleep(0.05)

    parent = stack.adult()
    with stack.app.client() as client:
        token = stack.sign_in(client, parent)
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text


def test_a_crowd_of_failed_staff_sign_ins_does_not_lock_out_the_staff_member(
    stack: Stack,
) -> None:
    crowd = [fresh_address() for _ in range(STAFF_FAILURES_PER_ADDRESS + 1)]
    guess = {"username": "director", "password": "director-2026", "code": "123456"}
    for address in crowd:
        with stack.app.client(address) as client:
            answer = client.post("/api/v1/auth/staff-token", json=guess)
        problem(answer, 401, "credentials_invalid")

    # The application and its audit saw each client's own address, never the balancer's.
    seen = stack.sql(
        "SELECT data->>'ip' FROM audit_auditevent WHERE action = 'staff.login_failed' "
        "AND data->>'username' = 'director'"
    )
    assert set(crowd) <= {ip for (ip,) in seen}
    assert "127.0.0.1" not in {ip for (ip,) in seen}

    # The real director, from the school's own address: password and authenticator code.
    with stack.app.client() as client:
        answer = client.post(
            "/api/v1/auth/staff-token",
            json={
                "username": "director",
                "password": STAFF_PASSWORD,
                "code": stack.totp("director"),
            },
        )
    assert answer.status_code == 201, answer.text


def test_one_client_over_its_limit_is_refused_alone_and_told_how_long(stack: Stack) -> None:
    window = LOGIN["WINDOW_SECONDS"]
    window_turn_guard(window)
    pin = unknown_pin()
    with stack.app.client() as client:
        client.headers["Accept-Language"] = "en"
        for _ in range(LOGIN["CODES_PER_PIN_CLIENT"]):
            assert ask_code(client, pin).status_code == 202
        refused = ask_code(client, pin)  # the same PIN again from the same client
    problem(refused, 429, "rate_limited")
    told_how_long(refused, window)
    with stack.app.client() as other:  # the same PIN from somebody else: not locked
        assert ask_code(other, pin).status_code == 202

    with stack.app.client() as client:  # one client asking for many PINs
        for _ in range(LOGIN["CODES_PER_CLIENT"]):
            assert ask_code(client, unknown_pin()).status_code == 202
        refused = ask_code(client, unknown_pin())
    problem(refused, 429, "rate_limited")
    told_how_long(refused, window)

    # Staff: one client guessing one username is stopped; the account is not.
    guess = {"username": "ministry", "password": "ministry-2026", "code": "123456"}
    with stack.app.client() as client:
        for _ in range(STAFF_FAILURES_PER_USERNAME_AND_ADDRESS):
            problem(client.post("/api/v1/auth/staff-token", json=guess), 401, "credentials_invalid")
        refused = client.post("/api/v1/auth/staff-token", json=guess)
    problem(refused, 429, "rate_limited")
    told_how_long(refused, window)
    with stack.app.client() as other:
        problem(other.post("/api/v1/auth/staff-token", json=guess), 401, "credentials_invalid")


# -- item 3: a stranger cannot kill another person's sign-in -----------------------------------


def test_a_strangers_wrong_codes_do_not_lock_a_persons_fresh_challenge(stack: Stack) -> None:
    victim = stack.adult()
    window_turn_guard(LOGIN["WINDOW_SECONDS"])
    wrong = {"code": "000000"}
    home = stack.app.client()
    before = len(stack.sms(stack.phone(victim)))
    started = ask_code(home, victim)
    assert started.status_code == 202, started.text
    challenge = started.json()["challenge"]
    code = stack.code_sent(victim, before)
    if code == wrong["code"]:
        wrong = {"code": "999999"}

    # A guesser tries the challenge ids a sequence would give (the latest rows) and random
    # strings, five wrong codes each: no answer is a token or a server error.
    latest = [
        str(pk)
        for (pk,) in stack.sql(
            "SELECT id FROM accounts_loginchallenge ORDER BY created_at DESC LIMIT 2"
        )
    ]
    guesses = [*latest, secrets.token_urlsafe(32), secrets.token_urlsafe(32)]
    with stack.app.client() as guesser:
        for guess in guesses:
            for _ in range(LOGIN["ATTEMPTS_PER_CODE"]):
                answer = guesser.post("/api/v1/auth/token", json={"challenge": guess, **wrong})
                assert 400 <= answer.status_code < 500, (guess, answer.status_code, answer.text)

    # A stranger asks for codes for the victim's PIN (stopped after their own share) and
    # spends wrong codes on every challenge they got, until their own address is refused.
    stranger = stack.app.client()
    theirs = []
    for _ in range(LOGIN["CODES_PER_PIN_CLIENT"]):
        answer = ask_code(stranger, victim)
        assert answer.status_code == 202, answer.text
        theirs.append(answer.json()["challenge"])
    problem(ask_code(stranger, victim), 429, "rate_limited")
    while len(theirs) * LOGIN["ATTEMPTS_PER_CODE"] <= LOGIN["WRONG_CODES_PER_CLIENT"]:
        theirs.append(ask_code(stranger, unknown_pin()).json()["challenge"])
    answers = []
    for mine in theirs[:-1]:
        for _ in range(LOGIN["ATTEMPTS_PER_CODE"]):
            answer = stranger.post("/api/v1/auth/token", json={"challenge": mine, **wrong})
            answers.append(answer.json()["code"])
    assert len(answers) == LOGIN["WRONG_CODES_PER_CLIENT"]
    assert set(answers) <= {"code_invalid", "code_locked"}, answers
    per_challenge = LOGIN["ATTEMPTS_PER_CODE"]
    assert answers[per_challenge - 1] == "code_locked", answers  # their own challenge locked
    refused = stranger.post("/api/v1/auth/token", json={"challenge": theirs[-1], **wrong})
    problem(refused, 429, "rate_limited")
    told_how_long(refused, LOGIN["WINDOW_SECONDS"])
    stranger.close()

    # The victim's fresh challenge is untouched: the code from the phone signs in.
    token = home.post("/api/v1/auth/token", json={"challenge": challenge, "code": code})
    assert token.status_code == 201, token.text
    home.close()


# -- item 3: API writes are JSON only ----------------------------------------------------------


def test_api_writes_refuse_simple_cross_site_bodies(stack: Stack) -> None:
    adult = stack.adult()
    phone_before = len(stack.sms(stack.phone(adult)))
    with stack.app.client() as client:
        as_text = client.post(
            "/api/v1/auth/code",
            content=f'{{"pin": "{adult}"}}',
            headers={"Content-Type": "text/plain"},
        )
        problem(as_text, 415, "unsupported_media_type")
        as_form = client.post("/api/v1/auth/code", data={"pin": adult})
        problem(as_form, 415, "unsupported_media_type")
        token_as_text = client.post(
            "/api/v1/auth/token",
            content='{"challenge": "x", "code": "123456"}',
            headers={"Content-Type": "text/plain;charset=UTF-8"},
        )
        problem(token_as_text, 415, "unsupported_media_type")
        staff_as_form = client.post(
            "/api/v1/auth/staff-token",
            data={"username": "director", "password": "x", "code": "123456"},
        )
        problem(staff_as_form, 415, "unsupported_media_type")
    stack.drain()
    assert len(stack.sms(stack.phone(adult))) == phone_before  # nothing was sent

    with stack.app.client() as client:
        token = stack.sign_in(client, adult)  # application/json works
        auth = {"Authorization": f"Bearer {token}"}
        link = client.post(
            "/api/v1/me/children",
            content='{"pin": "22601201900134", "birth_certificate": {"series": "I-AN", '
            '"number": "123456"}}',
            headers={**auth, "Content-Type": "text/plain"},
        )
        problem(link, 415, "unsupported_media_type")
        charset = client.post(
            "/api/v1/auth/code",
            content=f'{{"pin": "{unknown_pin()}"}}',
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        assert charset.status_code == 202, charset.text


# -- item 4: who exists is not told ------------------------------------------------------------


def test_sign_in_code_answers_every_pin_alike_and_creates_nobody(stack: Stack) -> None:
    stack.drain()
    adult_with_phone = stack.adult()
    pins = {
        "unknown": unknown_pin(),
        "child": stack.child(),
        "adult without a phone": stack.adult(with_phone=False),
        "adult with a phone": adult_with_phone,
    }
    accounts, people = stack.accounts(), stack.people()
    assert not set(pins.values()) & (accounts | people)
    texts_before = len(stack.sms(stack.phone(adult_with_phone)))

    answers = {}
    for who, pin in pins.items():
        with stack.app.client() as client:
            answers[who] = ask_code(client, pin)
    for who, answer in answers.items():
        assert answer.status_code == 202, (who, answer.text)
        body = answer.json()
        assert set(body) == {"challenge", "expires_at"}, (who, body)
        assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", body["challenge"]), (who, body)
    assert len({a.headers["Content-Type"] for a in answers.values()}) == 1

    stack.drain()  # the background look-up and the SMS have run
    assert stack.accounts() == accounts, "an account was created before a code was verified"
    assert stack.people() == people, "a person was pulled from the registry before a code"
    # Only the adult with a phone on record got a text.
    assert len(stack.sms(stack.phone(adult_with_phone))) == texts_before + 1


# -- item 5: tokens end -------------------------------------------------------------------------


def test_logout_and_staff_deactivation_revoke_tokens(stack: Stack) -> None:
    parent = stack.adult()
    with stack.app.client() as client:
        token = stack.sign_in(client, parent)
        other = stack.sign_in(client, parent)  # a second device
        auth = {"Authorization": f"Bearer {token}"}
        listed = client.get("/api/v1/me/tokens", headers=auth)
        assert listed.status_code == 200, listed.text
        second = [t["id"] for t in listed.json() if not t["current"]]
        assert len(second) == 1
        revoked = client.delete(f"/api/v1/me/tokens/{second[0]}", headers=auth)
        assert revoked.status_code == 204, revoked.text
        problem(
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"}),
            401,
            "unauthorized",
        )
        assert client.get("/api/v1/me", headers=auth).status_code == 200
        assert client.post("/api/v1/auth/logout", headers=auth).status_code == 204
        problem(client.get("/api/v1/me", headers=auth), 401, "unauthorized")

    analyst = {"Authorization": f"Bearer {stack.staff_token('analyst')}"}
    ministry = {"Authorization": f"Bearer {stack.staff_token('ministry')}"}
    with stack.app.client() as client:
        assert client.get("/api/v1/me/tokens", headers=analyst).status_code == 200
        done = client.post("/api/v1/staff/analyst/deactivate", headers=ministry)
        assert done.status_code == 204, done.text
        problem(client.get("/api/v1/me/tokens", headers=analyst), 401, "unauthorized")
        assert client.get("/api/v1/me/tokens", headers=ministry).status_code == 200


# -- item 7: Unicode digits ---------------------------------------------------------------------


@pytest.mark.parametrize("script", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic-indic"])
def test_non_ascii_digits_are_422_never_500(stack: Stack, script: dict[int, int]) -> None:
    adult = stack.adult()
    foreign = adult[0] + adult[1:].translate(script)
    with stack.app.client() as client:
        refused = problem(ask_code(client, foreign), 422, "validation_error")
        assert [(e["field"], e["code"]) for e in refused["errors"]] == [("pin", "invalid_pin")]
        code = client.post(
            "/api/v1/auth/token",
            json={"challenge": secrets.token_urlsafe(32), "code": "123456".translate(script)},
        )
        problem(code, 422, "validation_error")
        # Linking a child, signed in: the child's PIN in another script.
        token = stack.sign_in(client, adult)
        child = "22601201900134"
        link = client.post(
            "/api/v1/me/children",
            json={
                "pin": child[0] + child[1:].translate(script),
                "birth_certificate": {"series": "I-AN", "number": "123456"},
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        refused = problem(link, 422, "validation_error")
        assert [(e["field"], e["code"]) for e in refused["errors"]] == [("pin", "invalid_pin")]
        # The sign-in page (a form through nginx, with its CSRF cookie).
        page = client.get("/login/")
        assert page.status_code == 200
        form = client.post(
            "/login/",
            data={"pin": foreign, "csrfmiddlewaretoken": client.cookies["csrftoken"]},
            # nginx passes the host without its port ($host), as it is on port 443.
            headers={"Referer": "https://127.0.0.1/login/"},
        )
        assert form.status_code == 200, form.status_code  # the page again, with the error
    assert stack.sql("SELECT count(*) FROM people_person WHERE pin !~ '^[0-9]{14}$'") == [(0,)]


# -- item 8: large uploads ----------------------------------------------------------------------

HUGE = 400 * 1024 * 1024  # declared, never sent


def refusal_before_body(url: str, path: str, *, tls: bool) -> tuple[int, bytes]:
    """Send only the head of a request declaring a ``HUGE`` body (and 64 KiB of it), then read
    the answer: a server that waited for the body would never answer."""
    parts = urlsplit(url)
    raw = socket.create_connection((str(parts.hostname), int(parts.port or 80)), timeout=15)
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        raw = context.wrap_socket(raw, server_hostname="localhost")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Proto: https\r\n"
        "Authorization: Bearer not-a-token\r\n"
        "Content-Type: multipart/form-data; boundary=kattoo\r\n"
        f"Content-Length: {HUGE}\r\nConnection: close\r\n\r\n"
    )
    with raw:
        raw.sendall(head.encode() + b"x" * 65536)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = raw.recv(65536)
            assert chunk, f"closed without an answer: {answer!r}"
            answer += chunk
        header, _, body = answer.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length: *([0-9]+)", header)
        # With a length, read that much; a chunked answer ("Connection: close") ends when the
        # server closes the connection.
        while not length or len(body) < int(length.group(1)):
            chunk = raw.recv(65536)
            if not chunk:
                break
            body += chunk
    answer = header + b"\r\n\r\n" + body
    status = int(answer.split(b" ", 2)[1])
    return status, answer


def test_a_body_over_the_limit_is_refused_by_nginx_and_by_the_app(stack: Stack) -> None:
    upload = "/api/v1/me/children/1/guardian-document"
    status, answer = refusal_before_body(stack.app.https, upload, tls=True)
    assert status == 413, answer[:500]
    assert b"nginx" in answer  # nginx's own page: the application never saw the request
    # Bypassing nginx: the application refuses from the declared length, reading nothing.
    for path in (upload, "/api/v1/auth/code", "/children/1/act/"):
        status, answer = refusal_before_body(stack.app.direct, path, tls=False)
        assert status == 413, (path, answer[:500])
    assert b"payload_too_large" in refusal_before_body(stack.app.direct, upload, tls=False)[1]
    assert list(stack.upload_tmp.iterdir()) == []  # nothing spooled
