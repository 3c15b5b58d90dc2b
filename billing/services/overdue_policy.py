"""The overdue policy as pure rules: when a subscriber's service is blocked, and the trust unblock.

No database here: the daily pass (billing.services.service_status) applies the same rules to every
customer at once in SQL, and the tests hold both to these functions.

- A charge still open ``days`` days after its due date blocks the customer from the next day on:
  due on the 10th with 15 days, blocked from the 26th. ``days`` is the customer's own figure when
  staff set one, else the provider's (default 15); 0 means never blocked for debt.
- A trust unblock (*desbloqueio de confiança*) gives the service back for ``days`` calendar days
  counting the day it is asked for (default 3: asked on Monday, blocked again on Thursday), once per
  billing cycle: the month of the oldest overdue charge. A second one for the same debt is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

DEFAULT_BLOCK_AFTER_DAYS = 15
DEFAULT_TRUST_UNBLOCK_DAYS = 3
NEVER = 0


def block_after_days(*, customer_days: int | None, provider_days: int) -> int:
    """The customer's own figure when set (0 included: never), else the provider's."""
    return provider_days if customer_days is None else customer_days


def last_tolerated_due_date(*, today: dt.date, days: int) -> dt.date | None:
    """Charges due on or before this date, still open, block the customer today; None: never."""
    if days <= NEVER:
        return None
    return today - dt.timedelta(days=days + 1)


def is_past_limit(*, due_date: dt.date, today: dt.date, days: int) -> bool:
    """True when an open charge due on ``due_date`` blocks the customer on ``today``."""
    limit = last_tolerated_due_date(today=today, days=days)
    return limit is not None and due_date <= limit


def blocked_from(*, due_date: dt.date, days: int) -> dt.date | None:
    """The first day an open charge due on ``due_date`` blocks the customer; None: never."""
    if days <= NEVER:
        return None
    return due_date + dt.timedelta(days=days + 1)


def billing_cycle(oldest_overdue_due_date: dt.date) -> dt.date:
    """The cycle a trust unblock is counted in: the first day of the oldest overdue charge's month."""
    return oldest_overdue_due_date.replace(day=1)


def trust_last_day(*, today: dt.date, days: int) -> dt.date:
    """The last day of service a trust unblock asked for on ``today`` gives."""
    return today + dt.timedelta(days=max(days, 1) - 1)


def trust_is_valid(*, last_day: dt.date | None, today: dt.date) -> bool:
    return last_day is not None and today <= last_day


@dataclass(frozen=True)
class Refusal:
    """Why a trust unblock was refused: ``code`` for programs, ``message`` for the subscriber."""

    code: str
    message: StrOrPromise


NOT_BLOCKED = "not_blocked"
NOT_FOR_DEBT = "not_for_debt"
ALREADY_USED = "already_used"
DISABLED = "disabled"
NOTHING_OVERDUE = "nothing_overdue"


def trust_refusal(
    *,
    status_is_blocked: bool,
    blocked_for_debt: bool,
    trust_days: int,
    oldest_overdue_due_date: dt.date | None,
    used_in_cycle_on: dt.date | None,
) -> Refusal | None:
    """None when a trust unblock may be granted now; else the reason it may not.

    ``used_in_cycle_on``: the day a trust unblock was already granted for the same billing cycle.
    """
    if trust_days <= NEVER:
        return Refusal(DISABLED, _("The provider does not offer trust unblocks."))
    if not status_is_blocked:
        return Refusal(NOT_BLOCKED, _("The service is not blocked."))
    if not blocked_for_debt:
        return Refusal(
            NOT_FOR_DEBT, _("The service was blocked by the provider's staff: please contact them.")
        )
    if oldest_overdue_due_date is None:
        return Refusal(NOTHING_OVERDUE, _("Nothing is overdue: the service will be unblocked shortly."))
    if used_in_cycle_on is not None:
        return Refusal(
            ALREADY_USED,
            _("A trust unblock was already used for this billing cycle, on %(date)s.")
            % {"date": used_in_cycle_on.strftime("%d/%m/%Y")},
        )
    return None
