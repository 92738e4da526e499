"""``JSONText``: a JSON document kept as its text (ADR 0064). Python sees the parsed value,
as with ``JSONField``; the database keeps the text as written, byte for byte."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.core import serializers
from django.db import connection

from kattoo.core import clock
from kattoo.enrollment.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def record(world, response):
    return IdempotencyRecord.objects.create(
        user=world.family().parent,
        key=str(uuid.uuid4()),
        request_hash="h",
        status_code=201,
        response=response,
        created_at=clock.now(),
    )


def stored_text(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT response FROM enrollment_idempotencyrecord WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_a_value_is_written_as_django_encodes_it_and_read_back_parsed(world) -> None:
    at = dt.datetime(2027, 4, 1, 4, 0, 0, 123456, tzinfo=dt.UTC)
    body = {"id": "x", "child_name": "Айгерим", "position": 3, "at": at, "history": [{"a": 1}]}
    row = record(world, body)
    assert json.loads(stored_text(row.pk)) == {**body, "at": "2027-04-01T04:00:00.123Z"}
    again = IdempotencyRecord.objects.get(pk=row.pk)
    assert again.response == {**body, "at": "2027-04-01T04:00:00.123Z"}


def test_the_text_written_by_sql_is_kept_byte_for_byte(world) -> None:
    """The opening minute's statement writes the text it answers with: spacing and escapes are
    not normalized as ``jsonb`` would."""
    row = record(world, {})
    text = '{"b": 1,  "a": "\\u0410", "position": 7}'
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE enrollment_idempotencyrecord SET response = %s WHERE id = %s", [text, row.pk]
        )
    assert stored_text(row.pk) == text
    assert IdempotencyRecord.objects.get(pk=row.pk).response == {"b": 1, "a": "А", "position": 7}


def test_a_record_survives_dumpdata_and_loaddata(world) -> None:
    row = record(world, {"position": 2, "names": ["Асан", 'a "quoted" one']})
    dumped = serializers.serialize("json", [row])
    IdempotencyRecord.objects.all().delete()
    for obj in serializers.deserialize("json", dumped):
        obj.save()
    assert IdempotencyRecord.objects.get(pk=row.pk).response == {
        "position": 2,
        "names": ["Асан", 'a "quoted" one'],
    }
