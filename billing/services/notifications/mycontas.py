"""Mycontas' return POST: the gateway tells us it registered a charge (its number and page).

The POST carries the account's code and password; both must match the bank account's (a
constant-time comparison). The stored body keeps a keyed hash of the password, never the password
itself, so a stored return can be checked again later. What the return changes on the charge is
the charges service's (:func:`billing.services.charges.charge_registered_at_gateway`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.utils.translation import gettext as _

from billing.models import Carne, Charge, Notification, NotificationStatus
from billing.services.charges import charge_registered_at_gateway
from billing.services.notifications.outcome import NotificationResult, Outcome, finish
from gateways.base import MYCONTAS, InboundNotification
from gateways.mycontas.adapter import parse_notification
from providers.models import BankAccount

N = NotificationStatus

#: Field limits: the model's columns (and what the gateway sends).
FIELD_LIMITS = {
    "txtCod_cliente": 20,
    "txtCod_senha": 255,
    "txtReferencia": 50,
    "cobrancaID": 64,
    "txtNumero": 64,
    "txtUrl": 500,
}
#: The field holding the account's billing password; stored only as a keyed hash.
PASSWORD_FIELD = "txtCod_senha"  # noqa: S105 - a field name, not a secret
PASSWORD_HASH_PREFIX = "hmac-sha256:"  # noqa: S105


def parse(form: Mapping[str, str]) -> InboundNotification:
    return parse_notification(form)


def password_digest(password: str) -> str:
    """A keyed hash of a Mycontas password: lets a stored notification be checked again later."""
    digest = hmac.new(settings.SECRET_KEY.encode(), password.encode(), hashlib.sha256).hexdigest()
    return PASSWORD_HASH_PREFIX + digest


def redact_body(text: str) -> str:
    """The body with the password replaced by its keyed hash (nothing else changes)."""
    pairs = parse_qsl(text, keep_blank_values=True)
    if not any(name == PASSWORD_FIELD for name, _value in pairs):
        return text
    return urlencode(
        [(name, password_digest(value) if name == PASSWORD_FIELD else value) for name, value in pairs]
    )


def _same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def authentic(account: BankAccount, inbound: InboundNotification) -> bool:
    """The stored body holds the password's keyed hash (see :func:`redact_body`): compare hashes."""
    code_ok = _same_secret(inbound.account_code, account.account_code or "")
    password_ok = _same_secret(inbound.password, password_digest(account.account_password or ""))
    return code_ok and password_ok and bool(account.account_password)


def intake_refusal(
    account: BankAccount, inbound: InboundNotification, headers: Mapping[str, str] | None = None
) -> str:
    """Checked before the return is stored as received: a wrong code or password is answered 403."""
    if authentic(account, inbound):
        return ""
    return _("The account code or password does not match the bank account's.")


def _charge(account: BankAccount, reference: str, number: str) -> Charge | None:
    charge = Charge.objects.filter(bank_account=account, reference=reference).first()
    if charge is not None:
        return charge
    carne = Carne.objects.filter(bank_account=account, reference=reference).first()
    if carne is None:
        return None
    # A carnê's return names the carnê: the installment with this number, else the next without one.
    installments = carne.installment_charges.order_by("installment_number")
    return installments.filter(gateway_code=number).first() or installments.filter(gateway_code="").first()


def process(
    notification: Notification, account: BankAccount, inbound: InboundNotification, *, actor_label: str
) -> NotificationResult:
    """Check the credentials, find the charge the return names and record its registration."""
    refusal = intake_refusal(account, inbound)
    if refusal:  # checked at intake already; checked again for a row reprocessed later
        return finish(notification, Outcome.FORBIDDEN, N.REJECTED, refusal)
    target = _charge(account, inbound.charge_reference, inbound.charge_number)
    if target is None:
        return finish(
            notification,
            Outcome.FAILED,
            N.FAILED,
            _("No charge of this account has the reference %(reference)s.")
            % {"reference": inbound.charge_reference},
        )
    registration = charge_registered_at_gateway(
        charge_id=target.pk,
        gateway=MYCONTAS,
        number=inbound.charge_number,
        link=inbound.charge_url,
        actor_label=actor_label,
    )
    if registration.discrepancy:  # a settled number or page is never replaced: staff look at it
        return finish(
            notification, Outcome.FAILED, N.FAILED, registration.discrepancy, charge=registration.charge
        )
    return finish(
        notification, Outcome.PROCESSED, N.PROCESSED, registration.link_refused, charge=registration.charge
    )
