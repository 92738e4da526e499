"""A task worker killed with SIGKILL in the middle of a send (issue 7, reliability).

A real ``manage.py db_worker`` delivers N messages through a slow gateway (gateway.py); the
test kills it while a message has reached the gateway but is not yet marked sent, starts a
new worker, lets the sweeper take the expired claim back, and proves that every message
reached the phone exactly once: the one resend carries the same idempotency key and the
gateway acknowledges it without delivering again (ADR 0006)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction

from kattoo.accounts.models import Role
from kattoo.notifications.models import DeliveryStatus, Notification
from kattoo.notifications.services import notification_queue

from ..factories import UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="the task worker runs on PostgreSQL"
    ),
]

MESSAGES = 8
DELAY = 0.6  # per send; half of it after the gateway accepted the message
ROOT = Path(django_settings.BASE_DIR)
WORKER = [sys.executable, "manage.py", "db_worker", "--queue-name", "*"]
WORKER_OPTIONS = ["--interval", "0.05", "--no-startup-delay", "--no-reload"]
# The outbox drain (issue 15): one row per claim here, so a kill leaves one message in flight
# as the task worker does.
DRAIN = [sys.executable, "manage.py", "notifications_drain", "--batch", "1", "--interval", "0.05"]


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def gateway_calls(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def statuses() -> dict[str, str]:
    return {str(pk): status for pk, status in Notification.objects.values_list("pk", "status")}


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Starts ``db_worker`` subprocesses on the test database with the slow gateway; every
    one still running at the end is stopped."""
    started: list[subprocess.Popen[bytes]] = []
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": database_url(),
        "KATTOO_VAR_DIR": str(tmp_path),
        "KATTOO_NOTIFICATIONS_BACKEND": "tests.reliability.gateway.SlowGateway",
        "KATTOO_NOTIFICATIONS_FILE": str(tmp_path / "gateway.jsonl"),
        "KATTOO_TEST_GATEWAY_DELAY": str(DELAY),
        # The outbox's address and secret text are encrypted (ADR 0022): the test's keys.
        "KATTOO_FIELD_KEYS": ",".join(django_settings.FERNET_KEYS),
    }

    def start(command: list[str] | None = None) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            command or [*WORKER, *WORKER_OPTIONS],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.mark.parametrize("command", [None, DRAIN], ids=["db_worker", "notifications_drain"])
def test_every_message_reaches_the_phone_once_after_a_kill_mid_send(
    settings: Any,
    tmp_path: Path,
    worker: Callable[..., subprocess.Popen[bytes]],
    command: list[str] | None,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    gateway = tmp_path / "gateway.jsonl"
    user = UserFactory(role=Role.OPERATOR)
    with transaction.atomic():  # enqueued on commit, as in a request
        for i in range(MESSAGES):
            notification_queue(
                user=user,
                event="login_code",
                context={"code": f"{i:06d}"},
                dedupe_key=f"worker-kill:{i}",
                address="+996700000001",
            )
    ids = set(statuses())
    assert len(ids) == MESSAGES

    first = worker(command)

    def sent_but_not_marked() -> bool:
        calls = gateway_calls(gateway)
        return len(calls) >= 3 and statuses()[calls[-1]["key"]] == DeliveryStatus.SENDING

    wait_for(sent_but_not_marked, seconds=30, what="the third message to be in flight")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)

    # The dead worker left one message accepted by the gateway and still claimed.
    in_flight = [pk for pk, status in statuses().items() if status == DeliveryStatus.SENDING]
    assert len(in_flight) == 1
    assert in_flight[0] in {call["key"] for call in gateway_calls(gateway)}

    worker(command)
    wait_for(
        lambda: DeliveryStatus.QUEUED not in statuses().values(),
        seconds=30,
        what="the new worker to send what was queued",
    )
    assert statuses()[in_flight[0]] == DeliveryStatus.SENDING  # its lease still stands

    # The sweeper's timer, once the lease (1 s here) has expired.
    time.sleep(1.1)
    call_command("notifications_requeue", "--older-than", "1", stdout=io.StringIO())
    wait_for(
        lambda: set(statuses().values()) == {DeliveryStatus.SENT},
        seconds=30,
        what="every message to be marked sent",
    )

    calls = gateway_calls(gateway)
    delivered = [call["key"] for call in calls if call["delivered"]]
    assert sorted(delivered) == sorted(ids)  # none lost, none delivered twice
    resent = [call["key"] for call in calls if not call["delivered"]]
    assert resent == in_flight  # one resend, same idempotency key, acknowledged only
    attempts = dict(Notification.objects.values_list("pk", "attempts"))
    assert {str(pk): n for pk, n in attempts.items() if n != 1} == {in_flight[0]: 2}
