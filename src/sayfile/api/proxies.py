"""Reverse proxies in front of sayfile (SAYFILE_TRUSTED_PROXIES): which request headers they
set are believed, and what those say about the client and the host it asked for."""

from __future__ import annotations

import ipaddress

from fastapi import Request

from sayfile.settings import Settings

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(request: Request) -> list[_Network]:
    settings: Settings = request.app.state.settings
    return [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]


def _within(value: str, networks: list[_Network]) -> bool:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _peer(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def client_address(request: Request) -> str:
    """The client's address: the TCP peer, unless the peer is a trusted proxy; then the
    right-most address in X-Forwarded-For that no trusted proxy added."""
    networks = _networks(request)
    address = _peer(request)
    if networks and _within(address, networks):
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            address = hop
            if not _within(hop, networks):
                break
    return address


def forwarded_hosts(request: Request) -> list[str]:
    """The hosts X-Forwarded-Host names (the Host the browser sent, before a proxy rewrote
    it), when a trusted proxy sent the request; from anyone else the header means nothing."""
    networks = _networks(request)
    if not (networks and _within(_peer(request), networks)):
        return []
    forwarded = request.headers.get("x-forwarded-host", "")
    return [host.strip() for host in forwarded.split(",") if host.strip()]
