"""The daily reconciliation: each active Juno account's charges at the gateway against ours.

A notification can be lost (our server down for longer than the gateway retries, a URL typed wrong
in the gateway's panel), and staff can cancel a boleto in the gateway's own panel. Once a day (and
on demand, "reconcile now" on a bank account) every active Juno account is compared twice:

- the charges paid over the last ``RECONCILIATION_DAYS`` days: a payment the gateway has and we do
  not is applied through the same payment service the notifications use (``source=
  "reconciliation"``);
- every charge open here (issued or cancel requested), listed by its due dates: one the gateway
  lists as cancelled is cancelled here ("Cancelled at the gateway"); one paid there with no
  notification gets its payment recorded, once, through the same service; one a complete listing
  does not hold is reported. A written-off charge is not open: the comparison leaves it.

Every difference is kept as a :class:`ReconciliationDifference` under a :class:`ReconciliationRun`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import (
    OPEN_STATES,
    Charge,
    ChargeState,
    DifferenceKind,
    Payment,
    ReconciliationDifference,
    ReconciliationRun,
)
from billing.services import leases
from billing.services.amounts import CENT
from billing.services.gateway_access import gateway_for
from billing.services.payments import SOURCE_RECONCILIATION, payment_record, with_charge
from billing.services.transitions import transition
from core.dates import today as local_today
from gateways.base import JUNO, GatewayError, IssuedCharge, PaymentDetails
from providers.models import BankAccount, Gateway

logger = logging.getLogger(__name__)
S = ChargeState

LEASE_TTL = dt.timedelta(hours=1)
#: The gateway statuses that mean money moved (the others are noted, not compared).
SETTLED_STATUSES = frozenset({PaymentDetails.CONFIRMED, *PaymentDetails.REFUND_STATUSES})
#: The charge state each settled status should have left behind.
EXPECTED_STATE = {PaymentDetails.CONFIRMED: S.PAID, **{s: S.REFUNDED for s in PaymentDetails.REFUND_STATUSES}}


def _difference(
    run: ReconciliationRun,
    kind: str,
    *,
    charge: Charge | None,
    payment_id: str,
    detail: str,
    repaired: bool = False,
) -> ReconciliationDifference:
    return ReconciliationDifference.objects.create(
        run=run,
        kind=kind,
        charge=charge,
        gateway_payment_id=payment_id[:64],
        detail=detail,
        repaired=repaired,
    )


def _charge_for(account: BankAccount, listed: IssuedCharge) -> Charge | None:
    if listed.code:
        found = list(Charge.objects.filter(bank_account=account, gateway_code=listed.code)[:2])
        if len(found) == 1:
            return found[0]
    if listed.reference:
        return Charge.objects.filter(bank_account=account, reference=listed.reference).first()
    return None


def _gateway_payments(listed: Iterable[IssuedCharge]) -> list[tuple[IssuedCharge, PaymentDetails]]:
    return [
        (charge, with_charge(payment, code=charge.code, reference=charge.reference))
        for charge in listed
        for payment in charge.payments
        if payment.status in SETTLED_STATUSES and payment.payment_id
    ]


def _compare_one(
    run: ReconciliationRun, account: BankAccount, listed: IssuedCharge, details: PaymentDetails
) -> None:
    """One payment the gateway holds: missing here (repair), amount or state different (report)."""
    local = (
        Payment.objects.select_related("charge")
        .filter(bank_account=account, sandbox=account.is_sandbox, gateway_payment_id=details.payment_id)
        .first()
    )
    if local is None:
        charge = _charge_for(account, listed)
        if charge is None:
            _difference(
                run,
                DifferenceKind.MISSING_HERE,
                charge=None,
                payment_id=details.payment_id,
                detail=_("Paid at the gateway (code %(code)s, reference %(reference)s); no such charge here.")
                % {"code": listed.code, "reference": listed.reference},
            )
            return
        outcome = payment_record(
            charge_id=charge.pk,
            gateway=JUNO,
            details=details,
            source=SOURCE_RECONCILIATION,
            actor_label="reconcile",
            account=account,
        )
        if outcome.elsewhere:  # recorded meanwhile on another charge: shown, never "repaired"
            _difference(
                run,
                DifferenceKind.STATE_DIFFERS,
                charge=charge,
                payment_id=details.payment_id,
                detail=outcome.elsewhere_message(),
            )
            return
        _difference(
            run,
            DifferenceKind.MISSING_HERE,
            charge=charge,
            payment_id=details.payment_id,
            detail=_(
                "Paid at the gateway, %(amount)s on %(date)s; no notification had arrived: recorded now."
            )
            % {"amount": outcome.payment.amount, "date": details.date or "?"},
            repaired=True,
        )
        run.repaired += 1
        return
    if local.amount != details.amount.quantize(CENT):
        _difference(
            run,
            DifferenceKind.AMOUNT_DIFFERS,
            charge=local.charge,
            payment_id=details.payment_id,
            detail=_("Gateway %(gateway)s, here %(local)s.")
            % {"gateway": details.amount, "local": local.amount},
        )
    expected = EXPECTED_STATE[details.status]
    if local.status != details.status or local.charge.state != expected:
        outcome = payment_record(
            charge_id=local.charge_id,
            gateway=JUNO,
            details=details,
            source=SOURCE_RECONCILIATION,
            actor_label="reconcile",
            account=account,
        )
        repaired = outcome.charge.state == expected
        _difference(
            run,
            DifferenceKind.STATE_DIFFERS,
            charge=local.charge,
            payment_id=details.payment_id,
            detail=_("Gateway %(status)s; here %(local)s with the charge %(state)s, now %(now)s.")
            % {
                "status": details.status,
                "local": local.status,
                "state": S(local.charge.state).label,
                "now": S(outcome.charge.state).label,
            },
            repaired=repaired,
        )
        run.repaired += int(repaired)


#: Open charges are listed a month of due dates at a time: answers stay small, and only months that
#: hold an open charge are asked for.
OPEN_WINDOW_DAYS = 31


def _due_windows(due_dates: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive windows of at most OPEN_WINDOW_DAYS covering every date given."""
    windows: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(due_dates)):
        if windows and day <= windows[-1][1]:
            continue
        windows.append((day, day + dt.timedelta(days=OPEN_WINDOW_DAYS - 1)))
    return windows


def _cancel_here(run: ReconciliationRun, charge: Charge, listed: IssuedCharge) -> None:
    with transaction.atomic():
        locked = Charge.objects.select_for_update().get(pk=charge.pk)
        if locked.state not in OPEN_STATES:
            return
        transition(
            locked,
            S.CANCELLED,
            actor_label="reconcile",
            reason=_("Cancelled at the gateway (code %(code)s): cancelled here too") % {"code": listed.code},
            attention="",
            error_message="",
        )
    _difference(
        run,
        DifferenceKind.CANCELLED_THERE,
        charge=charge,
        payment_id="",
        detail=_("The gateway lists charge %(code)s as cancelled; it was %(state)s here.")
        % {"code": listed.code, "state": S(charge.state).label},
        repaired=True,
    )
    run.repaired += 1


def _compare_open_charges(run: ReconciliationRun, account: BankAccount) -> int:
    """Every charge open here against the gateway's listing of its due dates; returns how many."""
    gateway = gateway_for(account)
    open_charges = list(
        Charge.objects.filter(bank_account=account, state__in=OPEN_STATES)
        .exclude(gateway_code="")
        .order_by("due_date", "pk")
    )
    for due_from, due_to in _due_windows(c.due_date for c in open_charges):
        listing = gateway.list_due(due_from=due_from, due_to=due_to)
        by_code = {c.code: c for c in listing.charges}
        for charge in (c for c in open_charges if due_from <= c.due_date <= due_to):
            listed = by_code.get(charge.gateway_code)
            if listed is None:
                if listing.complete:
                    _difference(
                        run,
                        DifferenceKind.NOT_LISTED,
                        charge=charge,
                        payment_id="",
                        detail=_("Open here with code %(code)s; the gateway does not list it.")
                        % {"code": charge.gateway_code},
                    )
                continue
            settled = _gateway_payments([listed])
            for listed_charge, details in settled:
                _compare_one(run, account, listed_charge, details)
            if listed.cancelled and not settled:
                _cancel_here(run, charge, listed)
    return len(open_charges)


def reconciliation_run(
    *, account: BankAccount, days: int | None = None, on: dt.date | None = None
) -> ReconciliationRun:
    """Compare one Juno account's last ``days`` days of payments with ours, repairing what is missing."""
    days = days if days is not None else settings.RECONCILIATION_DAYS
    period_end = on or local_today()
    period_start = period_end - dt.timedelta(days=days)
    run = ReconciliationRun.objects.create(
        bank_account=account, period_start=period_start, period_end=period_end
    )
    try:
        listed = gateway_for(account).list_paid_charges(paid_from=period_start, paid_to=period_end)
    except GatewayError as exc:
        run.error = exc.message
        run.finished_at = timezone.now()
        run.save(update_fields=["error", "finished_at"])
        logger.warning("reconciliation of %s failed: %s", account, exc.message)
        return run

    payments = _gateway_payments(listed)
    seen = {details.payment_id for _listed, details in payments}
    for listed_charge, details in payments:
        _compare_one(run, account, listed_charge, details)
    try:
        _compare_open_charges(run, account)
    except GatewayError as exc:
        run.error = _("Open charges not compared: %(error)s") % {"error": exc.message}

    local = Payment.objects.filter(
        bank_account=account,
        sandbox=account.is_sandbox,
        paid_on__gte=period_start,
        paid_on__lte=period_end,
        status__in=SETTLED_STATUSES,
    ).select_related("charge")
    run.local_payments = 0
    for payment in local.iterator():
        run.local_payments += 1
        if payment.gateway_payment_id not in seen:
            _difference(
                run,
                DifferenceKind.MISSING_THERE,
                charge=payment.charge,
                payment_id=payment.gateway_payment_id,
                detail=_("Recorded here (%(amount)s on %(date)s) but not listed by the gateway.")
                % {"amount": payment.amount, "date": payment.paid_on},
            )
    run.gateway_payments = len(payments)
    run.differences = run.items.count()
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            "gateway_payments",
            "local_payments",
            "repaired",
            "differences",
            "finished_at",
            "error",
        ]
    )
    if run.repaired:
        logger.warning(
            "reconciliation of %s recorded %d payment(s) no notification had brought", account, run.repaired
        )
    return run


def reconcile_account_now(*, account_id: int) -> ReconciliationRun | None:
    """Staff's "reconcile now" for one account: the same run as the daily one (None when the
    account is gone, inactive or at a gateway that lists nothing)."""
    account = BankAccount.objects.filter(pk=account_id, active=True, gateway=Gateway.JUNO).first()
    return reconciliation_run(account=account) if account else None


def reconcile_all(*, days: int | None = None, on: dt.date | None = None) -> dict[str, int]:
    """Every active Juno account, under the ``reconciliation`` lease (runs never overlap).

    The lease's ``last_finished_at`` (read by ``/health/``) is stamped when every account was done.
    """
    totals = {"accounts": 0, "repaired": 0, "differences": 0, "skipped": 0}
    try:
        with leases.lease(leases.RECONCILIATION, ttl=LEASE_TTL):
            for account in BankAccount.objects.filter(gateway=Gateway.JUNO, active=True).order_by("pk"):
                run = reconciliation_run(account=account, days=days, on=on)
                totals["accounts"] += 1
                totals["repaired"] += run.repaired
                totals["differences"] += run.differences
    except leases.LeaseHeld:
        logger.info("reconciliation already running elsewhere: skipped")
        totals["skipped"] = 1
        return totals
    from billing.selectors.notifications import silent_accounts

    for account, last in silent_accounts():
        logger.warning("bank account %s has received no notification since %s", account, last)
    return totals
