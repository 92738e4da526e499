"""The daily integrity check (ADR 0026): the references without a database constraint are
checked by anti-join; an orphan written with raw SQL is found, logged, and fails the command."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from kattoo.audit.models import AuditEvent, AuditSeal
from kattoo.core import clock
from kattoo.enrollment.integrity import integrity_orphans, unconstrained_references
from kattoo.enrollment.models import Application, ApplicationTransition, IdempotencyRecord
from kattoo.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_the_hot_rows_references_are_the_unconstrained_ones() -> None:
    """Exactly the references the opening minute's statement writes, and a seal's event (a
    deleted sealed event must leave its link behind, ADR 0039: the check names it too)."""
    found = {(f.model, f.name) for f in unconstrained_references()}
    assert found == {
        (Application, "campaign"),
        (Application, "child"),
        (Application, "applicant"),
        (Application, "user"),
        (Application, "school"),
        (Application, "pool"),
        (ApplicationTransition, "application"),
        (ApplicationTransition, "actor"),
        (AuditEvent, "actor"),
        (Notification, "user"),
        (IdempotencyRecord, "user"),
        (AuditSeal, "event"),
    }


def test_a_clean_database_passes(world) -> None:
    world.family()
    assert integrity_orphans() == []
    out = StringIO()
    call_command("integrity_check", stdout=out)
    assert "ok" in out.getvalue()


def test_an_orphan_written_with_raw_sql_is_found_and_fails_the_command(world, caplog) -> None:
    missing = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO enrollment_applicationtransition "
            "(application_id, from_status, to_status, at, reason, reason_code) "
            "VALUES (%s, '', 'registered', %s, '', '')",
            [missing.hex if connection.vendor == "sqlite" else missing, clock.now()],
        )
        cursor.execute(
            "INSERT INTO enrollment_idempotencyrecord "
            "(user_id, key, request_hash, status_code, response, created_at) "
            "VALUES (987654321, 'k', 'h', 201, '{}', %s)",
            [clock.now()],
        )
    found = {(o.table, o.column): o for o in integrity_orphans()}
    assert set(found) == {
        ("enrollment_applicationtransition", "application_id"),
        ("enrollment_idempotencyrecord", "user_id"),
    }
    transition = found[("enrollment_applicationtransition", "application_id")]
    assert transition.count == 1 and transition.target == "enrollment_application"
    assert transition.sample[0][1].replace("-", "") == missing.hex
    assert found[("enrollment_idempotencyrecord", "user_id")].sample[0][1] == "987654321"
    assert "name a missing" in caplog.text
    err = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("integrity_check", stderr=err)
    assert failed.value.returncode == 1
    assert "enrollment_applicationtransition.application_id" in err.getvalue()
