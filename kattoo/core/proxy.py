"""The client's address behind a reverse proxy.

Behind nginx every request reaches the application from nginx's own address, so whatever
keys on ``REMOTE_ADDR`` — the sign-in codes' per-address limit, the address written into the
audit of a staff sign-in — would see one client for the whole country. nginx appends the
address it saw to ``X-Forwarded-For`` (deploy/nginx/kattoo.conf); this middleware believes
that header only when the request came from a trusted proxy (``KATTOO_TRUSTED_PROXIES``,
networks), and then takes the right-most address that is not itself a trusted proxy: a
client can prepend whatever it likes, it cannot change what our own proxies appended.

The header stays on the request, so ``/metrics`` still treats a relayed call as a relayed one
(kattoo.core.metrics.scraper_allowed).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(values: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def client_address(remote: str, forwarded_for: str, trusted: tuple[Network, ...]) -> str:
    """The address of the client: ``remote`` unless it is a trusted proxy, in which case the
    right-most address of ``forwarded_for`` that is not a trusted proxy (a malformed entry
    stops the walk: what lies left of it cannot be believed)."""
    if not _trusted(remote, trusted):
        return remote
    address = remote
    for entry in reversed([e.strip() for e in forwarded_for.split(",") if e.strip()]):
        try:
            ipaddress.ip_address(entry)
        except ValueError:
            break
        address = entry
        if not _trusted(entry, trusted):
            break
    return address


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


class TrustedProxyMiddleware:
    """Sets ``REMOTE_ADDR`` to the client's address when a trusted proxy relayed the request;
    not loaded when ``KATTOO_TRUSTED_PROXIES`` is empty."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted = networks(getattr(settings, "KATTOO_TRUSTED_PROXIES", ()))
        if not self.trusted:
            raise MiddlewareNotUsed

    def __call__(self, request: HttpRequest) -> HttpResponse:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            remote = request.META.get("REMOTE_ADDR", "")
            request.META["REMOTE_ADDR"] = client_address(remote, forwarded, self.trusted)
        return self.get_response(request)
