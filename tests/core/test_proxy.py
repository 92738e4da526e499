"""The client's address behind nginx (kattoo/core/proxy.py): X-Forwarded-For is believed only
from a trusted proxy, and only as far as our own proxies appended it."""

from __future__ import annotations

import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from kattoo.core.proxy import TrustedProxyMiddleware, client_address, networks

LOOPBACK = networks(["127.0.0.1/32", "::1/128"])
WITH_BALANCER = networks(["127.0.0.1/32", "10.0.0.0/8"])


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        # nginx on the same machine appended the client's address.
        ("127.0.0.1", "203.0.113.7", LOOPBACK, "203.0.113.7"),
        # The client's own header is ignored: nginx appended the real address last.
        ("127.0.0.1", "198.51.100.1, 203.0.113.7", LOOPBACK, "203.0.113.7"),
        # Not from a trusted proxy: the header is whatever the caller wrote.
        ("203.0.113.9", "198.51.100.1", LOOPBACK, "203.0.113.9"),
        # Balancer -> nginx -> app: both trusted, the client is the first untrusted hop.
        ("127.0.0.1", "198.51.100.1, 203.0.113.7, 10.1.2.3", WITH_BALANCER, "203.0.113.7"),
        # Garbage in the chain stops the walk at the last believable address.
        ("127.0.0.1", "not-an-ip, 10.1.2.3", WITH_BALANCER, "10.1.2.3"),
        ("::1", "2001:db8::5", LOOPBACK, "2001:db8::5"),
    ],
)
def test_client_address(remote: str, forwarded: str, trusted: tuple, expected: str) -> None:
    assert client_address(remote, forwarded, trusted) == expected


def seen(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.META["REMOTE_ADDR"])


def test_middleware_sets_remote_addr_from_a_trusted_proxy(settings: object) -> None:
    settings.KATTOO_TRUSTED_PROXIES = ["127.0.0.1/32"]  # type: ignore[attr-defined]
    middleware = TrustedProxyMiddleware(seen)
    factory = RequestFactory()
    relayed = factory.get("/", HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="127.0.0.1")
    assert middleware(relayed).content == b"203.0.113.7"
    direct = factory.get("/", REMOTE_ADDR="127.0.0.1")
    assert middleware(direct).content == b"127.0.0.1"
    spoofed = factory.get("/", HTTP_X_FORWARDED_FOR="10.0.0.1", REMOTE_ADDR="203.0.113.9")
    assert middleware(spoofed).content == b"203.0.113.9"


def test_middleware_is_off_without_trusted_proxies(settings: object) -> None:
    settings.KATTOO_TRUSTED_PROXIES = []  # type: ignore[attr-defined]
    with pytest.raises(MiddlewareNotUsed):
        TrustedProxyMiddleware(seen)
