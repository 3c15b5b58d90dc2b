"""Per bank account request rate, shared by every worker, counted by the one limiter (core.ratelimit).

Each account gets ``BankAccount.requests_per_second`` calls per second: at most ``floor(rate)`` calls
in any one-second interval (one call per ``1 / rate`` seconds when the rate is below one). The limiter
is atomic on Redis (every machine shares the budget) and on the file cache of the embedded default
(the processes of one machine share it); see core/ratelimit.py.

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
from django.utils.translation import gettext as _

from core import ratelimit as limiter
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


def try_acquire(account_id: int, per_second: Decimal | float) -> float:
    """Take one slot of this account if it has one: 0.0, else the seconds until one frees."""
    length, allowed = window_for(per_second)
    try:
        decision = limiter.hit(f"gateway-account:{account_id}", limit=allowed, window=length)
    except limiter.LimiterUnavailable as exc:
        raise GatewayUnavailable(
            _("The rate limiter's store is unreachable; nothing was sent, retrying later."), maybe_sent=False
        ) from exc
    return 0.0 if decision.allowed else decision.retry_after


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
        # A little jitter so the waiting callers do not all ask again at the same instant.
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
