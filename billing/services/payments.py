"""Recording what a gateway says about a payment: the one path for notifications, sweeps and
reconciliation alike.

Exactly-once effects rest on the database, not on luck: the charge row is locked for the whole
step, and ``Payment`` is unique on ``(bank account, environment, gateway payment id)`` (what the
gateway's ids are unique in: sandbox and production sequences overlap, two accounts are two id
spaces). Two deliveries of one payment
for one charge wait for each other on the charge lock, and the second reads the first's row. A
duplicate that slips in concurrently under another charge's lock fails its insert, which rolls the
whole step back: it runs once more (:func:`payment_record`, and the notification processing) and
reads the existing row. Fifty retries of one notification give one payment.

Money is never hidden: a payment for a charge whose cancel was requested or done still marks the
charge paid (``paid_after_cancel``) and the cancel is withdrawn.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing.labels import payment_source_label, payment_status_label
from billing.models import Charge, ChargeEvent, ChargeState, Notification, Payment
from billing.services.amounts import CENT, charge_amount_due
from billing.services.transitions import ALLOWED, claim_back, transition
from core import queue
from core.dates import today
from gateways.base import PaymentDetails
from providers.models import BankAccount

logger = logging.getLogger(__name__)
S = ChargeState

#: States a charge can be paid from: read from billing.services.transitions.ALLOWED, so that a
#: state allowed to become paid there (a written-off boleto paid after all) is paid here too.
PAYABLE_STATES = frozenset(state for state, targets in ALLOWED.items() if S.PAID in targets)
CANCEL_STATES = frozenset({S.CANCEL_REQUESTED, S.CANCELLED})

SOURCE_NOTIFICATION = "notification"
SOURCE_RECONCILIATION = "reconciliation"
SOURCE_STAFF = "staff"


@dataclass(frozen=True)
class PaymentOutcome:
    """What :func:`payment_record` did. ``created`` is False when the payment was already known.

    ``elsewhere`` is True when the payment is recorded on another charge than the one named now:
    nothing was applied, and the caller must make that visible (it is never a success).
    """

    payment: Payment
    charge: Charge
    created: bool
    state_changed: bool
    status_changed: bool
    elsewhere: bool = False

    def elsewhere_message(self) -> str:
        """For staff: which charge holds the payment, which one was named."""
        return _(
            "Gateway payment %(id)s is recorded on charge %(recorded)s, but now names charge %(named)s: "
            "nothing was applied; check both charges."
        ) % {
            "id": self.payment.gateway_payment_id,
            "recorded": self.payment.charge.reference,
            "named": self.charge.reference,
        }


def is_amount_mismatch(charge: Charge, amount: Decimal, paid_on: dt.date | None) -> bool:
    """True when the gateway's amount is not what the charge asked for.

    The face amount always matches. A late payment may add the fine and interest: anything from the
    face amount up to the amount due on the payment day (a cent of rounding tolerated) matches too.
    """
    amount = Decimal(amount).quantize(CENT)
    if amount == charge.amount:
        return False
    if paid_on is None or paid_on <= charge.due_date:
        return True
    return not charge.amount <= amount <= charge_amount_due(charge, on=paid_on) + CENT


def _insert_or_get(
    charge: Charge, account: BankAccount, gateway: str, details: PaymentDetails, **fields: object
) -> tuple[Payment, bool]:
    """The payment row, created once. The unique constraint settles races between processes: a
    concurrent insert makes this raise ``IntegrityError`` (the caller's transaction runs again).

    No savepoint around the insert: with the charge locked, the race needs a second charge claiming
    the same payment, and the retried step reads the existing row (two statements instead of four
    on every payment).
    """
    sandbox = account.is_sandbox
    existing = Payment.objects.filter(
        bank_account=account, sandbox=sandbox, gateway_payment_id=details.payment_id
    ).first()
    if existing is not None:
        return existing, False
    payment = Payment(
        charge=charge,
        gateway=gateway,
        bank_account=account,
        sandbox=sandbox,
        gateway_payment_id=details.payment_id,
        amount=Decimal(details.amount).quantize(CENT),
        paid_on=details.date,
        fee=Decimal(details.fee).quantize(CENT),
        type=details.type[:40],
        status=details.status[:40],
        amount_mismatch=is_amount_mismatch(charge, details.amount, details.date),
        raw=dict(details.raw),
        **fields,
    )
    payment.save(force_insert=True)
    return payment, True


def _is_newer(recorded: str, told: str) -> bool:
    """A different status replaces the recorded one, except a stale ``CONFIRMED`` after a refund."""
    if not told or told == recorded:
        return False
    return not (recorded in PaymentDetails.REFUND_STATUSES and told == PaymentDetails.CONFIRMED)


def _apply_to_charge(
    charge: Charge,
    status: str,
    *,
    payment: Payment,
    actor_label: str,
    reason: str,
    actor: AbstractBaseUser | None = None,
) -> bool:
    """Move the locked charge as ``payment``'s ``status`` says; True when its state changed."""
    if status == PaymentDetails.CONFIRMED and charge.state in PAYABLE_STATES:
        transition(
            charge,
            S.PAID,
            actor=actor,
            actor_label=actor_label,
            reason=reason,
            payment=payment,
            paid_after_cancel=charge.paid_after_cancel or charge.state in CANCEL_STATES,
        )
        if charge.paid_after_cancel:
            logger.warning("charge %s was paid after its cancel: the payment is kept", charge.reference)
        _withdraw_replacements(charge, actor_label=actor_label)
        return True
    if status in PaymentDetails.REFUND_STATUSES:
        if charge.state in PAYABLE_STATES:  # the confirmation never reached us: show both moves
            _apply_to_charge(
                charge, PaymentDetails.CONFIRMED, payment=payment, actor_label=actor_label, reason=reason
            )
        if charge.state == S.PAID:
            transition(charge, S.REFUNDED, actor_label=actor_label, reason=reason)
            return True
    return False


def _withdraw_replacements(charge: Charge, *, actor_label: str) -> None:
    """The old boleto was paid while its second copy was on its way: the copy is withdrawn.

    The copy hands the claim on the month back; an unsent copy is cancelled here, an issued one at
    the gateway (one still being sent is settled when its answer arrives, in ``charges``).
    """
    if charge.due_date >= today():
        return  # second copies are made of overdue boletos only: this one has none (no query)
    replacements = Charge.objects.select_for_update(of=("self",)).filter(
        replaces=charge, state__in=(S.PENDING, S.FAILED, S.ISSUED)
    )
    for replacement in replacements:
        reason = _("%(reference)s, which this second copy replaces, was paid") % {
            "reference": charge.reference
        }
        claim_back(paid=charge, copy=replacement)
        if replacement.state == S.ISSUED:
            transition(replacement, S.CANCEL_REQUESTED, actor_label=actor_label, reason=reason)
            queue.enqueue(queue.CANCEL_CHARGE, replacement.pk)
            continue
        transition(replacement, S.CANCELLED, actor_label=actor_label, reason=reason)


def _flag_paid_twice(charge: Charge, payment: Payment, *, actor_label: str) -> None:
    """A second confirmed payment for a paid charge: kept, and the charge flagged for a refund.

    Typically the subscriber paid at the counter (recorded by staff) and then paid the boleto before
    the gateway had cancelled it. Nothing is lost: both payments stay, staff see "paid twice".
    """
    charge.paid_twice = True
    charge.save(update_fields=["paid_twice", "updated_at"])
    ChargeEvent.objects.create(
        charge=charge,
        from_state=charge.state,
        to_state=charge.state,
        actor_label=actor_label[:80],
        reason=_("Paid twice: payment %(id)s of %(amount)s arrived for a paid charge; refund due.")
        % {"id": payment.gateway_payment_id, "amount": payment.amount},
    )
    logger.warning("charge %s was paid twice (payment %s): refund due", charge.reference, payment.pk)


def lock_charge(**lookup: object) -> Charge | None:
    """The one charge matching ``lookup``, row-locked (the caller is inside a transaction).

    Only the charge's row is locked (``of=("self",)``): locking its bank account too would make
    every payment of an account wait for the others.
    """
    found = list(Charge.objects.select_for_update(of=("self",)).filter(**lookup)[:2])
    return found[0] if len(found) == 1 else None


def payment_apply(
    charge: Charge,
    *,
    gateway: str,
    details: PaymentDetails,
    source: str = SOURCE_NOTIFICATION,
    notification: Notification | None = None,
    actor_label: str = "",
    account: BankAccount | None = None,
    actor: AbstractBaseUser | None = None,
    reason: str = "",
    recorded_fields: Mapping[str, object] | None = None,
) -> PaymentOutcome:
    """:func:`payment_record` for a charge the caller already holds locked inside a transaction.

    ``account`` is the charge's bank account when the caller has it at hand (saves a query).
    ``recorded_fields`` are stored on a new payment row (staff payments: method, note, who);
    ``reason`` replaces the history's default wording.
    """
    account = account or charge.bank_account
    payment, created = _insert_or_get(
        charge,
        account,
        gateway,
        details,
        source=source,
        notification=notification,
        **(recorded_fields or {}),
    )
    status_changed = False
    if not created and _is_newer(payment.status, details.status):
        payment.status = details.status[:40]
        payment.raw = dict(details.raw)
        payment.save(update_fields=["status", "raw", "updated_at"])
        status_changed = True
    if payment.charge_id != charge.pk:
        logger.warning(
            "payment %s:%s belongs to charge %s, not %s: nothing applied",
            gateway,
            details.payment_id,
            payment.charge_id,
            charge.pk,
        )
        return PaymentOutcome(payment, charge, created, False, status_changed, elsewhere=True)
    reason = reason or _("Gateway payment %(id)s: %(status)s (%(source)s)") % {
        "id": details.payment_id,
        "status": payment_status_label(details.status),
        "source": payment_source_label(source),
    }
    was_paid = charge.state == S.PAID
    state_changed = _apply_to_charge(
        charge, payment.status, payment=payment, actor_label=actor_label or source, reason=reason, actor=actor
    )
    if created and was_paid and payment.status == PaymentDetails.CONFIRMED:
        _flag_paid_twice(charge, payment, actor_label=actor_label or source)
    if created and payment.amount_mismatch:
        logger.warning(
            "payment %s:%s of %s differs from charge %s (%s)",
            gateway,
            details.payment_id,
            payment.amount,
            charge.reference,
            charge.amount,
        )
    return PaymentOutcome(payment, charge, created, state_changed, status_changed)


def payment_record(
    *,
    charge_id: int,
    gateway: str,
    details: PaymentDetails,
    source: str = SOURCE_NOTIFICATION,
    notification: Notification | None = None,
    actor_label: str = "",
    account: BankAccount | None = None,
) -> PaymentOutcome:
    """Record ``details`` (the gateway's own word) against a charge, once per gateway payment id.

    ``CONFIRMED`` pays the charge with the gateway's amount, date and fee (an amount that differs
    from the charge is kept and flagged); the paid-back statuses refund it; any other status is
    only noted on the payment. Calling it again with the same details changes nothing.
    """
    arguments = {
        "gateway": gateway,
        "details": details,
        "source": source,
        "notification": notification,
        "account": account,
    }
    try:
        return _record(charge_id, actor_label=actor_label, **arguments)
    except IntegrityError:  # a concurrent insert of this payment won: the second pass reads it
        logger.info("payment %s:%s inserted concurrently: read back", gateway, details.payment_id)
        return _record(charge_id, actor_label=actor_label, **arguments)


def _record(charge_id: int, *, actor_label: str, **arguments: Any) -> PaymentOutcome:
    with transaction.atomic():
        charge = lock_charge(pk=charge_id)
        if charge is None:
            raise Charge.DoesNotExist(charge_id)
        return payment_apply(charge, actor_label=actor_label, **arguments)


def with_charge(details: PaymentDetails, *, code: str, reference: str) -> PaymentDetails:
    """``details`` completed with the charge it was listed under (list-charges nests payments)."""
    return dataclasses.replace(
        details,
        charge_code=details.charge_code or code,
        charge_reference=details.charge_reference or reference,
    )
