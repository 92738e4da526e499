"""Reliability tests: the Tunduk simulator over real HTTP behind the real X-Road client
(short timeouts, so each fault costs a fraction of a second)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from kattoo.integrations.registry.client import registry_override
from kattoo.integrations.registry.xroad import XRoadRegistry, circuits_reset
from kattoo.tunduk_sim.server import RunningSimulator

from ..integrations.registry.conftest import XROAD_TEST
from ..tunduk_sim import support

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
