"""Notifications: written with the event, delivered after commit by a task, never twice."""

from __future__ import annotations

import datetime as dt

import pytest

from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.services import application_cancel, application_register
from kattoo.notifications.backends import MemoryBackend
from kattoo.notifications.models import DeliveryStatus, Notification
from kattoo.notifications.services import notification_queue, notifications_requeue_stale
from kattoo.notifications.tasks import notification_deliver

from ..conftest import SYSTEM, World


@pytest.fixture(autouse=True)
def outbox():
    MemoryBackend.outbox.clear()
    MemoryBackend.fail_next = 0
    yield MemoryBackend.outbox
    MemoryBackend.outbox.clear()


def register(world: World, family):
    return application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )


def test_registration_sends_an_sms_after_commit_in_kyrgyz(
    world: World, at_stage1, outbox, django_capture_on_commit_callbacks
) -> None:
    family = world.family()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        application = register(world, family)
    assert len(callbacks) == 2  # the delivery task, and the registrations counter (metrics)
    [message] = outbox
    assert message["to"] == "+996700123456" and message["id"]
    assert family.child.name in message["body"] and "Kattoo" in message["body"]
    notification = Notification.objects.get(dedupe_key=f"application_registered:{application.pk}")
    assert notification.status == DeliveryStatus.SENT and notification.language == "ky"


def test_nothing_is_sent_before_commit(world: World, at_stage1, outbox) -> None:
    register(world, world.family())
    assert outbox == []  # the test transaction never commits
    assert Notification.objects.get().status == DeliveryStatus.QUEUED


def test_the_message_follows_the_users_language(
    world: World, at_stage1, outbox, django_capture_on_commit_callbacks
) -> None:
    family = world.family()
    family.parent.language = "ru"
    family.parent.save()
    with django_capture_on_commit_callbacks(execute=True):
        application = register(world, family)
        application_cancel(application=application, actor=SYSTEM)
    assert "отменена" in outbox[1]["body"] and "Осталось отмен: 2" in outbox[1]["body"]
    assert Notification.objects.filter(language="ru").count() == 2


def test_one_event_is_one_message(world: World, outbox) -> None:
    family = world.family()
    for _ in range(3):
        notification_queue(
            user=family.parent,
            event="login_code",
            context={"code": "123456"},
            dedupe_key="login_code:fixed",
        )
    assert Notification.objects.filter(dedupe_key="login_code:fixed").count() == 1


def test_a_failed_send_stays_queued_and_a_second_worker_does_not_resend(
    world: World, outbox
) -> None:
    family = world.family()
    notification = notification_queue(
        user=family.parent, event="login_code", context={"code": "1"}, dedupe_key="login_code:a"
    )
    MemoryBackend.fail_next = 1
    assert notification_deliver.call(str(notification.pk)) == "failed"
    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.QUEUED and notification.attempts == 1
    assert notification_deliver.call(str(notification.pk)) == "sent"
    assert notification_deliver.call(str(notification.pk)) == "not-queued"
    assert len(outbox) == 1


def test_a_worker_killed_mid_send_is_recovered_by_the_sweeper(world: World, outbox) -> None:
    family = world.family()
    notification = notification_queue(
        user=family.parent, event="login_code", context={"code": "2"}, dedupe_key="login_code:b"
    )
    # the worker claimed it and died before recording the outcome
    Notification.objects.filter(pk=notification.pk).update(
        status=DeliveryStatus.SENDING, attempts=1
    )
    with clock.frozen(clock.now() + dt.timedelta(minutes=10)):
        assert notifications_requeue_stale() == 1  # ImmediateBackend: delivered right away
    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.SENT and len(outbox) == 1
    assert outbox[0]["id"] == str(notification.pk)  # the gateway's idempotency key


def test_no_phone_no_message(world: World, outbox) -> None:
    family = world.family()
    family.parent.person.phone = ""
    assert (
        notification_queue(
            user=family.parent, event="login_code", context={"code": "3"}, dedupe_key="login_code:c"
        )
        is None
    )


def test_a_fresh_claim_on_an_old_notification_is_not_taken_back(world: World, outbox) -> None:
    """The lease runs from the claim, not from the message's creation: a backlog row claimed
    a moment ago by a live worker is left to it."""
    family = world.family()
    with clock.frozen(clock.now() - dt.timedelta(hours=1)):
        notification = notification_queue(
            user=family.parent, event="login_code", context={"code": "4"}, dedupe_key="lc:old"
        )
    Notification.objects.filter(pk=notification.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, claimed_at=clock.now()
    )
    assert notifications_requeue_stale() == 0
    assert Notification.objects.get(pk=notification.pk).status == DeliveryStatus.SENDING
    assert outbox == []


class OverrunningBackend(MemoryBackend):
    """A send so slow that the sweeper takes the claim back meanwhile and another attempt
    (run at once by the test's ImmediateBackend) sends and records the outcome."""

    overrun = False

    def send(self, *, key: str, channel: str, address: str, subject: str, body: str) -> str:
        if not OverrunningBackend.overrun:
            OverrunningBackend.overrun = True
            assert notifications_requeue_stale(older_than=dt.timedelta(0)) == 1
        return super().send(key=key, channel=channel, address=address, subject=subject, body=body)


def test_an_attempt_that_overran_its_lease_leaves_the_outcome_to_the_takeover(
    world: World, outbox, settings
) -> None:
    family = world.family()
    notification = notification_queue(
        user=family.parent, event="login_code", context={"code": "5"}, dedupe_key="lc:slow"
    )
    OverrunningBackend.overrun = False
    settings.KATTOO_NOTIFICATIONS = {
        "BACKEND": f"{__name__}.OverrunningBackend",
        "FILE": "",
    }
    assert notification_deliver.call(str(notification.pk)) == "claim-lost"
    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.SENT and notification.attempts == 2
    assert notification.claim_id is None
    # Both attempts reached the gateway under one idempotency key: it delivers once.
    assert [m["id"] for m in outbox] == [str(notification.pk)] * 2
