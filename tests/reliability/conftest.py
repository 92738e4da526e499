"""Reliability tests: the Tunduk simulator over real HTTP behind the real X-Road client
(short timeouts, so each fault costs a fraction of a second), and a PostgreSQL cluster of the
tests' own holding the demo, for restarts, kills and restores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache

from kattoo.integrations.registry.client import registry_override
from kattoo.integrations.registry.xroad import XRoadRegistry, circuits_reset
from kattoo.tunduk_sim.server import RunningSimulator

from ..integrations.registry.conftest import XROAD_TEST
from ..tunduk_sim import support
from . import pgcluster
from .pgcluster import TempCluster

ROOT = Path(__file__).resolve().parent.parent.parent

cast = support.cast
simulator_server = support.simulator_server
simulator = support.simulator


@pytest.fixture
def tunduk(settings: Any, simulator: RunningSimulator) -> Iterator[RunningSimulator]:
    """The application's registry is the X-Road client talking to the simulator; circuits
    start closed and sign-in limits start at zero."""
    circuits_reset()
    cache.clear()
    settings.KATTOO_XROAD = {**XROAD_TEST, "SECURITY_SERVER": simulator.url}
    client = XRoadRegistry.from_settings({})
    with registry_override(client):
        yield simulator
    client.close()
    circuits_reset()
    cache.clear()


@dataclass
class DemoDatabase:
    """A throwaway cluster holding the migrated demo (``load_demo --country curated``), and the
    environment that points subprocesses (server, scripts, commands) at it."""

    cluster: TempCluster
    url: str
    env: dict[str, str]
    pins: list[str]

    def manage(self, *args: str) -> str:
        done = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return done.stdout


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoDatabase]:
    if not pgcluster.available():
        pytest.skip("no PostgreSQL server binaries for a cluster of the test's own")
    var = tmp_path_factory.mktemp("reliability-var")
    with TempCluster() as cluster:
        url = cluster.createdb("kattoo")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "0",
            "DATABASE_URL": url,
            "KATTOO_VAR_DIR": str(var),
            "KATTOO_FIELD_KEYS": "reliability-tests-only-key",
        }
        demo = DemoDatabase(cluster=cluster, url=url, env=env, pins=[])
        demo.manage("migrate", "--noinput", "-v0")
        demo.manage("load_demo", "--country", "curated")
        demo.manage("audit_seal")
        catalog = json.loads((ROOT / "kattoo/demo/data/catalog.json").read_text())
        demo.pins = [person["pin"] for person in catalog["demo"]["people"]]
        yield demo
