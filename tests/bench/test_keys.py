"""bench/sqlpath.py makes the application's and the SMS's keys as the app does (UUIDv7 in
arrival order, ADR 0040), and bench/keys.py's history and random keys are well-formed SQL."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection

from bench import keys
from bench.sqlpath import _REQUEST_ID, _UUID7, args_table_sql


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the bench's SQL is PostgreSQL's")
def test_the_benchs_keys_are_version_7_in_arrival_order() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t.n, {_UUID7} FROM generate_series(1, 300) AS t(n) ORDER BY t.n")
        made = [(n, uuid.UUID(str(key))) for n, key in cursor.fetchall()]
    assert all(k.version == 7 and k.variant == uuid.RFC_4122 for _n, k in made)
    assert [k for _n, k in made] == sorted((k for _n, k in made), key=lambda k: k.bytes)
    assert len({k for _n, k in made}) == len(made)


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the bench's SQL is PostgreSQL's")
def test_the_benchs_request_ids_are_nginxs_in_arrival_order() -> None:
    """ADR 0041: as deploy/nginx/kattoo.conf makes them (and kattoo/core/request_id.py)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_REQUEST_ID}, extract(epoch FROM now())::float8"
            " FROM generate_series(1, 300) AS t(n) ORDER BY t.n"
        )
        rows = cursor.fetchall()
    made = [rid for rid, _now in rows]
    assert all(re.fullmatch(r"[0-9]{10}\.[0-9]{3}-[0-9a-f]{32}", rid) for rid in made)
    assert made == sorted(made) and len(set(made)) == len(made)
    assert abs(float(made[0].split("-")[0]) - rows[0][1]) < 1


def test_bench_args_use_them_and_the_client_keys_stay_random() -> None:
    select = args_table_sql()[1]
    assert select.count(_UUID7) == 2 and "gen_random_uuid() AS key" in select
    assert select.count(_REQUEST_ID) == 1
    assert "SET id = gen_random_uuid(), note_id = gen_random_uuid()" in keys.RANDOM_KEYS
    # Each variant undoes one more step: the request ids (ADR 0041), then the keys (ADR 0040).
    assert keys.VARIANTS["time-ordered"] == []
    assert keys.VARIANTS["random request ids"] == [keys.RANDOM_REQUEST_IDS]
    assert keys.VARIANTS["random"] == [keys.RANDOM_REQUEST_IDS, keys.RANDOM_KEYS]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the bench's SQL is PostgreSQL's")
def test_the_history_fits_the_apps_tables() -> None:
    """A small history inserts into the app's own tables (in the test's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(keys.HISTORY.format(applications=20, events=30))
        cursor.execute(
            "SELECT (SELECT count(*) FROM enrollment_application WHERE campaign_id = -1),"
            " (SELECT count(*) FROM enrollment_applicationtransition),"
            " (SELECT count(*) FROM notifications_notification),"
            " (SELECT count(*) FROM audit_auditevent)"
        )
        assert cursor.fetchone() == (20, 20, 20, 30)
