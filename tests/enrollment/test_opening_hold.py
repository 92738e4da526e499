"""Autovacuum held off the registration's tables around a stage's opening, and given back after
(ADR 0062): the window comes from the active campaign's stage times, the hold is the three
thresholds of each hot table, and every change is audited."""

from __future__ import annotations

import datetime as dt
import uuid
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from kattoo.audit.models import AuditEvent
from kattoo.campaigns.models import Campaign
from kattoo.core import clock
from kattoo.enrollment.opening_hold import (
    HELD_OPTIONS,
    HELD_THRESHOLD,
    before,
    current_opening,
    held_tables,
    hot_tables,
    opening_hold,
    the_hold_can_alter_the_tables,
)
from tests.conftest import STAGE1, STAGE2

MINUTE = dt.timedelta(minutes=1)


def options_of(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class"
            " WHERE relnamespace = current_schema()::regnamespace AND relname = %s",
            [table],
        )
        (options,) = cursor.fetchone()
    return dict(option.split("=", 1) for option in options or [])


@pytest.mark.parametrize(
    ("moment", "stage"),
    [
        (STAGE1 - dt.timedelta(minutes=71), None),
        (STAGE1 - dt.timedelta(minutes=70), 1),
        (STAGE1, 1),
        (STAGE1 + dt.timedelta(minutes=29), 1),
        (STAGE1 + dt.timedelta(minutes=30), None),
        (STAGE2 - MINUTE, 2),
        (STAGE2 + dt.timedelta(minutes=29, seconds=59), 2),
        (STAGE2 + dt.timedelta(hours=1), None),
    ],
)
def test_the_window_runs_from_a_connections_lifetime_before_a_stage_to_the_minutes_after_it(
    campaign: Campaign, moment: dt.datetime, stage: int | None
) -> None:
    opening = current_opening(moment)
    assert (opening.stage if opening else None) == stage
    if opening:
        assert opening.campaign == campaign.code
        assert opening.until - opening.at == dt.timedelta(minutes=30)


def test_the_hold_starts_before_any_connection_the_opening_uses_was_opened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plan the hold's ALTER TABLE invalidates is made again without the guard of a
    connection's first executions (ADR 0037), so the hold comes before the pool's connections
    of the opening: psycopg_pool's lifetime (an hour unless the pool says) and ten minutes."""
    assert before() == dt.timedelta(minutes=70)
    default = settings.DATABASES["default"]
    pool = {"min_size": 2, "max_size": 16, "max_lifetime": 1800.0}
    monkeypatch.setitem(default, "OPTIONS", {**default.get("OPTIONS", {}), "pool": pool})
    assert before() == dt.timedelta(minutes=40)


def test_the_window_follows_the_campaigns_own_times_and_the_setting(campaign: Campaign) -> None:
    moved = STAGE1 + dt.timedelta(days=2, hours=3)
    Campaign.objects.filter(pk=campaign.pk).update(stage1_starts_at=moved)
    assert current_opening(STAGE1) is None
    assert current_opening(moved + dt.timedelta(minutes=5)).stage == 1  # type: ignore[union-attr]
    with override_settings(KATTOO_OPENING_HOLD={"AFTER_MINUTES": 90}):
        assert current_opening(moved + dt.timedelta(minutes=80)) is not None
    with override_settings(KATTOO_OPENING_HOLD={"AFTER_MINUTES": 0}):
        assert current_opening(moved) is None
    Campaign.objects.filter(pk=campaign.pk).update(is_active=False)
    assert current_opening(moved) is None


def test_the_tables_held_are_those_a_registration_writes() -> None:
    assert set(hot_tables()) == {
        "enrollment_application",
        "enrollment_applicationtransition",
        "enrollment_draft",
        "enrollment_idempotencyrecord",
        "enrollment_seatpool",
        "audit_auditevent",
        "notifications_notification",
    }


@pytest.mark.postgres
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's autovacuum")
def test_inside_the_window_the_thresholds_are_held_and_outside_given_back(
    campaign: Campaign,
) -> None:
    # Another option of a hot table is the deployment's own and stays.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE enrollment_seatpool SET (fillfactor = 90)")
    assert held_tables() == []

    with clock.frozen(STAGE1 - dt.timedelta(minutes=5)):
        hold = opening_hold()
    assert hold.state == "held"
    assert hold.opening is not None and hold.opening.stage == 1
    assert sorted(hold.changed) == sorted(hot_tables())
    for table in hot_tables():
        options = options_of(table)
        assert {o: options.get(o) for o in HELD_OPTIONS} == dict.fromkeys(
            HELD_OPTIONS, str(HELD_THRESHOLD)
        )
    assert options_of("enrollment_seatpool")["fillfactor"] == "90"
    held = AuditEvent.objects.get(action="database.autovacuum_held")
    assert held.data["stage"] == 1 and held.data["campaign"] == campaign.code
    assert sorted(held.data["tables"]) == sorted(hot_tables())
    assert held.channel == "system"

    # Every minute of the window: nothing to change, nothing audited.
    with clock.frozen(STAGE1 + dt.timedelta(minutes=3)):
        again = opening_hold()
    assert again.state == "held" and again.changed == []
    assert AuditEvent.objects.filter(action__startswith="database.autovacuum").count() == 1

    with clock.frozen(STAGE1 + dt.timedelta(minutes=30)):
        released = opening_hold()
    assert released.state == "released"
    assert sorted(released.changed) == sorted(hot_tables())
    for table in hot_tables():
        assert not set(HELD_OPTIONS) & set(options_of(table))
    assert options_of("enrollment_seatpool") == {"fillfactor": "90"}
    assert AuditEvent.objects.filter(action="database.autovacuum_released").count() == 1

    with clock.frozen(STAGE1 + dt.timedelta(minutes=31)):
        assert opening_hold().changed == []


@pytest.mark.postgres
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's autovacuum")
def test_a_table_the_operator_tuned_is_not_taken_for_held(campaign: Campaign) -> None:
    """Only this module's own values count as held: an operator's threshold is left alone
    outside the window."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent SET (autovacuum_analyze_threshold = 5000)")
    with clock.frozen(STAGE1 - dt.timedelta(hours=3)):
        assert opening_hold().changed == []
    assert options_of("audit_auditevent") == {"autovacuum_analyze_threshold": "5000"}


@pytest.mark.postgres
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's autovacuum")
def test_the_command_says_what_it_did(campaign: Campaign) -> None:
    out = StringIO()
    with clock.frozen(STAGE1 - dt.timedelta(minutes=2)):
        call_command("opening_hold", stdout=out)
        call_command("opening_hold", stdout=out)
    with clock.frozen(STAGE1 + dt.timedelta(hours=2)):
        call_command("opening_hold", stdout=out)
    first, second, third = out.getvalue().splitlines()
    assert first.startswith(f"opening hold: held (campaign {campaign.code}, stage 1 opens ")
    assert "enrollment_application" in first
    assert second.endswith(": nothing changed")
    assert third.startswith("opening hold: released: ") and "audit_auditevent" in third


@pytest.mark.skipif("connection.vendor == 'postgresql'", reason="SQLite has no autovacuum")
def test_on_sqlite_there_is_nothing_to_hold(campaign: Campaign) -> None:
    out = StringIO()
    with clock.frozen(STAGE1):
        call_command("opening_hold", stdout=out)
    assert "nothing to do" in out.getvalue()
    assert not AuditEvent.objects.filter(action__startswith="database.autovacuum").exists()


@pytest.mark.postgres
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's roles")
def test_the_deployment_check_names_the_tables_the_apps_role_cannot_alter() -> None:
    """``check --deploy`` the evening before: the app's role owns the tables (it migrates), so
    nothing; a role that does not is told which tables the hold would fail on."""
    assert the_hold_can_alter_the_tables(databases=["default"]) == []
    stranger = f"kattoo_hold_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {stranger}")
        cursor.execute(f"SET ROLE {stranger}")
        try:
            (warning,) = the_hold_can_alter_the_tables(databases=["default"])
        finally:
            cursor.execute("RESET ROLE")
    assert warning.id == "kattoo.W109"
    assert all(table in warning.msg for table in hot_tables())
