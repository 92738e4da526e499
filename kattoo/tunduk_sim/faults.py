"""The faults the simulator injects on request and the counters it keeps
(``/_admin/faults``, ``/_admin/stats`` in docs/tunduk-protocol.md).

Neither class locks: the application holds one lock around both, so that a request sees one
consistent fault setting and is counted exactly once.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SERVICE_NAMES = frozenset(
    {
        "zagsDataByPin",
        "passportDataByPSN",
        "asbAddress",
        "birthActByPin",
        "family-members",
        "contactsByPin",
    }
)

X_ROAD_ERROR_TYPES = frozenset(
    {
        "Client.BadRequest.MissingHeader",
        "Client.BadRequest.InvalidPath",
        "Client.InternalError",
        "Server.ServerProxy.NetworkError",
        "Server.ServerProxy.ServiceFailed",
        "Server.ClientProxy.NetworkError",
        "Server.ServerProxy.DatabaseError",
    }
)


@dataclass(frozen=True, slots=True)
class Faults:
    latency_ms: int = 0
    jitter_ms: int = 0
    error_rate: float = 0.0
    error_type: str = "Server.ServerProxy.NetworkError"
    provider_error_rate: float = 0.0
    outage: bool = False
    hang: bool = False
    services: frozenset[str] | None = None

    def applies_to(self, service: str | None) -> bool:
        """``services`` narrows the faults; a request to no known service is hit only when
        the faults are for every service (an outage takes the whole Security Server down)."""
        return self.services is None or service in self.services

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["services"] = sorted(self.services) if self.services is not None else None
        return data

    def updated(self, changes: Mapping[str, Any]) -> Faults:
        """These faults with ``changes`` applied; ValueError names the first bad key, so a
        typo in a benchmark's fault plan fails loudly instead of injecting nothing."""
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key in ("latency_ms", "jitter_ms"):
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise ValueError(f"{key} is a whole number of milliseconds, 0 or more")
            elif key in ("error_rate", "provider_error_rate"):
                if not isinstance(value, int | float) or isinstance(value, bool):
                    raise ValueError(f"{key} is a number from 0 to 1")
                if not 0 <= value <= 1:
                    raise ValueError(f"{key} is a number from 0 to 1")
                value = float(value)
            elif key == "error_type":
                if value not in X_ROAD_ERROR_TYPES:
                    raise ValueError(f"error_type is one of {sorted(X_ROAD_ERROR_TYPES)}")
            elif key in ("outage", "hang"):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} is true or false")
            elif key == "services":
                if value is not None:
                    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                        raise ValueError("services is a list of service names or null")
                    unknown = set(value) - SERVICE_NAMES
                    if unknown:
                        raise ValueError(f"unknown services: {sorted(unknown)}")
                    value = frozenset(value)
            else:
                raise ValueError(f"unknown fault {key!r}")
            values[key] = value
        return dataclasses.replace(self, **values)


class Share:
    """Picks an exact share of requests, spread evenly and reproducibly: of the first n
    requests, ceil(rate × n) are picked. Rate 0.5 picks the 1st, 3rd, 5th…; 0.1 picks the
    1st, 11th, 21st…. Random draws would make "a failure, then a successful retry" a matter
    of luck in tests and make benchmark runs incomparable."""

    __slots__ = ("picked", "seen")

    def __init__(self) -> None:
        self.seen = 0
        self.picked = 0

    def pick(self, rate: float) -> bool:
        if rate <= 0:
            return False
        self.seen += 1
        # round() keeps 0.7 × 10 = 7.000000000000001 from asking for an 8th pick.
        if self.picked < math.ceil(round(rate * self.seen, 9)):
            self.picked += 1
            return True
        return False


class Stats:
    """X-Road traffic only (the admin interface is not counted). ``errors`` counts answers
    where the exchange failed: X-Road's own errors and the provider's 5xx; a 404 for an
    unknown PIN is an answer, not an error (``by_status`` shows it)."""

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.by_service: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()

    def arrived(self, service: str | None) -> None:
        self.requests += 1
        if service is not None:
            self.by_service[service] += 1

    def answered(self, status: int, *, failed: bool) -> None:
        self.by_status[str(status)] += 1
        if failed:
            self.errors += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_service": dict(self.by_service),
            "errors": self.errors,
            "by_status": dict(self.by_status),
        }
