"""The registry interface every implementation (in-process fake, X-Road REST, later SOAP)
provides, and the one function the rest of the code uses to get it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, cast

from django.conf import settings
from django.utils.module_loading import import_string

from .errors import RegistryUnavailable
from .health import registry_failure_mark, registry_success_mark
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


class RegistryClient(Protocol):
    def person(self, pin: str, ctx: RequestContext) -> Answer[PersonRecord]: ...

    def address(self, pin: str, ctx: RequestContext) -> Answer[AddressRecord | None]: ...

    def passport(self, pin: str, ctx: RequestContext) -> Answer[PassportRecord | None]: ...

    def birth_act(self, child_pin: str, ctx: RequestContext) -> Answer[BirthActRecord]: ...

    def family_members(self, pin: str, ctx: RequestContext) -> Answer[list[FamilyMember]]: ...

    def contacts(self, pin: str, ctx: RequestContext) -> Answer[ContactRecord]: ...


_lock = threading.Lock()
_instance: RegistryClient | None = None
_override: RegistryClient | None = None


SERVICES = frozenset({"person", "address", "passport", "birth_act", "family_members", "contacts"})


class _HealthTracked:
    """Every registry call, whatever the implementation, tells the status page whether Tunduk
    answered (health.py): the one place that knows, instead of each caller."""

    def __init__(self, inner: RegistryClient) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name not in SERVICES:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                answer = attribute(*args, **kwargs)
            except RegistryUnavailable:
                registry_failure_mark()
                raise
            registry_success_mark()
            return answer

        return call


def registry() -> RegistryClient:
    """The configured registry client (settings.KATTOO_REGISTRY), built once."""
    global _instance
    if _override is not None:
        return cast(RegistryClient, _HealthTracked(_override))
    if _instance is None:
        with _lock:
            if _instance is None:
                config = settings.KATTOO_REGISTRY
                _instance = import_string(config["BACKEND"]).from_settings(config)
    return cast(RegistryClient, _HealthTracked(_instance))


@contextmanager
def registry_override(client: RegistryClient) -> Iterator[RegistryClient]:
    """Use ``client`` instead of the configured registry (tests, demo commands)."""
    global _override
    previous, _override = _override, client
    try:
        yield client
    finally:
        _override = previous


def registry_reset() -> None:
    global _instance
    with _lock:
        _instance = None
