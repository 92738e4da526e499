"""Issue 13, item 10: the development server's access log (runserver, logger
``django.server``) masks the PINs in request lines like every other log line."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

from kattoo.core.logging import MaskPinsFilter, mask_pins

PIN = "22310199070001"


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def configured_handler() -> logging.StreamHandler[Any]:
    """runserver's access-log handler as LOGGING configures it (pytest adds its own)."""
    (handler,) = [
        h
        for h in logging.getLogger("django.server").handlers
        if isinstance(h, logging.StreamHandler)
        and h.formatter is not None
        and type(h.formatter).__name__ == "ServerFormatter"
    ]
    return handler


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    handler = configured_handler()
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def test_the_access_log_handler_masks_pins() -> None:
    handler = configured_handler()
    assert any(isinstance(f, MaskPinsFilter) for f in handler.filters)
    assert logging.getLogger("django.server").propagate is False


def test_a_request_with_a_pin_is_logged_masked(access_log: io.StringIO) -> None:
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        answer = httpx.get(f"http://{host}:{port}/login/?pin={PIN}&next=/{PIN}/", trust_env=False)
        assert answer.status_code == 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    line = access_log.getvalue()
    assert "GET /login/?pin=" in line and " 200 " in line
    assert PIN not in line
    assert mask_pins(PIN) in line
