"""granian with production-like settings against the demo database, for the reliability tests
that stop a dependency under load (PostgreSQL, Redis)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from .conftest import ROOT, DemoDatabase
from .pgcluster import free_port

TIMEOUT = 15.0  # a request slower than this is a hang (httpx.ReadTimeout fails the test)
GRANIAN = [str(Path(sys.executable).parent / "granian"), "--interface", "wsgi"]
GRANIAN += ["--host", "127.0.0.1", "--workers", "1", "--blocking-threads", "4"]


@contextmanager
def app_server(
    demo: DemoDatabase, tmp_path: Path, *, settings: str, probe: str, **env: str
) -> Iterator[httpx.Client]:
    """The server on a free port, once ``probe`` answers 200; stopped on the way out."""
    port = free_port()
    environment = {
        **demo.env,
        "DJANGO_SETTINGS_MODULE": settings,
        "DJANGO_SECRET_KEY": "reliability-tests-only",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "KATTOO_SSL_REDIRECT": "0",
        "KATTOO_LOG_FORMAT": "plain",
        **env,
    }
    log_path = tmp_path / "granian.log"
    server = subprocess.Popen(  # noqa: S603 (our own interpreter's granian and arguments)
        [*GRANIAN, "--port", str(port), "config.wsgi:application"],
        cwd=ROOT,
        env=environment,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=TIMEOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if client.get(probe).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(log_path.read_text()[-3000:])
        time.sleep(0.2)
    try:
        yield client
    finally:
        client.close()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
