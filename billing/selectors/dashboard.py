"""The staff dashboard on the admin index: this month's charges per bank account, 12 months of money.

Everything comes from three aggregate queries over charges and payments (conditional aggregation
grouped by bank account, one column per month) plus the list of accounts, so the cost does not grow
with the number of accounts or months shown, and no database-specific date function is needed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import OPEN_STATES, BankAccount, Charge, ChargeState, Payment

BILLING_TIME_ZONE = ZoneInfo("America/Sao_Paulo")
HISTORY_MONTHS = 12
#: A charge still ``issuing`` after this long most likely lost its worker (as the admin's filter).
ISSUING_STALE_AFTER = dt.timedelta(minutes=15)

#: Charges that reached the gateway: what was billed.
BILLED_STATES = (ChargeState.ISSUED, ChargeState.CANCEL_REQUESTED, ChargeState.PAID, ChargeState.REFUNDED)
ATTENTION_STATES = (ChargeState.UNKNOWN, ChargeState.FAILED)

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
    billed_by_month: list[Decimal] = field(default_factory=lambda: [_ZERO] * HISTORY_MONTHS)
    received_by_month: list[Decimal] = field(default_factory=lambda: [_ZERO] * HISTORY_MONTHS)

    def add(self, other: AccountSummary) -> None:
        for name in COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.billed += other.billed
        self.received += other.received
        self.billed_by_month = [
            a + b for a, b in zip(self.billed_by_month, other.billed_by_month, strict=True)
        ]
        self.received_by_month = [
            a + b for a, b in zip(self.received_by_month, other.received_by_month, strict=True)
        ]


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


def _money_sum(expression: str, condition: Q) -> Coalesce:
    return Coalesce(Sum(expression, filter=condition), Value(_ZERO), output_field=_MONEY)


def _charge_aggregates(months: list[dt.date], today: dt.date) -> dict[str, Any]:
    month_start, next_month = months[-1], month_start_shift(months[-1], 1)
    this_month = Q(due_date__gte=month_start, due_date__lt=next_month)
    billed = Q(state__in=BILLED_STATES)
    aggregates: dict[str, Any] = {
        "issued": Count("id", filter=this_month & billed),
        "paid": Count("id", filter=this_month & Q(state=ChargeState.PAID)),
        "open": Count("id", filter=this_month & Q(state__in=OPEN_STATES)),
        "overdue": Count(
            "id",
            filter=this_month
            & Q(state__in=OPEN_STATES, due_date__lt=today, bank_account__contra_apresentacao=False),
        ),
        "failed": Count("id", filter=this_month & Q(state=ChargeState.FAILED)),
    }
    for index, start in enumerate(months):
        end = month_start_shift(start, 1)
        aggregates[f"billed_{index}"] = _money_sum(
            "amount", billed & Q(due_date__gte=start, due_date__lt=end)
        )
    return aggregates


def _payment_aggregates(months: list[dt.date]) -> dict[str, Any]:
    return {
        f"received_{index}": _money_sum(
            "amount", Q(paid_on__gte=start, paid_on__lt=month_start_shift(start, 1))
        )
        for index, start in enumerate(months)
    }


def billing_dashboard(*, now: dt.datetime | None = None) -> Dashboard:
    """This month's figures per bank account and the last 12 months' billed and received amounts.

    "This month" is by due date (the charges changelist filters the same way); money received is by
    payment date; charges needing attention (unknown, failed, or issuing for too long) are counted
    whatever their due date, because they need someone now.
    """
    now = now or timezone.now()
    today = timezone.localtime(now, BILLING_TIME_ZONE).date()
    month_start = today.replace(day=1)
    months = [month_start_shift(month_start, offset) for offset in range(-(HISTORY_MONTHS - 1), 1)]
    window_start, next_month = months[0], month_start_shift(month_start, 1)

    rows: dict[int, AccountSummary] = {
        account.pk: AccountSummary(account=account)
        for account in BankAccount.objects.only("id", "name", "gateway", "active", "contra_apresentacao")
    }

    charge_rows = (
        Charge.objects.filter(due_date__gte=window_start, due_date__lt=next_month)
        .order_by()
        .values("bank_account_id")
        .annotate(**_charge_aggregates(months, today))
    )
    for row in charge_rows:
        summary = rows[row["bank_account_id"]]
        for name in ("issued", "paid", "open", "overdue", "failed"):
            setattr(summary, name, row[name])
        summary.billed_by_month = [row[f"billed_{index}"] for index in range(HISTORY_MONTHS)]
        summary.billed = summary.billed_by_month[-1]

    stale = now - ISSUING_STALE_AFTER
    attention_rows = (
        Charge.objects.filter(
            Q(state__in=ATTENTION_STATES) | Q(state=ChargeState.ISSUING, state_changed_at__lt=stale)
        )
        .order_by()
        .values("bank_account_id")
        .annotate(attention=Count("id"))
    )
    for row in attention_rows:
        rows[row["bank_account_id"]].attention = row["attention"]

    payment_rows = (
        Payment.objects.filter(paid_on__gte=window_start, paid_on__lt=next_month)
        .exclude(charge__state=ChargeState.REFUNDED)
        .order_by()
        .values("charge__bank_account_id")
        .annotate(**_payment_aggregates(months))
    )
    for row in payment_rows:
        summary = rows[row["charge__bank_account_id"]]
        summary.received_by_month = [row[f"received_{index}"] for index in range(HISTORY_MONTHS)]
        summary.received = summary.received_by_month[-1]

    totals = AccountSummary(account=None)
    for summary in rows.values():
        totals.add(summary)
    accounts = [s for s in rows.values() if s.account is not None and (s.account.active or _has_figures(s))]
    return Dashboard(
        today=today,
        month_start=month_start,
        next_month_start=next_month,
        overdue_before=min(today, next_month),
        accounts=accounts,
        totals=totals,
        history=[
            MonthTotals(month=month, billed=billed, received=received)
            for month, billed, received in zip(
                months, totals.billed_by_month, totals.received_by_month, strict=True
            )
        ],
    )


def _has_figures(summary: AccountSummary) -> bool:
    return (
        any(getattr(summary, name) for name in COUNTERS)
        or any(summary.billed_by_month)
        or any(summary.received_by_month)
    )
