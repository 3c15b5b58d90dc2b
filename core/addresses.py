"""Whether a URL's host is one only this machine or its private network can reach. Pure Python (no
Django): the settings use it to refuse a production that would talk to a simulator."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_local_host(host: str) -> bool:
    """True for ``localhost`` (and ``*.localhost``) and for loopback, private, link-local, reserved or
    unspecified addresses. A host name other than localhost is not resolved: it counts as public."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if not host:
        return True
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


def url_host(url: str) -> str:
    """The host of ``url`` ("" when it has none or cannot be parsed)."""
    try:
        return urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""


def is_local_url(url: str) -> bool:
    """True when ``url`` has no host or its host is local (see :func:`is_local_host`)."""
    return is_local_host(url_host(url))
