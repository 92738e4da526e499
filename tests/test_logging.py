from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.functional import SimpleLazyObject

from kattoo.core.logging import (
    JsonLogFormatter,
    LogContextMiddleware,
    MaskPinsFilter,
    UserIdFilter,
    mask_pins,
)
from kattoo.core.request_id import RequestIdFilter, RequestIdMiddleware

from .factories import UserFactory

ROOT = Path(__file__).resolve().parents[1]


def test_pins_are_masked() -> None:
    assert mask_pins("person 22310199070001 refreshed") == "person 2**********001 refreshed"
    assert mask_pins("phone +996700123456, id 123") == "phone +996700123456, id 123"


def test_the_filter_rewrites_records() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "login %s", ("12310199070042",), None
    )
    MaskPinsFilter().filter(record)
    assert record.getMessage() == "login 1**********042"


def _json_handler(stream: io.StringIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    for f in (RequestIdFilter(), UserIdFilter(), MaskPinsFilter()):
        handler.addFilter(f)
    handler.setFormatter(JsonLogFormatter())
    return handler


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("kattoo.test.json")
    handler = _json_handler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_the_filter_masks_extra_fields_too() -> None:
    record = logging.makeLogRecord(
        {"msg": "sync", "child": "22310199070001", "ids": [12310199070042, 7], "n": {"p": "x"}}
    )
    MaskPinsFilter().filter(record)
    assert record.child == "2**********001"
    assert record.ids == ["1**********042", 7]
    assert record.n == {"p": "x"}


def test_a_json_line_outside_a_request(json_log) -> None:
    logger, stream = json_log
    logger.warning("registry slow for %s", "22310199070001", extra={"pins": ["12310199070042"]})
    (line,) = _lines(stream)
    assert line["level"] == "WARNING"
    assert line["logger"] == "kattoo.test.json"
    assert line["message"] == "registry slow for 2**********001"
    assert line["pins"] == ["1**********042"]
    assert line["request_id"] == "-" and line["user_id"] is None
    assert dt.datetime.fromisoformat(line["timestamp"]).tzinfo is not None


def test_a_json_line_inside_a_request_has_its_id_and_user(json_log) -> None:
    logger, stream = json_log
    user = UserFactory(role="operator")

    def view(request):
        request.user = user  # as the API's bearer authentication does
        logger.info("registered", extra={"applicant": {"pin": "22310199070001"}})
        return HttpResponse("ok")

    chain = RequestIdMiddleware(LogContextMiddleware(view))
    chain(RequestFactory().get("/", HTTP_X_REQUEST_ID="req-42"))
    (line,) = _lines(stream)
    assert line["request_id"] == "req-42"
    assert line["user_id"] == user.pk
    assert line["applicant"] == {"pin": "2**********001"}


def test_a_session_user_nobody_looked_at_costs_no_query(json_log, django_assert_num_queries):
    logger, stream = json_log

    def view(request):
        request.user = SimpleLazyObject(lambda: UserFactory())
        with django_assert_num_queries(0):
            logger.info("early")
        return HttpResponse("ok")

    LogContextMiddleware(view)(RequestFactory().get("/"))
    assert _lines(stream)[0]["user_id"] is None


def test_a_pin_inside_a_traceback_is_masked(json_log) -> None:
    logger, stream = json_log
    try:
        raise ValueError("no person 22310199070001")
    except ValueError:
        logger.exception("refresh failed")
    (line,) = _lines(stream)
    assert "22310199070001" not in json.dumps(line)
    assert "2**********001" in line["exc_info"]


PRODUCTION_LOG = """
import django, logging
django.setup()
logging.getLogger("kattoo.check").info("sign-in %s", "22310199070001", extra={"ip": "10.0.0.1"})
"""


def test_production_settings_write_json_lines() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgres://u:p@127.0.0.1:1/none",
        "KATTOO_FIELD_KEYS": "a-production-key",
        "KATTOO_ALLOW_FAKE_BACKENDS": "1",
    }
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PRODUCTION_LOG], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert line["message"] == "sign-in 2**********001"
    assert line["logger"] == "kattoo.check" and line["ip"] == "10.0.0.1"
    assert {"timestamp", "level", "request_id", "user_id"} <= line.keys()
