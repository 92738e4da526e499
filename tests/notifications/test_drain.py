"""The outbox drain (issue 15): queued notifications claimed in batches and sent once, failed
ones retried after their back-off, a killed drain's claims taken back by the sweeper."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
from django.core.management import call_command

from kattoo.core import clock
from kattoo.notifications.backends import DeliveryError, MemoryBackend
from kattoo.notifications.models import DeliveryStatus, Notification
from kattoo.notifications.services import notification_queue, notifications_requeue_stale
from kattoo.notifications.tasks import notification_deliver, notifications_drain, retry_backoff

from ..conftest import World


@pytest.fixture(autouse=True)
def outbox() -> Iterator[list[dict[str, str]]]:
    MemoryBackend.outbox.clear()
    MemoryBackend.fail_next = 0
    yield MemoryBackend.outbox
    MemoryBackend.outbox.clear()


def queue(world: World, n: int) -> list[Notification]:
    family = world.family()
    made = [
        notification_queue(
            user=family.parent,
            event="login_code",
            context={"code": f"{i:06d}"},
            dedupe_key=f"drain:{i}",
        )
        for i in range(n)
    ]
    return [m for m in made if m is not None]


def test_the_drain_sends_every_queued_message_once_in_batches(world: World, outbox) -> None:
    notes = queue(world, 5)
    assert notifications_drain(batch=2) == 2
    assert notifications_drain(batch=2) == 2
    assert notifications_drain(batch=2) == 1
    assert notifications_drain(batch=2) == 0
    sent = [m["id"] for m in outbox]
    assert sorted(sent) == sorted(str(n.pk) for n in notes)  # each once, by its own id
    assert set(Notification.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    # A delivery task for a drained row finds nothing to do.
    assert notification_deliver.call(str(notes[0].pk)) == "not-queued"
    assert len(outbox) == 5


def test_a_failed_message_waits_for_its_back_off_then_is_sent(world: World, outbox) -> None:
    [note] = queue(world, 1)
    MemoryBackend.fail_next = 1
    start = clock.now()
    with clock.frozen(start):
        assert notifications_drain() == 1
    note.refresh_from_db()
    assert note.status == DeliveryStatus.QUEUED and note.attempts == 1 and outbox == []
    with clock.frozen(start + retry_backoff(1) - dt.timedelta(milliseconds=500)):
        assert notifications_drain() == 0  # not yet
    with clock.frozen(start + retry_backoff(1) + dt.timedelta(milliseconds=1)):
        assert notifications_drain() == 1
    note.refresh_from_db()
    assert note.status == DeliveryStatus.SENT and note.attempts == 2
    assert [m["id"] for m in outbox] == [str(note.pk)]


def test_a_drain_that_died_after_its_claim_is_recovered_by_the_sweeper(
    world: World, outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = queue(world, 3)

    class Killed(BaseException):
        pass

    def die(*args: object, **kwargs: object) -> str:
        raise Killed  # the process is gone between the claim and the send

    monkeypatch.setattr("kattoo.notifications.tasks._attempt", die)  # where the send is made
    with pytest.raises(Killed):
        notifications_drain(batch=10)
    monkeypatch.undo()
    assert set(Notification.objects.values_list("status", flat=True)) == {DeliveryStatus.SENDING}
    assert notifications_drain() == 0  # claimed rows are not taken again before the lease ends
    later = clock.now() + dt.timedelta(minutes=6)
    with clock.frozen(later):
        assert notifications_requeue_stale() == 3  # the tasks it enqueues run at once here
    assert sorted(m["id"] for m in outbox) == sorted(str(n.pk) for n in notes)


@pytest.mark.parametrize(
    "options", [["--batch", "2"], ["--concurrency", "3"]], ids=["batches", "side by side"]
)
def test_the_command_drains_once_and_reports(world: World, outbox, options: list[str]) -> None:
    queue(world, 5)
    out = StringIO()
    call_command("notifications_drain", "--once", *options, stdout=out)
    assert "drained 5" in out.getvalue()
    assert len(outbox) == 5
    assert Notification.objects.filter(status=DeliveryStatus.SENT).count() == 5


def test_a_message_the_sweeper_took_back_is_drained_at_once(world: World, outbox) -> None:
    [note] = queue(world, 1)
    # What notifications_requeue_stale leaves of an expired claim: queued, its claim cleared.
    Notification.objects.filter(pk=note.pk).update(
        status=DeliveryStatus.QUEUED, attempts=1, claim_id=None, claimed_at=None
    )
    assert notifications_drain() == 1  # due now, not after a back-off
    assert [m["id"] for m in outbox] == [str(note.pk)]


class Gate:
    """A gateway that answers no send until ``width`` sends are waiting at once: a drain that
    sends one at a time never gets past it (its barrier breaks after the timeout)."""

    def __init__(self, width: int, refuse: set[str] | None = None) -> None:
        self.barrier = threading.Barrier(width, timeout=20)
        self.refuse = refuse or set()
        self.sent: list[str] = []
        self.threads: set[str] = set()

    def send(self, *, key: str, channel: str, address: str, subject: str, body: str) -> str:
        self.barrier.wait()
        self.threads.add(threading.current_thread().name)
        if key in self.refuse:
            raise DeliveryError("the gateway is busy")
        self.sent.append(key)
        return f"gw-{key}"


def test_the_drain_hands_a_batch_to_the_gateway_side_by_side(world: World) -> None:
    """Sends overlap (every one of the batch waits at the gate together); the outcomes are
    recorded as one at a time would: sent with the gateway's id, a failure queued again."""
    notes = queue(world, 4)
    refused = str(notes[2].pk)
    gate = Gate(4, refuse={refused})
    with ThreadPoolExecutor(4) as pool:
        assert notifications_drain(batch=4, pool=pool, sender=gate) == 4
    assert len(gate.threads) == 4
    assert sorted(gate.sent) == sorted(str(n.pk) for n in notes if str(n.pk) != refused)
    rows = {str(n.pk): n for n in Notification.objects.all()}
    for key, row in rows.items():
        if key == refused:
            assert (row.status, row.attempts, row.claim_id) == (DeliveryStatus.QUEUED, 1, None)
            assert row.last_error == "the gateway is busy"
        else:
            assert (row.status, row.provider_id) == (DeliveryStatus.SENT, f"gw-{key}")
            assert row.secret_body == ""  # a sign-in code is kept no longer once sent


def test_sign_in_codes_leave_before_the_backlog(world: World, outbox) -> None:
    """Behind the opening's registration SMS a code would wait past its minutes: the drain
    claims queued codes first, then the rest by age."""
    family = world.family()
    backlog = [
        notification_queue(
            user=family.parent,
            event="application_registered",
            context={"child": "Айгерим", "school": "№ 1", "language": "ky", "position": n},
            dedupe_key=f"backlog:{n}",
        )
        for n in range(4)
    ]
    with clock.frozen(clock.now() + dt.timedelta(seconds=30)):
        [code] = queue(world, 1)
    assert notifications_drain(batch=2) == 2
    assert [m["id"] for m in outbox] == [str(code.pk), str(backlog[0].pk)]
    assert notifications_drain(batch=10) == 3
    assert [m["id"] for m in outbox][2:] == [str(n.pk) for n in backlog[1:]]
