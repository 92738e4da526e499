"""The X-Road client under registry faults, injected by the simulator over real HTTP:
timeouts, X-Road errors, outages, slow answers, retries, the circuit breaker. Timeouts are
0.25 s and backoff 10–50 ms here (conftest), so each case takes a fraction of a second;
nothing is timed: retries and backoff are asserted by the recorded attempt schedule."""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid

import httpx
import pytest

from kattoo.integrations.registry.errors import (
    RegistryNotFound,
    RegistryRejected,
    RegistryUnavailable,
)
from kattoo.integrations.registry.types import RequestContext
from kattoo.integrations.registry.xroad import SERVICE_PATHS, XRoadRegistry, pin_mask
from kattoo.tunduk_sim.app import request_hash
from kattoo.tunduk_sim.server import RunningSimulator

from ...tunduk_sim.support import CLIENT_ID, Cast, SimulatorTime
from .conftest import RetrySleeps, XRoadFactory

CTX = RequestContext(user_pin="KG22310199070001", issue="APP-17")
UNKNOWN_PIN = "22310199099999"


def requests(simulator: RunningSimulator) -> int:
    return int(simulator.app.stats()["requests"])


class Recording(httpx.HTTPTransport):
    """The real transport, noting what was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return super().handle_request(request)


# -- what is sent and kept --------------------------------------------------------------


def test_headers_sent_and_ids_kept(simulator: RunningSimulator, cast: Cast) -> None:
    transport = Recording()
    client = XRoadRegistry(security_server=simulator.url, client_id=CLIENT_ID, transport=transport)
    try:
        answer = client.person(cast.mother["pin"], CTX)
    finally:
        client.close()
    (sent,) = transport.sent
    assert sent.headers["X-Road-Client"] == CLIENT_ID
    assert sent.headers["X-Road-UserId"] == "KG22310199070001"
    assert sent.headers["X-Road-Issue"] == "APP-17"
    assert sent.headers["X-Road-Id"] == answer.xroad_id
    assert uuid.UUID(answer.xroad_id).version == 4 and uuid.UUID(answer.request_id)
    path = f"/r1/central-server/{SERVICE_PATHS['zagsDataByPin']}/{cast.mother['pin']}"
    assert sent.url.path == path
    assert answer.request_hash == request_hash("GET", path, answer.xroad_id)


def test_without_a_user_or_case_those_headers_are_left_out(simulator, cast) -> None:
    transport = Recording()
    client = XRoadRegistry(security_server=simulator.url, client_id=CLIENT_ID, transport=transport)
    try:
        client.contacts(cast.mother["pin"], RequestContext())
    finally:
        client.close()
    assert "X-Road-UserId" not in transport.sent[0].headers
    assert "X-Road-Issue" not in transport.sent[0].headers


def test_each_call_is_logged_with_the_pin_masked(xroad, cast, caplog) -> None:
    pin = cast.mother["pin"]
    with caplog.at_level(logging.INFO, logger="kattoo.integrations.registry.xroad"):
        answer = xroad.passport(pin, CTX)
    (record,) = [r for r in caplog.records if r.name == "kattoo.integrations.registry.xroad"]
    message = record.getMessage()
    assert "passportDataByPSN" in message and answer.xroad_id in message
    assert "status=200" in message and "elapsed_ms=" in message
    assert pin_mask(pin) in message and pin not in message
    assert pin_mask(pin) == pin[0] + "*" * 10 + pin[-3:]
    assert all(pin not in r.getMessage() for r in caplog.records)


# -- transient failures: retried, then RegistryUnavailable -------------------------------


def test_a_hang_times_out_and_is_retried(
    xroad_factory: XRoadFactory, simulator, cast, retry_sleeps: RetrySleeps
) -> None:
    client = xroad_factory(RETRIES=2)
    simulator.app.faults_update({"hang": True})
    with pytest.raises(RegistryUnavailable, match="ReadTimeout"):
        client.person(cast.mother["pin"], CTX)
    # The client's read timeout ended each of the two attempts (the hang outlasts it), with
    # one short backoff between them: 10 ms and up to 10 ms of jitter.
    assert requests(simulator) == 2
    [wait] = retry_sleeps
    assert 0.01 <= wait <= 0.02


def test_x_road_server_errors_are_retried_then_unavailable(
    xroad, simulator, cast, retry_sleeps: RetrySleeps
) -> None:
    simulator.app.faults_update(
        {"error_rate": 1.0, "error_type": "Server.ServerProxy.DatabaseError"}
    )
    with pytest.raises(RegistryUnavailable, match=r"Server\.ServerProxy\.DatabaseError") as exc:
        xroad.person(cast.mother["pin"], CTX)
    assert "after 3 attempts" in str(exc.value)
    assert simulator.app.stats()["requests"] == 3 and simulator.app.stats()["errors"] == 3
    # Exponential backoff between the attempts (10 ms, 20 ms) plus up to 10 ms of jitter.
    first, second = retry_sleeps
    assert 0.01 <= first <= 0.02 and 0.02 <= second <= 0.03


def test_an_outage_is_unavailable(xroad, simulator, cast) -> None:
    simulator.app.faults_update({"outage": True})
    with pytest.raises(RegistryUnavailable, match=r"Server\.ClientProxy\.NetworkError"):
        xroad.family_members(cast.mother["pin"], CTX)
    assert requests(simulator) == 3


def test_a_refused_connection_is_retried_then_unavailable(
    xroad_factory: XRoadFactory, cast, caplog
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = xroad_factory(SECURITY_SERVER=f"http://127.0.0.1:{port}")
    with (
        caplog.at_level(logging.WARNING, logger="kattoo.integrations.registry.xroad"),
        pytest.raises(RegistryUnavailable, match="ConnectError"),
    ):
        client.person(cast.mother["pin"], CTX)
    assert sum("status=ConnectError" in r.getMessage() for r in caplog.records) == 3


def test_slow_answers_within_the_timeout_are_fine(
    xroad, simulator, cast, simulator_time: SimulatorTime, retry_sleeps: RetrySleeps
) -> None:
    simulator_time.real = True  # the answer is really held back 120 ms
    simulator.app.faults_update({"latency_ms": 120})
    assert xroad.person(cast.mother["pin"], CTX).value.pin == cast.mother["pin"]
    assert simulator_time.sleeps == [0.12]
    assert requests(simulator) == 1 and retry_sleeps == []


def test_intermittent_x_road_errors_succeed_on_retry(simulator, cast) -> None:
    transport = Recording()
    client = XRoadRegistry(
        security_server=simulator.url,
        client_id=CLIENT_ID,
        backoff_initial=0.01,
        transport=transport,
    )
    simulator.app.faults_update({"error_rate": 0.5})  # the 1st, 3rd, … request fails
    try:
        answer = client.address(cast.mother["pin"], CTX)
    finally:
        client.close()
    assert answer.value is not None
    stats = simulator.app.stats()
    assert stats["requests"] == 2 and stats["errors"] == 1
    assert stats["by_status"] == {"500": 1, "200": 1}
    first, second = (r.headers["X-Road-Id"] for r in transport.sent)
    assert first != second and answer.xroad_id == second  # a retry is a new request


def test_a_busy_provider_is_retried(xroad, simulator, cast) -> None:
    simulator.app.faults_update({"provider_error_rate": 0.5, "services": ["birthActByPin"]})
    assert xroad.birth_act(cast.twins[0]["pin"], CTX).value.mother_pin == cast.mother["pin"]
    assert simulator.app.stats()["by_status"] == {"503": 1, "200": 1}


# -- final answers: never retried -------------------------------------------------------


@pytest.mark.parametrize("error_type", ["Client.InternalError", "Client.BadRequest.InvalidPath"])
def test_client_errors_are_rejected_at_once(xroad, simulator, cast, error_type: str) -> None:
    simulator.app.faults_update({"error_rate": 1.0, "error_type": error_type})
    with pytest.raises(RegistryRejected, match=error_type):
        xroad.person(cast.mother["pin"], CTX)
    assert requests(simulator) == 1


def test_a_missing_client_header_is_rejected_at_once(xroad_factory, simulator, cast) -> None:
    client = xroad_factory(CLIENT="")
    with pytest.raises(RegistryRejected, match="MissingHeader"):
        client.person(cast.mother["pin"], CTX)
    assert requests(simulator) == 1


def test_invalid_pin_and_not_found_are_not_retried(xroad, simulator) -> None:
    with pytest.raises(RegistryRejected, match="INVALID_PIN"):
        xroad.person("1234", CTX)
    with pytest.raises(RegistryNotFound):
        xroad.person(UNKNOWN_PIN, CTX)
    with pytest.raises(RegistryNotFound):
        xroad.family_members(UNKNOWN_PIN, CTX)  # the provider's 204
    assert requests(simulator) == 3


# -- the circuit breaker ----------------------------------------------------------------


def test_breaker_opens_fails_fast_and_closes_after_the_reset_time(
    xroad_factory: XRoadFactory, simulator, cast, retry_sleeps: RetrySleeps
) -> None:
    client = xroad_factory(BREAKER_FAIL_MAX=2, BREAKER_RESET_SECONDS=0.3)
    pin = cast.mother["pin"]
    simulator.app.faults_update({"outage": True})
    with pytest.raises(RegistryUnavailable):
        client.person(pin, CTX)
    # The 2nd failed attempt tripped it; the 3rd attempt did not leave the process.
    assert requests(simulator) == 2 and client.circuit.state == "open"

    waits = list(retry_sleeps)
    for method in (client.person, client.address, client.family_members):
        with pytest.raises(RegistryUnavailable, match="circuit is open"):
            method(pin, CTX)
    # Refused at once: no request left the process and no backoff was waited.
    assert retry_sleeps == waits
    assert requests(simulator) == 2

    simulator.app.faults_reset()
    with pytest.raises(RegistryUnavailable, match="circuit is open"):
        client.person(pin, CTX)  # healthy again, but the reset time has not passed
    time.sleep(0.35)
    assert client.person(pin, CTX).value.pin == pin  # the trial call closes it
    assert client.circuit.state == "closed" and requests(simulator) == 3


def test_a_failed_trial_opens_the_breaker_again(xroad_factory, simulator, cast) -> None:
    client = xroad_factory(BREAKER_FAIL_MAX=1, BREAKER_RESET_SECONDS=0.2)
    simulator.app.faults_update({"outage": True})
    with pytest.raises(RegistryUnavailable):
        client.person(cast.mother["pin"], CTX)
    assert requests(simulator) == 1
    time.sleep(0.25)
    with pytest.raises(RegistryUnavailable):
        client.person(cast.mother["pin"], CTX)  # one trial request, then open again
    assert requests(simulator) == 2 and client.circuit.state == "open"


def test_not_found_does_not_count_as_a_failure(xroad_factory, simulator, cast) -> None:
    client = xroad_factory(BREAKER_FAIL_MAX=2, RETRIES=1)
    for _ in range(5):
        with pytest.raises(RegistryNotFound):
            client.person(UNKNOWN_PIN, CTX)
    simulator.app.faults_update({"outage": True, "services": ["zagsDataByPin"]})
    for _ in range(3):  # failure, an answer (resets the count), failure: still closed
        with pytest.raises(RegistryUnavailable):
            client.person(cast.mother["pin"], CTX)
        with pytest.raises(RegistryNotFound):
            client.birth_act(cast.mother["pin"], CTX)
    assert client.circuit.state == "closed"
    assert requests(simulator) == 11


def test_clients_of_one_security_server_share_the_breaker(xroad_factory, simulator, cast) -> None:
    first = xroad_factory(BREAKER_FAIL_MAX=1)
    second = xroad_factory(BREAKER_FAIL_MAX=1)
    assert first.circuit is second.circuit
    simulator.app.faults_update({"outage": True})
    with pytest.raises(RegistryUnavailable):
        first.person(cast.mother["pin"], CTX)
    with pytest.raises(RegistryUnavailable, match="circuit is open"):
        second.person(cast.mother["pin"], CTX)
    assert requests(simulator) == 1


def test_concurrent_calls_are_not_serialised_by_the_breaker(
    xroad_factory: XRoadFactory, simulator, cast, simulator_time: SimulatorTime
) -> None:
    """pybreaker's own ``call`` would hold its lock across the request; ours does not. Each
    request waits in the simulator until all eight are in flight at once: serialised by a
    lock, the barrier would break and the calls fail."""
    xroad = xroad_factory(READ_TIMEOUT=30)
    simulator_time.barrier = threading.Barrier(8, timeout=10)
    simulator.app.faults_update({"latency_ms": 150})
    errors: list[Exception] = []

    def ask() -> None:
        try:
            xroad.person(cast.mother["pin"], CTX)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and not simulator_time.barrier.broken
    assert requests(simulator) == 8
