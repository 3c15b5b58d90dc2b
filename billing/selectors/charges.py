"""Which charges staff have to act on: the ones still to settle, the overdue ones and how late.

One definition each, used by the admin's lists and filters (charges and customers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min, Q
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from billing.models import OPEN_STATES, Charge, ChargeState
from billing.selectors.attention import needs_attention

S = ChargeState

#: Not settled yet: still to be sent, at the gateway waiting for payment, or needing staff. Paid,
#: cancelled and refunded charges are settled. A state added later counts as settled until it is
#: listed here.
UNSETTLED_STATES = (S.PENDING, S.ISSUING, S.ISSUED, S.UNKNOWN, S.FAILED, S.CANCEL_REQUESTED)


@dataclass(frozen=True)
class LateBucket:
    """Charges late by ``first`` to ``last`` days (``last`` None: no upper bound)."""

    key: str
    label: StrOrPromise
    first: int
    last: int | None


LATE_BUCKETS = (
    LateBucket("1-7", _("1 to 7 days"), 1, 7),
    LateBucket("8-15", _("8 to 15 days"), 8, 15),
    LateBucket("16-30", _("16 to 30 days"), 16, 30),
    LateBucket("31-60", _("31 to 60 days"), 31, 60),
    LateBucket("61+", _("more than 60 days"), 61, None),
)


def unsettled_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}state__in": UNSETTLED_STATES})


def overdue_q(*, today: dt.date, prefix: str = "") -> Q:
    """Payable at the gateway and past its due date (contra-apresentação boletos are never late).

    ``prefix`` reaches the charge from another model (``"charges__"`` from a customer).
    """
    return Q(
        **{
            f"{prefix}state__in": OPEN_STATES,
            f"{prefix}due_date__lt": today,
            f"{prefix}bank_account__contra_apresentacao": False,
        }
    )


def late_bucket_q(bucket: LateBucket, *, today: dt.date, prefix: str = "") -> Q:
    """Overdue by ``bucket.first`` to ``bucket.last`` days."""
    q = overdue_q(today=today, prefix=prefix) & Q(
        **{f"{prefix}due_date__lte": today - dt.timedelta(days=bucket.first)}
    )
    if bucket.last is not None:
        q &= Q(**{f"{prefix}due_date__gte": today - dt.timedelta(days=bucket.last)})
    return q


def days_late(*, due_date: dt.date, today: dt.date) -> int:
    return max(0, (today - due_date).days)


@dataclass(frozen=True)
class CustomerBilling:
    """Where a customer stands, as their page says it first."""

    unsettled: int
    overdue: int
    oldest_overdue: dt.date | None
    attention: int

    def days_late(self, today: dt.date) -> int:
        return days_late(due_date=self.oldest_overdue, today=today) if self.oldest_overdue else 0


def customer_billing(*, customer_id: int, today: dt.date) -> CustomerBilling:
    """The customer's charges not settled yet, overdue (and the oldest due date), and needing staff,
    counted in one query with the same definitions as the lists' filters."""
    overdue = overdue_q(today=today)
    figures = Charge.objects.filter(customer_id=customer_id).aggregate(
        unsettled=Count("pk", filter=unsettled_q()),
        overdue=Count("pk", filter=overdue),
        oldest_overdue=Min("due_date", filter=overdue),
        attention=Count("pk", filter=needs_attention()),
    )
    return CustomerBilling(**figures)
