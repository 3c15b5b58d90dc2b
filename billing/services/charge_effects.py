"""What a charge's change of state sets off beyond its own row, inside the same transaction.

Called by :func:`billing.services.transitions.transition` (the one place a charge's state changes),
so every path (notifications, the reconciliation, staff's manual payments, cancellations, issues)
has the same effects:

- an outbound event (``charge.issued``, ``charge.paid``, ``charge.cancelled``,
  ``charge.written_off``) written to the outbox in the caller's transaction;
- when a charge that was open past its due date stops being open, its customer's service status is
  re-evaluated by a task right after the commit (billing.services.service_status): a payment that
  leaves nothing overdue gives the service back within seconds.
"""

from __future__ import annotations

from typing import Any

from billing.models import Charge, ChargeState, Payment
from core.dates import today
from core.queue import enqueue
from webhooks.models import EventType
from webhooks.services import event_record

S = ChargeState
SERVICE_STATUS_REFRESH = "billing.service_status_refresh"

#: Charges in these states can make a customer overdue (see billing.services.service_status). A
#: written-off boleto (baixado: past the days the bank accepts it) is still owed: writing it off
#: neither unblocks its customer nor spares them the block; paying it (still recorded) does.
OVERDUE_STATES: frozenset[str] = frozenset({S.ISSUED, S.WRITTEN_OFF})
EVENTS: dict[str, str] = {
    S.ISSUED: EventType.CHARGE_ISSUED,
    S.PAID: EventType.CHARGE_PAID,
    S.CANCELLED: EventType.CHARGE_CANCELLED,
    S.WRITTEN_OFF: EventType.CHARGE_WRITTEN_OFF,
}
#: Back to ``issued`` after a refused cancel is not a new issue.
NOT_AN_ISSUE = frozenset({S.CANCEL_REQUESTED})


def charge_data(charge: Charge) -> dict[str, Any]:
    """The charge as receivers of outbound events see it."""
    return {
        "id": charge.pk,
        "reference": charge.reference,
        "customer_id": charge.customer_id,
        "bank_account_id": charge.bank_account_id,
        "amount": charge.amount,
        "due_date": charge.due_date,
        "billing_month": charge.billing_month,
        "carne_id": charge.carne_id,
        "installment": charge.installment_number,
        "state": charge.state,
        "gateway_code": charge.gateway_code,
        "link": charge.link,
        "linha_digitavel": charge.linha_digitavel,
    }


def _payment_data(charge: Charge, payment: Payment | None) -> dict[str, Any] | None:
    if payment is None:
        payment = charge.payments.order_by("-created_at", "-id").first()
    if payment is None:
        return None
    return {
        "amount": payment.amount,
        "paid_on": payment.paid_on,
        "fee": payment.fee,
        "gateway": payment.gateway,
        "gateway_payment_id": payment.gateway_payment_id,
        "source": payment.source,
    }


def after_transition(
    charge: Charge, *, from_state: str, to_state: str, payment: Payment | None = None
) -> None:
    """The effects above, for a charge the caller holds locked inside a transaction.

    ``payment``: the payment that paid it, when the caller has it (else the latest one is read).
    """
    event_type = EVENTS.get(to_state)
    if event_type and not (to_state == S.ISSUED and from_state in NOT_AN_ISSUE):
        data: dict[str, Any] = {"charge": charge_data(charge)}
        if to_state == S.PAID:
            data["payment"] = _payment_data(charge, payment)
        event_record(type=event_type, data=data)
    leaves_overdue = from_state in OVERDUE_STATES and to_state not in OVERDUE_STATES
    if leaves_overdue and _may_release_a_block(charge, to_state):
        enqueue(SERVICE_STATUS_REFRESH, charge.customer_id)


def _may_release_a_block(charge: Charge, to_state: str) -> bool:
    """An overdue boleto settled, or a bill staff issued again for a past month whose boleto was
    written off paid (it settles that month too): the customer's standing is looked at again.

    The look for a written-off boleto is made only for a bill of a month already gone, so a payment
    of an ordinary bill costs no statement more; a month written off and billed again within itself
    is released by the next daily pass.
    """
    today_ = today()
    if charge.due_date < today_:
        return True
    if to_state != S.PAID or charge.billing_month >= today_.replace(day=1):
        return False
    siblings = Charge.objects.filter(customer_id=charge.customer_id, billing_month=charge.billing_month)
    return siblings.filter(state=S.WRITTEN_OFF).exclude(pk=charge.pk).exists()
