"""The simulator as a WSGI application: the Security Server's REST interface for the
registry services and the ``/_admin/`` interface, exactly as docs/tunduk-protocol.md says.

One instance is shared by all server threads. Faults and counters sit behind one lock; the
population has its own (``Population``). Latency and hangs sleep outside any lock, so a
hanging request never holds up the others.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kattoo.integrations.registry.pin import pin_is_valid
from kattoo.integrations.registry.population import LoadResult, Person, Population

from . import answers
from .faults import Faults, Share, Stats

INSTANCE = "central-server"
DEFAULT_HANG_SECONDS = 10.0  # longer than any client timeout (the client's default read is 3 s)
OUTAGE_ERROR = "Server.ClientProxy.NetworkError"

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Environ = dict[str, Any]

_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class Service:
    """One provider service. ``answer`` gives what it says about a known person (None: "no
    record", unless ``null_is_not_found`` is off and null is the answer); family-members has
    no ``answer``: it is answered from the whole population."""

    name: str
    answer: Callable[[Person], Any] | None
    null_is_not_found: bool = True


# (class, member, subsystem, service) → the service. Written out again rather than shared with
# the client: two readings of the protocol page that the contract tests hold together.
SERVICES: dict[tuple[str, str, str, str], Service] = {
    ("GOV", "70000005", "zags-service", "zagsDataByPin"): Service("zagsDataByPin", answers.zags),
    ("GOV", "70000005", "passport-service", "passportDataByPSN"): Service(
        "passportDataByPSN", answers.passport, null_is_not_found=False
    ),
    ("GOV", "70000005", "asb-service", "asbAddress"): Service(
        "asbAddress", answers.address, null_is_not_found=False
    ),
    ("GOV", "70000005", "zags-service", "birthActByPin"): Service(
        "birthActByPin", answers.birth_act
    ),
    ("GOV", "70000005", "passport-service", "contactsByPin"): Service(
        "contactsByPin", answers.contacts
    ),
    ("GOV", "70000050", "sanaripaymak-service", "family-members"): Service("family-members", None),
}


def request_hash(method: str, path: str, xroad_id: str) -> str:
    """X-Road-Request-Hash: base64 of SHA-512 over ``METHOD\\nPATH\\nX-Road-Id`` (the path
    without the query). Lets the client's audit record prove which exchange it stored."""
    digest = hashlib.sha512(f"{method}\n{path}\n{xroad_id}".encode()).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    body: Any = None
    empty: bool = False
    xroad_error: str = ""


def _xroad_error(error_type: str, message: str) -> _Reply:
    status = 400 if error_type.startswith("Client.") else 500
    body = {"type": error_type, "message": message, "detail": str(uuid.uuid4())}
    return _Reply(status, body, xroad_error=error_type)


def _provider_error(status: int, code: str, message: str) -> _Reply:
    return _Reply(status, {"code": code, "message": message})


class TundukSimulator:
    """The WSGI callable. ``faults_update`` / ``stats`` and friends are the admin
    interface's operations, callable in-process too (test fixtures reset through them)."""

    def __init__(
        self,
        population: Population,
        *,
        hang_seconds: float = DEFAULT_HANG_SECONDS,
    ) -> None:
        self.population = population
        self.hang_seconds = hang_seconds
        self._lock = threading.Lock()
        self._faults = Faults()
        self._error_share = Share()
        self._provider_share = Share()
        self._stats = Stats()
        self._closing = threading.Event()

    # -- admin operations ----------------------------------------------------------------
    def faults(self) -> Faults:
        with self._lock:
            return self._faults

    def faults_update(self, changes: Mapping[str, Any]) -> Faults:
        with self._lock:
            self._faults = self._faults.updated(changes)
            self._error_share, self._provider_share = Share(), Share()
            return self._faults

    def faults_reset(self) -> Faults:
        with self._lock:
            self._faults = Faults()
            self._error_share, self._provider_share = Share(), Share()
            return self._faults

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return self._stats.as_json()

    def stats_reset(self) -> None:
        with self._lock:
            self._stats = Stats()

    def people_load(self, document: Mapping[str, Any]) -> LoadResult:
        return self.population.load(document)

    def close(self) -> None:
        """Wake hanging requests so a server can stop without waiting for them."""
        self._closing.set()

    # -- WSGI --------------------------------------------------------------------------
    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO") or "/"
        body = _read_body(environ)  # always drained: the connection may be kept alive
        if path == "/_admin" or path.startswith("/_admin/"):
            status, payload, extra = self._admin(method, path, body)
            return _respond(start_response, _Reply(status, payload), extra)
        return self._exchange(environ, method, path, start_response)

    # -- the Security Server -----------------------------------------------------------
    def _exchange(
        self, environ: Environ, method: str, path: str, start_response: StartResponse
    ) -> Iterable[bytes]:
        xroad_id = environ.get("HTTP_X_ROAD_ID") or str(uuid.uuid4())
        headers = [
            ("X-Road-Id", xroad_id),
            ("X-Road-Request-Id", str(uuid.uuid4())),
            ("X-Road-Request-Hash", request_hash(method, path, xroad_id)),
        ]
        service, pin = _route(method, path)
        with self._lock:
            faults = self._faults
            hit = faults.applies_to(service.name if service else None)
            inject_error = hit and self._error_share.pick(faults.error_rate)
            inject_provider = (
                hit
                and service is not None
                and self._provider_share.pick(faults.provider_error_rate)
            )
            # Counted where it arrived: a request that hangs past a stats reset must not
            # turn up in the fresh counters when it finally answers.
            stats = self._stats
            stats.arrived(service.name if service else None)
        if hit:
            delay_ms = faults.latency_ms + random.uniform(0, faults.jitter_ms)  # noqa: S311
            if delay_ms:
                time.sleep(delay_ms / 1000)
            if faults.hang:
                self._closing.wait(self.hang_seconds)

        if hit and faults.outage:
            reply = _xroad_error(OUTAGE_ERROR, "the Security Server cannot reach Tunduk")
        elif service is None or pin is None:
            reply = _xroad_error("Client.BadRequest.InvalidPath", f"no service at {method} {path}")
        elif not _client_id_valid(environ.get("HTTP_X_ROAD_CLIENT", "")):
            reply = _xroad_error(
                "Client.BadRequest.MissingHeader",
                f"X-Road-Client {INSTANCE}/CLASS/MEMBER/SUBSYSTEM is required",
            )
        elif inject_error:
            reply = _xroad_error(faults.error_type, "injected fault")
        elif inject_provider:
            reply = _provider_error(503, "SERVICE_UNAVAILABLE", "the registry is busy")
        else:
            reply = self._provide(service, pin)

        with self._lock:
            stats.answered(reply.status, failed=bool(reply.xroad_error) or reply.status >= 500)
        return _respond(start_response, reply, headers)

    def _provide(self, service: Service, pin: str) -> _Reply:
        if not pin_is_valid(pin):
            return _provider_error(
                400, "INVALID_PIN", "a PIN is 14 digits: sex, birth date DDMMYYYY, sequence"
            )
        person = self.population.person(pin)
        if service.answer is None:  # family-members
            if person is None:
                return _Reply(204, empty=True)
            return _Reply(200, answers.family_members(self.population, pin))
        if person is None:
            return _provider_error(404, "NOT_FOUND", "no record for this PIN")
        answer = service.answer(person)
        if answer is None and service.null_is_not_found:
            return _provider_error(404, "NOT_FOUND", "no record for this PIN")
        return _Reply(200, answer)

    # -- /_admin/ ----------------------------------------------------------------------
    def _admin(self, method: str, path: str, body: bytes) -> tuple[int, Any, list[tuple[str, str]]]:
        allowed = {
            "/_admin/health": ("GET",),
            "/_admin/faults": ("GET", "PUT", "DELETE"),
            "/_admin/stats": ("GET", "DELETE"),
            "/_admin/people": ("POST",),
        }.get(path.rstrip("/"))
        if allowed is None:
            return 404, {"error": f"no admin resource {path}"}, []
        if method not in allowed:
            return 405, {"error": f"{method} not allowed"}, [("Allow", ", ".join(allowed))]
        resource = path.rstrip("/").rsplit("/", 1)[1]
        if resource == "health":
            return 200, {"status": "ok", "people": len(self.population)}, []
        if resource == "stats":
            if method == "DELETE":
                self.stats_reset()
            return 200, self.stats(), []
        try:
            document = json.loads(body) if method in ("PUT", "POST") else None
            if resource == "faults":
                if method == "PUT":
                    if not isinstance(document, dict):
                        raise ValueError("the faults are a JSON object")
                    faults = self.faults_update(document)
                elif method == "DELETE":
                    faults = self.faults_reset()
                else:
                    faults = self.faults()
                return 200, faults.as_json(), []
            if not isinstance(document, dict):
                raise ValueError("a population document is a JSON object")
            result = self.people_load(document)
        except ValueError as exc:  # also json.JSONDecodeError
            return 400, {"error": str(exc)}, []
        return (
            200,
            {
                "added": result.added,
                "replaced": result.replaced,
                "wards": result.wards,
                "people": len(self.population),
            },
            [],
        )


def _route(method: str, path: str) -> tuple[Service | None, str | None]:
    """``/r1/central-server/CLASS/MEMBER/SUBSYSTEM/SERVICE/{pin}`` → (service, pin)."""
    parts = path.split("/")
    # ["", "r1", instance, class, member, subsystem, service, pin]
    if len(parts) < 7 or parts[1] != "r1" or parts[2] != INSTANCE:
        return None, None
    service = SERVICES.get((parts[3], parts[4], parts[5], parts[6]))
    if service is None or method != "GET" or len(parts) != 8 or not parts[7]:
        return service, None
    return service, parts[7]


def _client_id_valid(value: str) -> bool:
    parts = value.strip().split("/")
    return len(parts) == 4 and parts[0] == INSTANCE and all(parts)


def _read_body(environ: Environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _respond(
    start_response: StartResponse, reply: _Reply, headers: list[tuple[str, str]]
) -> list[bytes]:
    headers = list(headers)
    if reply.xroad_error:
        headers.append(("X-Road-Error", reply.xroad_error))
    if reply.empty:
        start_response(f"{reply.status} {_REASONS[reply.status]}", headers)
        return []
    payload = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
    headers += [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Content-Length", str(len(payload))),
    ]
    start_response(f"{reply.status} {_REASONS[reply.status]}", headers)
    return [payload]


def make_app(
    population: Population | Mapping[str, Any] | None = None,
    *,
    hang_seconds: float = DEFAULT_HANG_SECONDS,
) -> TundukSimulator:
    """The simulator over a population (a ``Population`` or a kattoo-population/1 document)."""
    if not isinstance(population, Population):
        population = Population(population)
    return TundukSimulator(population, hang_seconds=hang_seconds)
