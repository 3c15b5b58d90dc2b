"""The staff dashboard on the admin index: this month's charges per bank account, 12 months of money.

Six aggregate queries whatever the number of charges, accounts or months: the accounts; this month's
charges and payments per account (conditional counts over a narrow date range); charges needing
attention per account; and the last 12 months' billed and received totals per day, folded into
months here. The wide 12-month scans group by the leading column of a covering index
(``charge_dashboard_idx``, ``payment_dashboard_idx``), so they read the index alone and need no
database-specific date function.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import OPEN_STATES, Charge, ChargeState, Payment
from billing.selectors.attention import charges_needing_attention
from core.dates import SAO_PAULO
from providers.models import BankAccount

HISTORY_MONTHS = 12

#: Charges that reached the gateway: what was billed.
BILLED_STATES = (ChargeState.ISSUED, ChargeState.CANCEL_REQUESTED, ChargeState.PAID, ChargeState.REFUNDED)

COUNTERS = ("issued", "paid", "open", "overdue", "failed", "attention")

_ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=14, decimal_places=2)


@dataclass
class AccountSummary:
    """One bank account's row (``account`` is None for the all-accounts total)."""

    account: BankAccount | None
    issued: int = 0
    paid: int = 0
    open: int = 0
    overdue: int = 0
    failed: int = 0
    attention: int = 0
    billed: Decimal = _ZERO
    received: Decimal = _ZERO

    def add(self, other: AccountSummary) -> None:
        for name in (*COUNTERS, "billed", "received"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def has_figures(self) -> bool:
        return any(getattr(self, name) for name in (*COUNTERS, "billed", "received"))


@dataclass(frozen=True)
class MonthTotals:
    month: dt.date
    billed: Decimal
    received: Decimal


@dataclass(frozen=True)
class Dashboard:
    today: dt.date
    month_start: dt.date
    next_month_start: dt.date
    #: Charges due before this day are overdue (today, capped at the month's end for links).
    overdue_before: dt.date
    accounts: list[AccountSummary]
    totals: AccountSummary
    history: list[MonthTotals]


def month_start_shift(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` away from ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _money_sum(expression: str, condition: Q | None = None) -> Coalesce:
    return Coalesce(Sum(expression, filter=condition), Value(_ZERO), output_field=_MONEY)


def _month_charges(rows: dict[int, AccountSummary], start: dt.date, end: dt.date, today: dt.date) -> None:
    """This month's counters and billed amount per account (charges due in [start, end))."""
    billed = Q(state__in=BILLED_STATES)
    per_account = (
        Charge.objects.filter(due_date__gte=start, due_date__lt=end)
        .order_by()
        .values("bank_account_id")
        .annotate(
            issued=Count("id", filter=billed),
            paid=Count("id", filter=Q(state=ChargeState.PAID)),
            open=Count("id", filter=Q(state__in=OPEN_STATES)),
            overdue=Count("id", filter=Q(state__in=OPEN_STATES, due_date__lt=today)),
            failed=Count("id", filter=Q(state=ChargeState.FAILED)),
            billed=_money_sum("amount", billed),
        )
    )
    for row in per_account:
        summary = rows[row["bank_account_id"]]
        for name in ("issued", "paid", "open", "overdue", "failed", "billed"):
            setattr(summary, name, row[name])
        # Contra-apresentação boletos are never overdue; zeroing here keeps the account table out
        # of the query above.
        if summary.account is not None and summary.account.contra_apresentacao:
            summary.overdue = 0


def _attention(rows: dict[int, AccountSummary], now: dt.datetime) -> None:
    per_account = (
        charges_needing_attention(now=now)
        .order_by()
        .values("bank_account_id")
        .annotate(attention=Count("id"))
    )
    for row in per_account:
        rows[row["bank_account_id"]].attention = row["attention"]


def _received_payments(start: dt.date, end: dt.date) -> Any:
    """Payments dated in [start, end) whose money was kept (refunded charges gave it back)."""
    refunded = Charge.objects.filter(state=ChargeState.REFUNDED).values("id")
    return Payment.objects.filter(paid_on__gte=start, paid_on__lt=end).exclude(charge_id__in=refunded)


def _month_received(rows: dict[int, AccountSummary], start: dt.date, end: dt.date) -> None:
    per_account = (
        _received_payments(start, end)
        .order_by()
        .values("charge__bank_account_id")
        .annotate(received=_money_sum("amount"))
    )
    for row in per_account:
        rows[row["charge__bank_account_id"]].received = row["received"]


def _by_month(months: list[dt.date], daily: Iterable[tuple[dt.date, Decimal]]) -> list[Decimal]:
    totals = dict.fromkeys(months, _ZERO)
    for day, amount in daily:
        totals[day.replace(day=1)] += amount
    return [totals[month] for month in months]


def _history(months: list[dt.date], end: dt.date) -> list[MonthTotals]:
    """Billed (by due date) and received (by payment date) per month, every account together."""
    start = months[0]
    billed_daily = (
        Charge.objects.filter(due_date__gte=start, due_date__lt=end)
        .order_by()
        .values_list("due_date")
        .annotate(billed=_money_sum("amount", Q(state__in=BILLED_STATES)))
    )
    received_daily = (
        _received_payments(start, end)
        .order_by()
        .values_list("paid_on")
        .annotate(received=_money_sum("amount"))
    )
    billed = _by_month(months, billed_daily)
    received = _by_month(months, received_daily)
    return [
        MonthTotals(month=month, billed=billed_total, received=received_total)
        for month, billed_total, received_total in zip(months, billed, received, strict=True)
    ]


def billing_dashboard(*, now: dt.datetime | None = None) -> Dashboard:
    """This month's figures per bank account and the last 12 months' billed and received amounts.

    "This month" is by due date (the charges changelist filters the same way); money received is by
    payment date; charges needing attention (unknown, failed, or issuing for too long) are counted
    whatever their due date, because they need someone now.
    """
    now = now or timezone.now()
    today = timezone.localtime(now, SAO_PAULO).date()
    month_start = today.replace(day=1)
    next_month = month_start_shift(month_start, 1)
    months = [month_start_shift(month_start, offset) for offset in range(-(HISTORY_MONTHS - 1), 1)]

    rows: dict[int, AccountSummary] = {
        account.pk: AccountSummary(account=account)
        for account in BankAccount.objects.only("id", "name", "gateway", "active", "contra_apresentacao")
    }
    _month_charges(rows, month_start, next_month, today)
    _attention(rows, now)
    _month_received(rows, month_start, next_month)

    totals = AccountSummary(account=None)
    for summary in rows.values():
        totals.add(summary)
    return Dashboard(
        today=today,
        month_start=month_start,
        next_month_start=next_month,
        overdue_before=min(today, next_month),
        accounts=[s for s in rows.values() if s.account is not None and (s.account.active or s.has_figures)],
        totals=totals,
        history=_history(months, next_month),
    )
