"""Registry tests: the simulator over real HTTP and X-Road clients configured for it with
short timeouts, so fault tests take fractions of a second."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kattoo.integrations.registry.xroad import XRoadRegistry, circuits_reset
from kattoo.tunduk_sim.server import RunningSimulator

from ...tunduk_sim import support
from ...tunduk_sim.support import CLIENT_ID

# The simulator fixtures, shared with tests/tunduk_sim (conftests are per directory).
cast = support.cast
simulator_server = support.simulator_server
simulator = support.simulator
simulator_time = support.simulator_time

XROAD_TEST = {
    "CLIENT": CLIENT_ID,
    "CONNECT_TIMEOUT": 0.25,
    "READ_TIMEOUT": 0.25,
    "RETRIES": 3,
    "BREAKER_FAIL_MAX": 5,
    "BREAKER_RESET_SECONDS": 0.3,
    "BACKOFF_INITIAL": 0.01,
    "BACKOFF_MAX": 0.05,
}

XRoadFactory = Callable[..., XRoadRegistry]


class RetrySleeps(list[float]):
    """The waits between attempts the clients asked for, in order (then really waited):
    the backoff schedule, asserted instead of a stopwatch."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(seconds)


@pytest.fixture
def retry_sleeps() -> RetrySleeps:
    return RetrySleeps()


@pytest.fixture
def xroad_factory(
    settings: Any, simulator: RunningSimulator, retry_sleeps: RetrySleeps
) -> Iterator[XRoadFactory]:
    """Build clients from settings (as ``registry()`` does) with KATTOO_XROAD overrides;
    each test starts with closed circuits. Their waits between attempts are recorded in
    ``retry_sleeps``."""
    made: list[XRoadRegistry] = []
    circuits_reset()

    def build(**overrides: Any) -> XRoadRegistry:
        settings.KATTOO_XROAD = {**XROAD_TEST, "SECURITY_SERVER": simulator.url, **overrides}
        client = XRoadRegistry.from_settings({}, sleep=retry_sleeps)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()
    circuits_reset()


@pytest.fixture
def xroad(xroad_factory: XRoadFactory) -> XRoadRegistry:
    return xroad_factory()
