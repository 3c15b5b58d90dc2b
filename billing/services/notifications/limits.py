"""What a flood of notifications may cost: intake limits per address and per account, and a cap on
notifications waiting for verification per account.

- Per address and per account: at most ``NOTIFICATION_ADDRESS_LIMIT`` and
  ``NOTIFICATION_ACCOUNT_LIMIT`` posts per ``NOTIFICATION_LIMIT_WINDOW_SECONDS``; past either, the
  post is answered 429 with ``Retry-After`` and not stored. MK-Auth's path names no account: its
  posts share one budget of their own (``mkauth``), so forged posts there never take an account's.
- Waiting: when an account already has ``NOTIFICATION_WAITING_CAP`` notifications received but not
  yet verified, a new one is stored (``overflow``, never processed) and answered 503 with
  ``Retry-After``: the gateway sends it again later, when real notifications are not stuck behind
  a flood.

Each admitted notification costs at most one gateway call per processing attempt, so the account
limit is also the budget of gateway calls that unverified (possibly forged) tokens can spend.
A limit of 0 turns that limit off.
"""

from __future__ import annotations

from django.conf import settings

from core import ratelimit
from core.ratelimit import Decision, Limit

#: The key under which MK-Auth's path (no account in the URL) is counted.
LEGACY_PATH_KEY = "mkauth"
#: What an allowed hit answers when every limit is off.
ALLOWED = Decision(True, 0.0)


def address_limit(address: str | None) -> Limit | None:
    """The sender's limit; None when off (a limit of 0)."""
    if settings.NOTIFICATION_ADDRESS_LIMIT <= 0:
        return None
    return Limit(
        f"notify:addr:{address or 'unknown'}",
        settings.NOTIFICATION_ADDRESS_LIMIT,
        settings.NOTIFICATION_LIMIT_WINDOW_SECONDS,
    )


def account_limit(account_key: str) -> Limit | None:
    """The account's limit (``account_key``: its primary key, or :data:`LEGACY_PATH_KEY`); None when off."""
    if settings.NOTIFICATION_ACCOUNT_LIMIT <= 0:
        return None
    return Limit(
        f"notify:account:{account_key}",
        settings.NOTIFICATION_ACCOUNT_LIMIT,
        settings.NOTIFICATION_LIMIT_WINDOW_SECONDS,
    )


def decide(*limits: Limit | None) -> Decision:
    """One post counted under every limit given that is on, in one step of the shared limiter (all
    or none: a post refused by one limit spends no other). Raises ``LimiterUnavailable`` when its
    store is down."""
    chosen = [limit for limit in limits if limit is not None]
    return ratelimit.hit_all(chosen) if chosen else ALLOWED


def waiting_retry_after() -> int:
    """What an answer over the waiting cap tells the gateway: come back after one window."""
    return settings.NOTIFICATION_LIMIT_WINDOW_SECONDS
