"""Payments staff record (*baixa manual*): at the counter, by PIX to the provider, by transfer.

A staff payment goes through :func:`billing.services.payments.payment_apply`, the path every gateway
payment takes, so whatever follows a payment (the charge paid, the customer unblocked) follows it
too. What is particular to it:

- it is recorded once per form: the form carries a one-time key that becomes the payment's id, and
  the payment id is unique, so a double submit (two clicks, a resent POST) records one payment;
- a boleto still payable at the gateway is then cancelled there (after commit, by a task) so it
  cannot be paid a second time; if the gateway pays it anyway, that payment is recorded too and
  the charge is flagged "paid twice: refund due" (see ``payments._flag_paid_twice``);
- only a superuser may undo one, and the reason stays in the charge's history.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Charge, ChargeEvent, ChargeState, Payment, PaymentMethod
from billing.services.amounts import CENT
from billing.services.gateway_access import gateway_for
from billing.services.payments import SOURCE_STAFF, PaymentOutcome, lock_charge, payment_apply
from billing.services.transitions import recorded_user, transition
from billing.templatetags.money import brl
from core import queue
from core.errors import ApplicationError
from gateways.base import GatewayError, GatewayUnavailable, OperationUnsupported, PaymentDetails

logger = logging.getLogger(__name__)
S = ChargeState

#: Gateway payment ids of staff payments start with this, so they never meet a gateway's ids.
STAFF_PAYMENT_PREFIX = "staff-"
#: What an undone payment's status becomes (it stays, read-only, in the history).
UNDONE = "UNDONE"
#: States a payment may be recorded in: the boleto exists (or existed) at the gateway and is not in
#: flight. A charge being sent (``issuing``) or not yet known (``unknown``) must settle first.
RECORDABLE_STATES = frozenset({S.ISSUED, S.CANCEL_REQUESTED, S.CANCELLED})
#: A one-time form key: letters, digits and dashes (a UUID), nothing a person types.
_KEY = re.compile(r"^[A-Za-z0-9-]{16,40}$")


@dataclass(frozen=True)
class ManualPaymentOutcome:
    payment: Payment
    created: bool
    #: True when the boleto is still payable at the gateway and a cancel there was queued.
    cancel_queued: bool


def _check(*, amount: Decimal, paid_on: dt.date, method: str, today: dt.date) -> Decimal:
    amount = Decimal(amount).quantize(CENT)
    if amount <= 0:
        raise ApplicationError(_("The amount must be greater than zero."))
    if paid_on > today:
        raise ApplicationError(_("The payment date cannot be in the future."))
    if method not in PaymentMethod.values:
        raise ApplicationError(_("Choose how the payment was made."))
    return amount


def payment_record_manual(
    *,
    charge_id: int,
    amount: Decimal,
    paid_on: dt.date,
    method: str,
    note: str,
    actor: AbstractBaseUser,
    form_key: str,
    today: dt.date,
) -> ManualPaymentOutcome:
    """Record a payment staff received, and pay the charge through the one payment path.

    ``form_key`` is the one-time key of the form that was filled in: the same key twice gives the
    same payment (``created`` False), never two.
    """
    amount = _check(amount=amount, paid_on=paid_on, method=method, today=today)
    if not _KEY.match(form_key or ""):
        raise ApplicationError(_("This form has expired; open it again."))
    payment_id = f"{STAFF_PAYMENT_PREFIX}{form_key}"
    with transaction.atomic():
        charge = lock_charge(pk=charge_id)
        if charge is None:
            raise Charge.DoesNotExist(charge_id)
        existing = Payment.objects.filter(gateway_payment_id=payment_id, source=SOURCE_STAFF).first()
        if existing is not None:
            return ManualPaymentOutcome(existing, created=False, cancel_queued=False)
        if charge.state == S.PAID:
            raise ApplicationError(
                _("%(reference)s is already paid; nothing was recorded.") % {"reference": charge.reference}
            )
        if charge.state not in RECORDABLE_STATES:
            raise ApplicationError(
                _("%(reference)s is %(state)s: a payment cannot be recorded now.")
                % {"reference": charge.reference, "state": charge.get_state_display()}
            )
        payable_at_gateway = charge.state == S.ISSUED and bool(charge.gateway_code)
        label = PaymentMethod(method).label
        outcome: PaymentOutcome = payment_apply(
            charge,
            gateway=charge.bank_account.gateway,
            details=PaymentDetails(
                payment_id=payment_id,
                amount=amount,
                date=paid_on,
                fee=Decimal("0"),
                type=method,
                status=PaymentDetails.CONFIRMED,
                raw={"method": method, "note": note, "entered_by": actor.get_username()},
            ),
            source=SOURCE_STAFF,
            actor=actor,
            actor_label=SOURCE_STAFF,
            reason=_("Payment recorded by staff: %(amount)s on %(date)s (%(method)s). %(note)s")
            % {"amount": brl(amount), "date": paid_on.strftime("%d/%m/%Y"), "method": label, "note": note},
            recorded_fields={"method": method, "note": note, "entered_by": recorded_user(actor)},
        )
        if payable_at_gateway and outcome.created:
            charge.gateway_cancel_due = True
            charge.save(update_fields=["gateway_cancel_due", "updated_at"])
            queue.enqueue(queue.CANCEL_BOLETO_PAID_ELSEWHERE, charge.pk)
    return ManualPaymentOutcome(outcome.payment, created=outcome.created, cancel_queued=payable_at_gateway)


def _note(charge: Charge, reason: str) -> None:
    """A line in the charge's history that is not a state change."""
    ChargeEvent.objects.create(
        charge=charge, from_state=charge.state, to_state=charge.state, actor_label="cancel", reason=reason
    )


def boleto_cancel_paid_elsewhere(*, charge_id: int) -> Charge:
    """Cancel at the gateway the boleto of a charge paid outside it. Idempotent.

    Transport errors propagate (the task retries with backoff); a refusal is written in the history
    for staff, and the boleto is left as it is (if it gets paid, the charge is flagged paid twice).
    """
    charge = Charge.objects.select_related("bank_account").get(pk=charge_id)
    if not charge.gateway_cancel_due:
        return charge
    gateway = gateway_for(charge.bank_account, charge_id=charge_id)
    try:
        gateway.cancel(charge.gateway_code)
    except GatewayUnavailable:
        raise
    except OperationUnsupported as exc:
        reason = exc.message
    except GatewayError as exc:
        reason = _("The gateway refused to cancel the boleto paid elsewhere: %(error)s") % {
            "error": exc.message
        }
    else:
        reason = _("Boleto cancelled at the gateway: it was paid outside it.")
    with transaction.atomic():
        charge = lock_charge(pk=charge_id) or charge
        if charge.gateway_cancel_due:
            charge.gateway_cancel_due = False
            charge.save(update_fields=["gateway_cancel_due", "updated_at"])
            _note(charge, reason)
    return charge


def payment_undo(*, payment_id: int, actor: AbstractBaseUser, reason: str) -> Payment:
    """A superuser takes back a payment staff recorded by mistake; the reason goes in the history.

    The payment stays (marked undone). When no other confirmed payment is left, the charge is open
    again: ``issued`` if its boleto is still payable at the gateway, ``cancelled`` if it was already
    cancelled there (staff then issue a second copy).
    """
    if not getattr(actor, "is_superuser", False):
        raise ApplicationError(_("Only a superuser may undo a payment."))
    reason = reason.strip()
    if not reason:
        raise ApplicationError(_("Say why the payment is undone."))
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        charge = lock_charge(pk=payment.charge_id)
        assert charge is not None
        if payment.source != SOURCE_STAFF:
            raise ApplicationError(_("Only payments recorded by staff can be undone."))
        if payment.undone_at is not None:
            raise ApplicationError(_("This payment was already undone."))
        payment.status = UNDONE
        payment.undone_at = timezone.now()
        payment.undone_by = recorded_user(actor)
        payment.undo_reason = reason
        payment.save(update_fields=["status", "undone_at", "undone_by", "undo_reason", "updated_at"])
        confirmed = charge.payments.filter(status=PaymentDetails.CONFIRMED).count()
        why = _("Payment %(id)s of %(amount)s undone: %(reason)s") % {
            "id": payment.gateway_payment_id,
            "amount": brl(payment.amount),
            "reason": reason,
        }
        if charge.state == S.PAID and confirmed == 0:
            still_payable = charge.gateway_cancel_due or not charge.gateway_code
            transition(
                charge,
                S.ISSUED if still_payable else S.CANCELLED,
                actor=actor,
                reason=why,
                gateway_cancel_due=False,
                paid_twice=False,
            )
        else:
            charge.paid_twice = confirmed > 1
            charge.save(update_fields=["paid_twice", "updated_at"])
            ChargeEvent.objects.create(
                charge=charge,
                from_state=charge.state,
                to_state=charge.state,
                actor=recorded_user(actor),
                reason=why,
            )
    return payment
