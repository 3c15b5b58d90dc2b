"""How an outbound event is signed, and how a receiver checks it. Pure Python, no Django.

Each request carries ``X-Cobranca-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is
HMAC-SHA256, keyed with the endpoint's secret, over ``<t>.`` followed by the exact request body.
Signing the timestamp with the body lets a receiver refuse a replayed request: the signature of an
old body cannot be moved onto a fresh timestamp. docs/collection-cycle.md shows a receiver's check.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Cobranca-Signature"
EVENT_ID_HEADER = "X-Cobranca-Event-Id"
EVENT_TYPE_HEADER = "X-Cobranca-Event"
SCHEME = "v1"
#: What a receiver should accept between our clock and theirs (and the network in between).
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The header value for ``body`` signed now (or at ``timestamp``)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return f"t={stamp},{SCHEME}={signature(secret, stamp, body)}"


def verify(
    secret: str,
    body: bytes,
    header: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its timestamp is recent enough."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        stamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance:
        return False
    expected = signature(secret, stamp, body)
    return any(hmac.compare_digest(expected, given) for given in fields.get(SCHEME, []))
