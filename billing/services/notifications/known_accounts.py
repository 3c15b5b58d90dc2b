"""The accounts the notification intake has just seen, remembered by each web process for a moment.

A gateway posts its notifications in bursts to one URL, and the account that URL names (with the
count of its notifications waiting for verification) is the one database read the intake would
otherwise repeat on every post. Each process keeps what it read for
``NOTIFICATION_ACCOUNT_CACHE_SECONDS`` (0 turns the memory off):

- The account itself: a change saved in this process is seen at once (saving or deleting an account
  forgets it); one saved elsewhere, after at most that many seconds. A Mycontas password changed in
  the admin is thus checked by every process within those seconds.
- The waiting count: the count read then, plus the notifications this process admitted since. Other
  processes' admissions are not in it, so the cap may be passed by what they admit during those
  seconds; a refusal is never decided on the estimate: at the cap the count is read again first.

Unknown URLs are not remembered: each costs a read, after the sender's limit.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from billing.selectors.notifications import account_with_waiting, unaddressed_waiting
from providers.models import BankAccount


@dataclass
class Known:
    """One URL's account (None for MK-Auth's path, which names none) and its waiting estimate."""

    account: BankAccount | None
    counted: int  # notifications waiting when read
    admitted: int  # admitted by this process since
    expires: float  # on _clock

    @property
    def waiting(self) -> int:
        return self.counted + self.admitted


#: The clock of the memory's expiry (tests move it).
_clock = time.monotonic
_lock = threading.Lock()
#: By (gateway, public id): a gateway always reads its accounts with or without secrets alike.
_known: dict[tuple[str, str | None], Known] = {}


def remembered(gateway: str, public_id: str | None) -> Known | None:
    """What this process remembers of the URL, without reading the database; None when nothing."""
    key = (gateway, public_id)
    with _lock:
        known = _known.get(key)
        if known is not None and known.expires <= _clock():
            del _known[key]
            return None
        return known


def look_up(gateway: str, public_id: str | None, *, cap: int, with_secrets: bool) -> Known | None:
    """Read the URL's account and its waiting count (one statement) and remember them; None when no
    account matches ``public_id``. ``public_id`` None is MK-Auth's path: no account, its own count."""
    if public_id is None:
        known = Known(None, unaddressed_waiting(gateway, cap=cap) if cap > 0 else 0, 0, 0.0)
    else:
        account = account_with_waiting(gateway, public_id, cap=cap, with_secrets=with_secrets)
        if account is None:
            return None
        known = Known(account, getattr(account, "waiting", 0), 0, 0.0)
    seconds = settings.NOTIFICATION_ACCOUNT_CACHE_SECONDS
    if seconds > 0:
        known.expires = _clock() + seconds
        with _lock:
            _known[(gateway, public_id)] = known
    return known


def admitted(known: Known) -> None:
    """One more notification of this URL stored to wait for verification by this process."""
    with _lock:
        known.admitted += 1


def forget(public_id: str | None = None) -> None:
    """Forget one URL's account (under every gateway), or everything."""
    with _lock:
        if public_id is None:
            _known.clear()
            return
        for key in [key for key in _known if key[1] == public_id]:
            del _known[key]


def forget_saved_account(sender: type[BankAccount], instance: BankAccount, **kwargs: object) -> None:
    """``post_save`` and ``post_delete`` of a bank account: this process reads it again."""
    forget(instance.public_id)
