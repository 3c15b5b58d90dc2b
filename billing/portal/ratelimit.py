"""A fixed-window request counter per client address, kept in Django's default cache."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest

WINDOW_SECONDS = 60


def client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client wants it to be unless a trusted
    # proxy rewrites REMOTE_ADDR (the deployment's job), so it is not read here.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def over_limit(request: HttpRequest, *, scope: str, limit: int) -> bool:
    """Count this request; True once the address made more than ``limit`` requests this minute."""
    window = int(time.time() // WINDOW_SECONDS)
    key = f"ratelimit:{scope}:{client_address(request)}:{window}"
    # add() creates the counter only if absent; incr() is atomic on Redis/Memcached and good
    # enough on the file cache (a lost increment lets one extra request through).
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    return count > limit
