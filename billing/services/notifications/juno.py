"""Juno's notifications: the POST is unsigned, so its fields are only a hint.

``fetch-payment-details`` with the ``paymentToken`` is the only word that counts; the charge it
names must match the hint, and the payment is applied to that charge of the notified account.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from billing.models import Charge, Notification, NotificationStatus
from billing.services.notifications.confirmed import (
    apply_confirmed_payment,
    confirmed_payment,
    no_matching_charge,
)
from billing.services.notifications.outcome import NotificationResult, Outcome, finish
from billing.services.payments import lock_charge
from gateways.base import (
    JUNO,
    InboundNotification,
    NotificationInvalid,
    PaymentDetails,
)
from gateways.juno.adapter import parse_notification
from providers.models import BankAccount, Gateway

N = NotificationStatus

#: Field limits: the model's columns (and what the gateway sends).
FIELD_LIMITS = {"paymentToken": 128, "chargeReference": 255, "chargeCode": 64}


def parse(form: Mapping[str, str]) -> InboundNotification:
    return parse_notification(form)


def _charge(account_filter: Q, *, code: str, reference: str) -> Charge | None:
    """The charge named by a gateway code or our reference (a carnê's installments share one)."""
    if code:
        found = list(Charge.objects.filter(account_filter, gateway_code=code)[:2])
        if len(found) == 1:
            return found[0]
    if reference:
        return Charge.objects.filter(account_filter, reference=reference).first()
    return None


def _charge_locked(account: BankAccount, *, code: str, reference: str) -> Charge | None:
    """:func:`_charge` within one account, row-locked (inside the caller's transaction)."""
    charge = lock_charge(bank_account=account, gateway_code=code) if code else None
    if charge is None and reference:
        charge = lock_charge(bank_account=account, reference=reference)
    return charge


def require_charge_hint(inbound: InboundNotification) -> None:
    """MK-Auth's path carries no account: it is found through the charge, so one must be named."""
    if not inbound.charge_reference:
        raise NotificationInvalid(
            _("The notification names no charge."),
            {"chargeReference": _("Required on this path: the account is found through the charge.")},
        )


def resolve_account(inbound: InboundNotification) -> BankAccount | None:
    """MK-Auth's path carries no account: the Juno account of the charge the hint names."""
    require_charge_hint(inbound)
    charge = _charge(
        Q(bank_account__gateway=Gateway.JUNO), code=inbound.charge_code, reference=inbound.charge_reference
    )
    return charge.bank_account if charge is not None else None


def _hint_mismatch(inbound: InboundNotification, details: PaymentDetails) -> str:
    pairs = (
        (_("charge reference"), inbound.charge_reference, details.charge_reference),
        (_("charge code"), inbound.charge_code, details.charge_code),
    )
    for label, told, confirmed in pairs:
        if told and confirmed and told != confirmed:
            return _("The notification's %(field)s does not match the gateway's payment.") % {"field": label}
    if not (details.charge_code or details.charge_reference):
        return _("The gateway's payment names no charge.")
    return ""


def process(
    notification: Notification, account: BankAccount, inbound: InboundNotification, *, actor_label: str
) -> NotificationResult:
    """Ask the gateway about the token; apply the payment it confirms to the charge it names."""
    details = confirmed_payment(notification, account, inbound.payment_token)
    if isinstance(details, NotificationResult):
        return details
    mismatch = _hint_mismatch(inbound, details)
    if mismatch:
        return finish(notification, Outcome.REJECTED, N.REJECTED, mismatch)
    try:
        return _apply(notification, account, details, actor_label=actor_label)
    except IntegrityError:  # a concurrent insert of this payment won: the second pass reads it
        return _apply(notification, account, details, actor_label=actor_label)


def _apply(
    notification: Notification, account: BankAccount, details: PaymentDetails, *, actor_label: str
) -> NotificationResult:
    with transaction.atomic():  # the payment and the notification's outcome commit together
        charge = _charge_locked(account, code=details.charge_code, reference=details.charge_reference)
        if charge is None:
            return no_matching_charge(notification, details)
        return apply_confirmed_payment(
            notification, charge, gateway=JUNO, details=details, account=account, actor_label=actor_label
        )
