"""The steps every payment notification shares once its gateway is asked: read the payment the
gateway confirms, then apply it to the charge it names (locked by the caller) and end the row.

``fields`` are what a gateway records on every outcome besides (Asaas: its ``event_id``); what a
gateway checks between these steps (tokens, hints, deleted or unsettled payments) stays its own.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from billing.models import Charge, Notification, NotificationStatus
from billing.services.gateway_access import gateway_for
from billing.services.notifications.outcome import NotificationResult, Outcome, finish, retry_later
from billing.services.payments import payment_apply
from gateways.base import GatewayAnswerInvalid, GatewayRejected, PaymentDetails
from providers.models import BankAccount

N = NotificationStatus


def confirmed_payment(
    notification: Notification, account: BankAccount, payment_token: str, **fields: object
) -> PaymentDetails | NotificationResult:
    """The payment as the gateway states it; or, when it cannot be had, how the notification ended.

    A payment the gateway does not know rejects the notification (a hint never moves money); an
    answer that could not be read is asked again later. An unavailable gateway raises on to the
    processing, which retries.
    """
    try:
        return gateway_for(account).fetch_payment(payment_token)
    except GatewayRejected as exc:
        return finish(
            notification,
            Outcome.REJECTED,
            N.REJECTED,
            _("The gateway does not know this payment: %(error)s") % {"error": exc.message},
            **fields,
        )
    except GatewayAnswerInvalid as exc:
        return retry_later(notification, exc.message)


def no_matching_charge(
    notification: Notification, details: PaymentDetails, **fields: object
) -> NotificationResult:
    """The confirmed payment names no charge of the account: failed, for staff to look at."""
    return finish(
        notification,
        Outcome.FAILED,
        N.FAILED,
        _("No charge of this account matches payment %(id)s (code %(code)s, reference %(reference)s).")
        % {
            "id": details.payment_id,
            "code": details.charge_code,
            "reference": details.charge_reference,
        },
        **fields,
    )


def apply_confirmed_payment(
    notification: Notification,
    charge: Charge,
    *,
    gateway: str,
    details: PaymentDetails,
    account: BankAccount,
    actor_label: str,
    **fields: object,
) -> NotificationResult:
    """Apply the payment to ``charge`` (row-locked by the caller, inside its transaction) and end the
    notification in the same transaction.

    A payment already recorded on another charge applies nothing and fails the notification, so
    staff see it: a success never hides a payment that went elsewhere.
    """
    outcome = payment_apply(
        charge,
        gateway=gateway,
        details=details,
        notification=notification,
        actor_label=actor_label,
        account=account,
    )
    if outcome.elsewhere:
        return finish(
            notification, Outcome.FAILED, N.FAILED, outcome.elsewhere_message(), charge=charge, **fields
        )
    return finish(
        notification,
        Outcome.PROCESSED,
        N.PROCESSED,
        "",
        charge=outcome.charge,
        payment=outcome.payment,
        **fields,
    )
