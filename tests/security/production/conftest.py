"""The production layout the issue-13 proof runs against, started once for the package:

    client ──TLS──> nginx (deploy/nginx/kattoo.conf, rendered by deploy/nginx/render.sh)
                      │  X-Forwarded-For, X-Forwarded-Proto: https
                      v
                    granian ── production settings (tests/security/production/settings.py)
                      │  KATTOO_TRUSTED_PROXIES = 127.0.0.1/32
                      ├── PostgreSQL: a throwaway cluster holding the demo (load_demo curated)
                      ├── Redis: a redis-server of the stack's own on a free port
                      └── manage.py db_worker: the background tasks (SMS to the file "phone")

Clients come from different loopback addresses (127.0.1.1, 127.0.1.2, …: Linux routes all of
127.0.0.0/8 to ``lo``), which nginx sees as different clients and appends to
``X-Forwarded-For``; only nginx's own address (127.0.0.1) is a trusted proxy. Every address is
handed out once (``Stack.address``), so no test inherits another's counters."""

# ruff: noqa: S603 - our own interpreter, granian, nginx and redis-server, arguments built here
from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from bench.front import nginx_binary, nginx_front, stop

from ...reliability import pgcluster
from ...reliability.appserver import app_server
from ...reliability.conftest import ROOT, DemoDatabase
from ...reliability.pgcluster import TempCluster, free_port
from ...reliability.redisserver import Redis

SETTINGS = "tests.security.production.settings"
WORKER = [sys.executable, "manage.py", "db_worker", "--queue-name", "*"]
SECRET_KEY = "security-proof-tests-only-" + "x" * 40
TIMEOUT = 15.0  # a request slower than this is a hang (httpx.ReadTimeout fails the test)
# The sign-in limits the tests count against (ADR 0023, the applicant sign-in contract):
# production's numbers, stated here so a test knows them.
LOGIN = {
    "WINDOW_SECONDS": 900,
    "ATTEMPTS_PER_CODE": 5,
    "CODES_PER_PIN_CLIENT": 3,
    "CODES_PER_PIN": 10,
    "CODES_PER_CLIENT": 30,
    "CODES_PER_MINUTE": 3000,
    "WRONG_CODES_PER_CLIENT": 20,
}
# Staff sign-in failures tolerated per (username, client) and per client (kattoo.accounts.staff).
STAFF_FAILURES_PER_USERNAME_AND_ADDRESS = 5
STAFF_FAILURES_PER_ADDRESS = 30
STAFF_PASSWORD = "demo-pass-2026"

# django-tasks-db stores "no run_after" as the largest date (year 9999).
NO_RUN_AFTER = "9000-01-01"
_addresses = (f"127.0.{a}.{b}" for a in itertools.count(1) for b in range(1, 255))


def window_turn_guard(window: int, *, needed: int = 60) -> None:
    """Counters count in windows aligned on the clock (kattoo.core.limits): a sequence of
    requests that counts to a limit starts at least ``needed`` seconds before the window
    turns, so it is counted in one window (when it is closer, wait for the turn)."""
    left = window - time.time() % window
    if left < needed:
        time.sleep(left + 1)


def fresh_address() -> str:
    """A loopback address no request of this session came from yet."""
    return next(_addresses)


@dataclass
class App:
    """One granian behind its own nginx, with its Redis."""

    https: str  # through nginx, TLS
    direct: str  # granian itself, plain HTTP (what a request bypassing nginx reaches)
    redis: Redis
    logs: Path

    def client(self, address: str | None = None) -> httpx.Client:
        """A client of nginx from ``address`` (a fresh one by default)."""
        transport = httpx.HTTPTransport(local_address=address or fresh_address(), verify=False)
        return httpx.Client(base_url=self.https, transport=transport, timeout=TIMEOUT)

    def bypass(self) -> httpx.Client:
        """A client of granian directly, as if nginx were not there."""
        return httpx.Client(
            base_url=self.direct, timeout=TIMEOUT, headers={"X-Forwarded-Proto": "https"}
        )


@dataclass
class Stack:
    demo: DemoDatabase
    app: App
    var: Path
    upload_tmp: Path
    env: dict[str, str]  # what the application processes run with
    population: dict[str, dict[str, Any]] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)  # PINs handed to a test already

    # -- the database, read by the test as an auditor would ----------------------------------

    def sql(self, query: str, *params: object) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.demo.url, autocommit=True) as connection:
            return connection.execute(query, params).fetchall()

    def drain(self) -> None:
        """Until the task worker has run every task due now (the SMS of a code, the phone
        look-up of a sign-in): a liveness guard, not a measure."""
        deadline = time.monotonic() + 60
        query = (
            "SELECT count(*) FROM django_tasks_database_dbtaskresult "
            "WHERE status IN ('READY', 'RUNNING') AND (run_after <= now() OR run_after >= %s)"
        )
        while self.sql(query, NO_RUN_AFTER)[0][0]:
            assert time.monotonic() < deadline, (self.var / "worker.log").read_text()[-3000:]
            time.sleep(0.1)

    # -- the registry's people and the phone ---------------------------------------------------

    def sms(self, phone: str) -> list[str]:
        """Every text the phone ``phone`` received (the file "phone" the worker writes)."""
        outbox = self.var / "outbox.jsonl"
        if not outbox.exists():
            return []
        lines = [json.loads(line) for line in outbox.read_text().splitlines() if line.strip()]
        return [m["body"] for m in lines if m["to"] == phone and m["channel"] == "sms"]

    def phone(self, pin: str) -> str:
        phone = (self.population[pin].get("contacts") or {}).get("phone")
        assert phone, pin
        return str(phone)

    def accounts(self) -> set[str]:
        return {row[0] for row in self.sql("SELECT username FROM accounts_user")}

    def people(self) -> set[str]:
        return {row[0] for row in self.sql("SELECT pin FROM people_person")}

    def _fresh(self, matches: Callable[[dict[str, Any]], bool]) -> str:
        """A PIN of the registry's population that ``matches``, not in the database and not
        handed to any test before (sorted, so a run is repeatable)."""
        known = self.accounts() | self.people() | self.taken
        pin = min(p for p, person in self.population.items() if matches(person) and p not in known)
        self.taken.add(pin)
        return pin

    def adult(self, *, with_phone: bool = True) -> str:
        """An adult the registry knows, with or without a phone on record, who never signed in."""
        return self._fresh(
            lambda person: (
                person["dateOfBirth"] < "2000-01-01"
                and bool((person.get("contacts") or {}).get("phone")) == with_phone
            ),
        )

    def child(self) -> str:
        return self._fresh(lambda person: person["dateOfBirth"] >= "2018-01-01")

    # -- signing in ----------------------------------------------------------------------------

    def code_sent(self, pin: str, before: int) -> str:
        """The six digits of the one SMS the adult ``pin`` received after ``before`` texts."""
        self.drain()
        texts = self.sms(self.phone(pin))
        assert len(texts) == before + 1, texts[before:]
        match = re.search(r"\b(\d{6})\b", texts[-1])
        assert match, "no code in the sign-in SMS"
        return match.group(1)

    def sign_in(self, client: httpx.Client, pin: str) -> str:
        """A parent's token through the whole flow: the code by SMS, read from the phone."""
        before = len(self.sms(self.phone(pin)))
        started = client.post("/api/v1/auth/code", json={"pin": pin})
        assert started.status_code == 202, started.text
        code = self.code_sent(pin, before)
        token = client.post(
            "/api/v1/auth/token", json={"challenge": started.json()["challenge"], "code": code}
        )
        assert token.status_code == 201, token.text
        return str(token.json()["token"])

    def totp(self, username: str) -> str:
        """The staff member's authenticator code now (read from the device's key as the phone
        would); a code not yet used, as django-otp refuses one twice."""
        from django_otp.oath import TOTP

        key, step, t0, digits, drift, last_t = self.sql(
            "SELECT d.key, d.step, d.t0, d.digits, d.drift, d.last_t "
            "FROM otp_totp_totpdevice d JOIN accounts_user u ON u.id = d.user_id "
            "WHERE u.username = %s AND d.confirmed",
            username,
        )[0]
        totp = TOTP(bytes.fromhex(key), step, t0, digits, drift)
        while totp.t() <= last_t:  # this time step's code was used: the next one
            time.sleep(0.5)
            totp.time = time.time()
        return f"{totp.token():0{digits}d}"

    def staff_token(self, username: str) -> str:
        with self.app.client() as client:
            answer = client.post(
                "/api/v1/auth/staff-token",
                json={
                    "username": username,
                    "password": STAFF_PASSWORD,
                    "code": self.totp(username),
                },
            )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["token"])


def _skip_without_tools() -> None:
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (scripts/ensure-bench-tools.sh installs it)")
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server (scripts/ensure-redis.sh installs it)")
    if not pgcluster.available():
        pytest.skip("no PostgreSQL server binaries for a cluster of the test's own")


@contextmanager
def own_redis(work: Path) -> Iterator[Redis]:
    """A redis-server of the application's own (killed on the way out)."""
    work.mkdir(parents=True, exist_ok=True)
    redis = Redis(directory=work, port=free_port())
    redis.start()
    try:
        yield redis
    finally:
        if redis.process is not None:
            redis.kill()


@contextmanager
def running_app(demo: DemoDatabase, work: Path, redis: Redis, **env: str) -> Iterator[App]:
    """granian with the proof's production settings on ``redis``, behind nginx."""
    with app_server(
        demo, work, settings=SETTINGS, probe="/readyz", REDIS_URL=redis.url, **env
    ) as direct:
        upstream = str(direct.base_url).rstrip("/").removeprefix("http://")
        with nginx_front(work / "nginx", upstream=upstream) as front:
            yield App(https=front.https, direct=str(direct.base_url), redis=redis, logs=work)


def app_env(demo: DemoDatabase, var: Path, upload_tmp: Path, **login: int) -> dict[str, str]:
    """The environment of the stack's application processes (granian and the worker)."""
    return {
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "KATTOO_SSL_REDIRECT": "1",
        "KATTOO_LOG_FORMAT": "json",
        "KATTOO_TRUSTED_PROXIES": "127.0.0.1/32",
        "KATTOO_NOTIFICATIONS_BACKEND": "kattoo.notifications.backends.FileBackend",
        "KATTOO_NOTIFICATIONS_FILE": str(var / "outbox.jsonl"),
        "KATTOO_PROOF_LOGIN": json.dumps({**LOGIN, **login}),
        "KATTOO_PROOF_UPLOAD_TMP": str(upload_tmp),
    }


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    _skip_without_tools()
    work = tmp_path_factory.mktemp("security-production")
    var, upload_tmp = work / "var", work / "upload-tmp"
    var.mkdir()
    upload_tmp.mkdir()
    with ExitStack() as cleanup:
        cluster = cleanup.enter_context(TempCluster())
        url = cluster.createdb("kattoo")
        demo = DemoDatabase(
            cluster=cluster,
            url=url,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tests.security.production.settings_demo",
                "DJANGO_DEBUG": "0",
                "DATABASE_URL": url,
                "KATTOO_VAR_DIR": str(var),
                "KATTOO_FIELD_KEYS": "security-proof-tests-only-key",
            },
            pins=[],
        )
        demo.manage("migrate", "--noinput", "-v0")
        demo.manage("load_demo", "--country", "curated")
        env = app_env(demo, var, upload_tmp)
        redis = cleanup.enter_context(own_redis(work / "app"))
        worker = subprocess.Popen(  # starts while granian does
            [*WORKER, "--interval", "0.1", "--no-startup-delay", "--no-reload"],
            cwd=ROOT,
            env={**demo.env, "DJANGO_SETTINGS_MODULE": SETTINGS, "REDIS_URL": redis.url, **env},
            stdout=(var / "worker.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        cleanup.callback(stop, worker)
        app = cleanup.enter_context(running_app(demo, work / "app", redis, **env))
        stack = Stack(demo=demo, app=app, var=var, upload_tmp=upload_tmp, env=env)
        population = json.loads((var / "registry-population.json").read_text())
        stack.population = {person["pin"]: person for person in population["people"]}
        stack.drain()  # the demo's own messages, queued while it was built
        yield stack
