"""Per bank account request rate, shared by every worker: a fixed-window counter in the cache.

Each account gets ``BankAccount.requests_per_second`` calls per window. A window is one second
(or ``1 / rate`` seconds when the rate is below one, with one call in it). The counter lives in
Django's default cache. On Redis (``CACHE_URL=redis://...``, the setting to use when workers run on
several machines) it is bumped with ``INCR`` and ``EXPIRE`` in one pipelined round trip (``INCR`` is
atomic; Django's own ``add`` + ``incr`` take three). Other caches use ``add`` + ``incr``: the file
cache of the embedded default is shared by the processes of one machine only, and its ``incr`` is a
read-then-write, so under heavy contention it may let a few calls too many through; it is a budget
for one machine, not a guarantee.

A fixed window allows a burst of up to twice the rate across a window boundary; gateways tolerate
that, and it costs one cache round trip per call instead of a lock.

The wait happens with no database lock held: :func:`rate_limited` wraps the adapter that
``gateway_for`` builds, and the services call the gateway only between their short transactions.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import gettext as _

from gateways.base import GatewayUnavailable

logger = logging.getLogger(__name__)

#: Adapter methods that reach the gateway over the network (parse_notification does not).
NETWORK_METHODS = frozenset(
    {
        "issue",
        "cancel",
        "fetch_payment",
        "find_charges",
        "look_up",
        "list_due",
        "list_paid_charges",
        "fetch_balance",
    }
)


class RateLimited(GatewayUnavailable):
    """No slot within the allowed wait: nothing was sent, retry later."""

    def __init__(self, message: str) -> None:
        super().__init__(message, maybe_sent=False)


def window_for(per_second: Decimal | float) -> tuple[float, int]:
    """(window length in seconds, calls allowed in one window) for a rate in calls per second."""
    rate = float(per_second)
    if rate <= 0:
        raise ValueError("requests_per_second must be positive")
    if rate >= 1:
        return 1.0, int(math.floor(rate))
    return 1.0 / rate, 1


def count_call(key: str, timeout: int) -> int:
    """Add one to the window's counter (created with ``timeout``) and return the new count.

    Django's cache API has no increment-with-expiry, so on Redis this takes the backend's own client
    (``RedisCache._cache``, a private attribute; tests/billing/test_ratelimit.py pins it).
    """
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        redis_key = backend.make_and_validate_key(key)
        pipe = backend._cache.get_client(redis_key, write=True).pipeline(transaction=False)
        pipe.incr(redis_key)
        pipe.expire(redis_key, timeout)  # each window has its own key: it expires after its last use
        return int(pipe.execute()[0])
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: a fresh window
        cache.add(key, 1, timeout=timeout)
        return 1


def try_acquire(account_id: int, per_second: Decimal | float, *, now: float | None = None) -> float:
    """Take one slot if the current window has one: 0.0, else the seconds until the next window."""
    length, allowed = window_for(per_second)
    now = time.time() if now is None else now
    window = int(now // length)
    key = f"ratelimit:account:{account_id}:{window}"
    timeout = int(math.ceil(length)) + 2
    used = count_call(key, timeout)
    if used <= allowed:
        return 0.0
    return (window + 1) * length - now


def acquire(
    account_id: int,
    per_second: Decimal | float,
    *,
    max_wait: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Wait for a slot of this account; return the seconds waited. Raise :class:`RateLimited`."""
    max_wait = settings.GATEWAY_RATE_LIMIT_MAX_WAIT_SECONDS if max_wait is None else max_wait
    waited = 0.0
    while True:
        delay = try_acquire(account_id, per_second)
        if delay <= 0:
            return waited
        # A little jitter so the waiting callers do not all hit the next window's first instant.
        delay += random.uniform(0, min(0.05, delay))
        if waited + delay > max_wait:
            raise RateLimited(
                _("Request rate limit of this bank account reached (%(rate)s per second); retrying later.")
                % {"rate": per_second}
            )
        sleep(delay)
        waited += delay


class RateLimitedGateway:
    """A gateway adapter whose network calls each take one slot of the account's rate first."""

    def __init__(self, adapter: Any, *, account_id: int, per_second: Decimal | float) -> None:
        self._adapter = adapter
        self._account_id = account_id
        self._per_second = per_second

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._adapter, name)
        if name not in NETWORK_METHODS or not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            acquire(self._account_id, self._per_second)
            return attribute(*args, **kwargs)

        return call


def rate_limited(adapter: Any, *, account_id: int | None, per_second: Decimal | float | None) -> Any:
    """``adapter`` limited to ``per_second`` calls per second for this account (shared by workers)."""
    if account_id is None or not per_second:
        return adapter
    return RateLimitedGateway(adapter, account_id=account_id, per_second=per_second)
