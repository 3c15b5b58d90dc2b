"""What a boleto costs on a given day: fine once, then daily interest, within the account's limit."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from billing.models import Charge
from core.dates import today

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def amount_due(
    *,
    amount: Decimal,
    due_date: dt.date,
    on: dt.date,
    fine_percent: Decimal,
    daily_interest_percent: Decimal,
    max_days: int,
    contra_apresentacao: bool = False,
) -> Decimal:
    """The amount to pay on ``on``.

    Late by ``d`` days: ``amount × (1 + fine% + daily% × min(d, max_days))``, rounded half-up to
    cents once at the end (rounding parts separately drifts by a cent). A contra-apresentação
    boleto is never late. After ``max_days`` the gateway refuses payment, so interest stops there.
    """
    amount = Decimal(amount)
    days_late = (on - due_date).days
    if contra_apresentacao or days_late <= 0:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    interest_days = min(days_late, max_days) if max_days > 0 else days_late
    rate = Decimal(fine_percent) / HUNDRED + Decimal(daily_interest_percent) / HUNDRED * interest_days
    return (amount * (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def charge_amount_due(charge: Charge, on: dt.date | None = None) -> Decimal:
    """``amount_due`` with the charge's bank-account settings (the account must be loaded)."""
    account = charge.bank_account
    return amount_due(
        amount=charge.amount,
        due_date=charge.due_date,
        on=on or today(),
        fine_percent=account.fine_percent,
        daily_interest_percent=account.daily_interest_percent,
        max_days=account.max_days_to_update,
        contra_apresentacao=account.contra_apresentacao,
    )


def is_overdue(charge: Charge, on: dt.date | None = None) -> bool:
    return not charge.bank_account.contra_apresentacao and (on or today()) > charge.due_date
