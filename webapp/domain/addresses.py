"""Client addresses as rate limits count them."""

from __future__ import annotations

import ipaddress


def address_key(ip: str | None) -> str | None:
    """What a per-address limit counts: the address, or its /64 for IPv6 (one home or
    one phone gets a whole /64, so counting single IPv6 addresses would count nothing)."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:45]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
