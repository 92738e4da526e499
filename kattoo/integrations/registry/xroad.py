"""The registry over X-Road REST: Kattoo's Security Server in front of Tunduk.

docs/tunduk-protocol.md is the contract; ``kattoo.tunduk_sim`` implements the other side.
Three layers, each with one job:

- one exchange (``_exchange``): a fresh X-Road-Id, one GET through a shared ``httpx.Client``
  (a connection pool, timeouts from settings), the answer judged into the adapter's errors;
- a circuit (``Circuit``, pybreaker) around each exchange, shared by every client of the same
  Security Server in the process: after ``BREAKER_FAIL_MAX`` consecutive failed exchanges it
  fails fast for ``BREAKER_RESET_SECONDS``, then lets one trial through;
- retries (tenacity) around the circuit, only for transient failures of these idempotent
  reads: timeouts, connection errors, ``Server.*`` X-Road errors, a provider's 503.
  ``Client.*`` errors, 400 and 404 are final at once.

The rest of the code sees only ``RegistryUnavailable`` / ``RegistryNotFound`` /
``RegistryRejected`` and the typed records.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pybreaker
import tenacity
from django.conf import settings

from kattoo.core import clock

from .errors import RegistryNotFound, RegistryRejected, RegistryUnavailable
from .population import (
    address_record,
    birth_act_record,
    contact_record,
    family_members,
    passport_record,
    person_record,
)
from .types import (
    AddressRecord,
    Answer,
    BirthActRecord,
    ContactRecord,
    FamilyMember,
    PassportRecord,
    PersonRecord,
    RequestContext,
)

T = TypeVar("T")

logger = logging.getLogger(__name__)

# httpx logs every request URL at INFO, and our URLs carry PINs; our own line masks them.
if logging.getLogger("httpx").level == logging.NOTSET:
    logging.getLogger("httpx").setLevel(logging.WARNING)

INSTANCE = "central-server"

# service → path after /r1/central-server/ (docs/tunduk-protocol.md, "Addressing").
SERVICE_PATHS: dict[str, str] = {
    "zagsDataByPin": "GOV/70000005/zags-service/zagsDataByPin",
    "passportDataByPSN": "GOV/70000005/passport-service/passportDataByPSN",
    "asbAddress": "GOV/70000005/asb-service/asbAddress",
    "birthActByPin": "GOV/70000005/zags-service/birthActByPin",
    "family-members": "GOV/70000050/sanaripaymak-service/family-members",
    "contactsByPin": "GOV/70000005/passport-service/contactsByPin",
}

# A provider's answers that say "try again" (503 in the protocol; 429/502/504 mean the same
# wherever they come from).
_RETRIED_STATUSES = frozenset({429, 502, 503, 504})


def pin_mask(pin: str) -> str:
    """A PIN as logs may show it: first digit (sex) and last three, the rest hidden."""
    if len(pin) < 5:
        return "*" * len(pin)
    return f"{pin[0]}{'*' * (len(pin) - 4)}{pin[-3:]}"


class _Transient(RegistryUnavailable):
    """A failure worth another attempt; what is left after the last one is
    ``RegistryUnavailable``."""


@dataclass(frozen=True, slots=True)
class _Reply:
    response: httpx.Response
    xroad_id: str
    request_id: str
    request_hash: str


# -- the circuit breaker ------------------------------------------------------------------


def _replay(failure: BaseException | None) -> None:
    if failure is not None:
        raise failure


class _CircuitLog(pybreaker.CircuitBreakerListener):
    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        logger.warning(
            "tunduk circuit %s: %s -> %s",
            cb.name,
            old_state.name if old_state else "-",
            new_state.name,
        )


class Circuit:
    """A pybreaker ``CircuitBreaker`` without its one drawback for a shared breaker:
    ``CircuitBreaker.call`` holds the breaker's lock for the whole guarded call, so every
    registry request in the process would wait for the one in flight (up to a read timeout).
    Here the exchange runs outside that lock; pybreaker is then told the outcome by
    "replaying" it through ``call`` (which takes microseconds), so its counting, opening and
    closing rules stay pybreaker's own. While open, no request leaves the process; when the
    reset time has passed, one trial at a time goes through (the others keep failing fast).

    Only ``RegistryUnavailable`` counts as a failure. A NotFound or a Rejected is an answer:
    the registry is up, and pybreaker treats an excluded error as a success.
    """

    def __init__(self, *, name: str, fail_max: int, reset_timeout: float) -> None:
        self.storage = pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            exclude=[lambda exc: not isinstance(exc, RegistryUnavailable)],
            listeners=[_CircuitLog()],
            state_storage=self.storage,
            name=name,
        )
        self._trial = threading.Lock()

    @property
    def state(self) -> str:
        return str(self.breaker.current_state)

    def guard(self, exchange: Callable[[], T]) -> T:
        trial = self._admit()
        try:
            try:
                value = exchange()
            except Exception as failure:
                self._record(failure)
                raise
            self._record(None)
            return value
        finally:
            if trial:
                self._trial.release()

    def _admit(self) -> bool:
        """Fail fast while open; True when this call is the (single) trial."""
        state = self.breaker.current_state
        if state == pybreaker.STATE_CLOSED:
            return False
        if state == pybreaker.STATE_OPEN:
            opened_at = self.storage.opened_at
            reset = dt.timedelta(seconds=self.breaker.reset_timeout)
            if opened_at is not None and dt.datetime.now(dt.UTC) < opened_at + reset:
                raise RegistryUnavailable("Tunduk circuit is open: the registry failed repeatedly")
        if not self._trial.acquire(blocking=False):
            raise RegistryUnavailable("Tunduk circuit is open: a trial request is in flight")
        return True

    def _record(self, failure: Exception | None) -> None:
        try:
            self.breaker.call(_replay, failure)
        except pybreaker.CircuitBreakerError:
            # This outcome tripped the circuit, or another thread opened it meanwhile. A good
            # answer is still good; a failure stays the failure it was (the next attempt will
            # find the circuit open and stop).
            if failure is not None:
                raise failure from failure.__cause__


_circuits: dict[tuple[str, int, float], Circuit] = {}
_circuits_lock = threading.Lock()


def circuit_for(security_server: str, *, fail_max: int, reset_timeout: float) -> Circuit:
    """The process's circuit for this Security Server (and these limits)."""
    key = (security_server, fail_max, reset_timeout)
    with _circuits_lock:
        if key not in _circuits:
            _circuits[key] = Circuit(
                name=security_server, fail_max=fail_max, reset_timeout=reset_timeout
            )
        return _circuits[key]


def circuits_reset() -> None:
    """Forget every circuit (tests start each case with a closed one)."""
    with _circuits_lock:
        _circuits.clear()


# -- the client ---------------------------------------------------------------------------


class XRoadRegistry:
    """``RegistryClient`` over X-Road REST. Thread-safe; build one per process
    (``registry()`` does) so that its connection pool is shared."""

    def __init__(
        self,
        *,
        security_server: str,
        client_id: str,
        connect_timeout: float = 1.0,
        read_timeout: float = 3.0,
        retries: int = 3,
        breaker_fail_max: int = 5,
        breaker_reset_seconds: float = 30.0,
        backoff_initial: float = 0.1,
        backoff_max: float = 1.0,
        circuit: Circuit | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = tenacity.nap.sleep,
    ) -> None:
        self.security_server = security_server.rstrip("/")
        self.client_id = client_id
        self.retries = max(1, retries)
        self.circuit = circuit or circuit_for(
            self.security_server, fail_max=breaker_fail_max, reset_timeout=breaker_reset_seconds
        )
        self._http = httpx.Client(
            base_url=f"{self.security_server}/r1/{INSTANCE}/",
            headers={"X-Road-Client": client_id, "Accept": "application/json"},
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            transport=transport,
            # The Security Server is on our own network: no proxy from the environment.
            trust_env=False,
        )
        # ``sleep`` waits between attempts (tests pass one that records the schedule).
        self._retrying = tenacity.Retrying(
            sleep=sleep,
            stop=tenacity.stop_after_attempt(self.retries),
            # Exponential from ``backoff_initial`` up to ``backoff_max``, plus up to one
            # ``backoff_initial`` of jitter so that clients failed together do not retry together.
            wait=tenacity.wait_exponential(multiplier=backoff_initial, max=backoff_max)
            + tenacity.wait_random(0, backoff_initial),
            retry=tenacity.retry_if_exception_type(_Transient),
            before_sleep=self._log_retry,
            reraise=True,
        )

    @classmethod
    def from_settings(
        cls,
        config: Mapping[str, Any] | None = None,
        *,
        sleep: Callable[[float], None] = tenacity.nap.sleep,
    ) -> XRoadRegistry:
        """``config`` is KATTOO_REGISTRY (what ``registry()`` passes); the connection itself
        is KATTOO_XROAD. BACKOFF_INITIAL / BACKOFF_MAX (seconds) are optional there."""
        xroad: Mapping[str, Any] = settings.KATTOO_XROAD
        return cls(
            security_server=xroad["SECURITY_SERVER"],
            client_id=xroad["CLIENT"],
            connect_timeout=float(xroad["CONNECT_TIMEOUT"]),
            read_timeout=float(xroad["READ_TIMEOUT"]),
            retries=int(xroad["RETRIES"]),
            breaker_fail_max=int(xroad["BREAKER_FAIL_MAX"]),
            breaker_reset_seconds=float(xroad["BREAKER_RESET_SECONDS"]),
            backoff_initial=float(xroad.get("BACKOFF_INITIAL", 0.1)),
            backoff_max=float(xroad.get("BACKOFF_MAX", 1.0)),
            sleep=sleep,
        )

    def close(self) -> None:
        self._http.close()

    # -- the interface --------------------------------------------------------------------
    def person(self, pin: str, ctx: RequestContext) -> Answer[PersonRecord]:
        return self._ask("zagsDataByPin", pin, ctx, person_record)

    def address(self, pin: str, ctx: RequestContext) -> Answer[AddressRecord | None]:
        return self._ask("asbAddress", pin, ctx, address_record)

    def passport(self, pin: str, ctx: RequestContext) -> Answer[PassportRecord | None]:
        return self._ask("passportDataByPSN", pin, ctx, passport_record)

    def birth_act(self, child_pin: str, ctx: RequestContext) -> Answer[BirthActRecord]:
        return self._ask("birthActByPin", child_pin, ctx, lambda d: birth_act_record(d, child_pin))

    def family_members(self, pin: str, ctx: RequestContext) -> Answer[list[FamilyMember]]:
        return self._ask("family-members", pin, ctx, family_members)

    def contacts(self, pin: str, ctx: RequestContext) -> Answer[ContactRecord]:
        return self._ask("contactsByPin", pin, ctx, contact_record)

    # -- machinery ------------------------------------------------------------------------
    def _ask(
        self, service: str, pin: str, ctx: RequestContext, parse: Callable[[Any], T]
    ) -> Answer[T]:
        try:
            reply = self._retrying(self.circuit.guard, lambda: self._exchange(service, pin, ctx))
        except _Transient as exc:
            raise RegistryUnavailable(f"{exc} (after {self.retries} attempts)") from exc
        try:
            value = parse(reply.response.json())
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # A contract break, not an outage: neither retried nor counted by the circuit.
            logger.error(
                "tunduk %s xroad_id=%s: malformed answer: %s", service, reply.xroad_id, exc
            )
            raise RegistryUnavailable(f"{service}: malformed answer") from exc
        return Answer(
            value=value,
            xroad_id=reply.xroad_id,
            request_id=reply.request_id,
            request_hash=reply.request_hash,
            fetched_at=clock.now(),
        )

    def _exchange(self, service: str, pin: str, ctx: RequestContext) -> _Reply:
        xroad_id = str(uuid.uuid4())  # a retry is a new request with a new id
        headers = {"X-Road-Id": xroad_id}
        if ctx.user_pin:
            headers["X-Road-UserId"] = ctx.user_pin
        if ctx.issue:
            headers["X-Road-Issue"] = ctx.issue
        url = f"{SERVICE_PATHS[service]}/{quote(pin, safe='')}"
        started = time.perf_counter()
        try:
            response = self._http.get(url, headers=headers)
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
            self._log(logging.ERROR, service, pin, xroad_id, type(exc).__name__, started)
            raise RegistryRejected(f"{service}: {type(exc).__name__}: {exc}") from exc
        except httpx.TransportError as exc:  # timeouts, refused, reset, broken answers
            self._log(logging.WARNING, service, pin, xroad_id, type(exc).__name__, started)
            raise _Transient(f"{service}: {type(exc).__name__}") from exc
        status = response.status_code
        level = logging.INFO if status < 500 else logging.WARNING
        self._log(level, service, pin, xroad_id, str(status), started)
        echoed = response.headers.get("X-Road-Id")
        if echoed and echoed != xroad_id:
            logger.warning("tunduk %s: sent X-Road-Id %s, echoed %s", service, xroad_id, echoed)
        self._judge(service, pin, response)
        return _Reply(
            response=response,
            xroad_id=xroad_id,
            request_id=response.headers.get("X-Road-Request-Id", ""),
            request_hash=response.headers.get("X-Road-Request-Hash", ""),
        )

    @staticmethod
    def _judge(service: str, pin: str, response: httpx.Response) -> None:
        """Raise the adapter's error for anything but a 200 (docs/tunduk-protocol.md, Errors)."""
        status = response.status_code
        error_type = response.headers.get("X-Road-Error")
        if error_type:  # X-Road's own error: where it failed decides
            detail = f"{service}: {error_type}: {_message(response)}"
            if error_type.startswith("Client.") or (
                not error_type.startswith("Server.") and status < 500
            ):
                raise RegistryRejected(detail)
            raise _Transient(detail)
        if status == 200:
            return
        if status in (204, 404):  # family-members says "unknown PIN" with 204
            raise RegistryNotFound(f"{service}: no record for {pin_mask(pin)}")
        detail = f"{service}: HTTP {status} {_message(response)}"
        if status in _RETRIED_STATUSES:
            raise _Transient(detail)
        if 400 <= status < 500:
            raise RegistryRejected(detail)
        raise RegistryUnavailable(detail)

    @staticmethod
    def _log(
        level: int, service: str, pin: str, xroad_id: str, status: str, started: float
    ) -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.log(
            level,
            "tunduk %s pin=%s xroad_id=%s status=%s elapsed_ms=%.0f",
            service,
            pin_mask(pin),
            xroad_id,
            status,
            elapsed_ms,
            extra={"service": service, "xroad_id": xroad_id, "status": status},
        )

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        logger.warning(
            "tunduk attempt %d of %d failed, next in %.2fs: %s",
            state.attempt_number,
            self.retries,
            state.next_action.sleep if state.next_action else 0.0,
            failure,
        )


def _message(response: httpx.Response) -> str:
    """The error's own words from an X-Road or provider error body, if it has any."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        return str(body.get("code") or body.get("type") or "") + (
            f" ({body['message']})" if body.get("message") else ""
        )
    return ""
