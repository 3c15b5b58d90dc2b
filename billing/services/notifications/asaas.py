"""Asaas' webhooks: a JSON event naming a payment, authenticated by the account's token header.

The token Asaas sends in ``asaas-access-token`` is stored only as a keyed hash (like Mycontas'
password), and every processing compares that hash with the account's token in constant time: a
wrong or missing token is ``rejected`` (401 at the intake) and nothing is applied, however often
the row is processed again. The body is a hint: the payment is read again from Asaas before money
moves, so a late, repeated or out-of-order event changes nothing. An event already processed for
the account (same Asaas event id) is acknowledged without asking Asaas again.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import Charge, Notification, NotificationStatus
from billing.models import ChargeState as S
from billing.services.notifications.confirmed import (
    apply_confirmed_payment,
    confirmed_payment,
    no_matching_charge,
)
from billing.services.notifications.outcome import NotificationResult, Outcome, finish
from billing.services.payments import lock_charge
from billing.services.transitions import can_transition, transition
from gateways.asaas import client as asaas_client
from gateways.asaas.adapter import parse_notification
from gateways.base import (
    ASAAS,
    InboundNotification,
    NotificationEvent,
    NotificationInvalid,
)
from providers.models import BankAccount

N = NotificationStatus

CONTENT_TYPE = "application/json"
TOKEN_HEADER = asaas_client.WEBHOOK_TOKEN_HEADER
TOKEN_HASH_PREFIX = "hmac-sha256:"  # noqa: S105 - a marker, not a secret
#: What the columns hold (the payment id goes to ``payment_token``, the event id to ``event_id``).
LIMITS = {"payment.id": 128, "payment.externalReference": 255, "id": 128}


def token_digest(token: str) -> str:
    """A keyed hash of a webhook token: lets a stored webhook be authenticated again later."""
    digest = hmac.new(settings.SECRET_KEY.encode(), token.encode(), hashlib.sha256).hexdigest()
    return TOKEN_HASH_PREFIX + digest


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers with the token replaced by its keyed hash (whatever the header name's case)."""
    return {
        name: token_digest(value) if name.lower() == TOKEN_HEADER else value
        for name, value in headers.items()
    }


def _stored_token_digest(headers: Mapping[str, str]) -> str | None:
    for name, value in (headers or {}).items():
        if name.lower() == TOKEN_HEADER:
            return str(value)
    return None


def authentic_headers(headers: Mapping[str, str], account: BankAccount) -> bool:
    """The (stored, redacted) token hash equals the account's; an account without a token accepts
    nothing."""
    stored = _stored_token_digest(headers)
    expected = account.webhook_token or ""
    if stored is None or not expected:
        return False
    return hmac.compare_digest(stored.encode(), token_digest(expected).encode())


def authentic(notification: Notification, account: BankAccount) -> bool:
    """:func:`authentic_headers` for a stored notification."""
    return authentic_headers(notification.headers, account)


def intake_refusal(account: BankAccount, inbound: InboundNotification, headers: Mapping[str, str]) -> str:
    """Checked before the webhook is stored as received: a missing or wrong token is answered 401."""
    if authentic_headers(headers, account):
        return ""
    return _("The webhook's token is missing or wrong: nothing was applied.")


def parse(body: Mapping[str, Any]) -> InboundNotification:
    """The adapter's reading of the body, within what the columns hold (trimmed lengths), without NUL
    characters (which no text column takes, nor the messages that quote the event).

    A missing event id is derived from the event and the payment: its length is not the sender's
    fault, so only an ``id`` Asaas gave is held to the column (a derived one is cut to it).
    """
    inbound = parse_notification(body)
    given_id = asaas_client.text(body.get("id"))
    sized = {
        "payment.id": inbound.payment_token,
        "payment.externalReference": inbound.charge_reference,
        "id": given_id,
    }
    errors = {
        name: _("At most %(limit)d characters.") % {"limit": LIMITS[name]}
        for name, value in sized.items()
        if len(value) > LIMITS[name]
    }
    texts = {**sized, "event": inbound.gateway_event}
    errors.update({name: _("Contains a NUL character.") for name, value in texts.items() if "\x00" in value})
    if errors:
        raise NotificationInvalid(_("Some fields are malformed."), errors)
    return inbound


def _already_processed(
    notification: Notification, account: BankAccount, event_id: str
) -> Notification | None:
    return (
        Notification.objects.filter(
            gateway=ASAAS, bank_account=account, event_id=event_id, status=N.PROCESSED
        )
        .exclude(pk=notification.pk)
        .order_by("pk")
        .first()
    )


def process(
    notification: Notification, account: BankAccount, inbound: InboundNotification, *, actor_label: str
) -> NotificationResult:
    """Authenticate, then read the payment from Asaas and apply what it says (once)."""
    if not authentic(notification, account):
        return finish(
            notification,
            Outcome.UNAUTHORIZED,
            N.REJECTED,
            _("The webhook's token is missing or wrong: nothing was applied."),
        )
    notification.event_id = inbound.event_id[: LIMITS["id"]]
    earlier = _already_processed(notification, account, notification.event_id)
    if earlier is not None:
        return finish(
            notification,
            Outcome.PROCESSED,
            N.PROCESSED,
            _("Event already applied by notification %(id)s.") % {"id": earlier.pk},
            event_id=notification.event_id,
            charge=earlier.charge,
            payment=earlier.payment,
        )
    if inbound.event in (NotificationEvent.OVERDUE, NotificationEvent.OTHER):
        return finish(
            notification,
            Outcome.PROCESSED,
            N.PROCESSED,
            _("Asaas event %(event)s: nothing to apply.") % {"event": inbound.gateway_event},
            event_id=notification.event_id,
        )
    details = confirmed_payment(notification, account, inbound.payment_token, event_id=notification.event_id)
    if isinstance(details, NotificationResult):
        return details
    if (
        inbound.charge_reference
        and details.charge_reference
        and inbound.charge_reference != details.charge_reference
    ):
        return finish(
            notification,
            Outcome.REJECTED,
            N.REJECTED,
            _("The notification's %(field)s does not match the gateway's payment.")
            % {"field": _("charge reference")},
            event_id=notification.event_id,
        )
    with transaction.atomic():  # what the payment says and the notification's outcome commit together
        charge = lock_charge(bank_account=account, gateway_code=details.charge_code)
        if charge is None:
            return no_matching_charge(notification, details, event_id=notification.event_id)
        if details.raw.get("deleted") is True:
            _cancelled_at_gateway(charge, actor_label=actor_label)
            return finish(
                notification, Outcome.PROCESSED, N.PROCESSED, event_id=notification.event_id, charge=charge
            )
        if not asaas_client.is_settled(details):
            return finish(
                notification,
                Outcome.PROCESSED,
                N.PROCESSED,
                _("Asaas says the payment is %(status)s: nothing to apply.")
                % {"status": details.gateway_status},
                event_id=notification.event_id,
                charge=charge,
            )
        return apply_confirmed_payment(
            notification,
            charge,
            gateway=ASAAS,
            details=details,
            account=account,
            actor_label=actor_label,
            event_id=notification.event_id,
        )


def _cancelled_at_gateway(charge: Charge, *, actor_label: str) -> None:
    """The payment was deleted at Asaas (by us or in its panel): the charge is cancelled here too."""
    reason = _("Deleted at Asaas")
    if charge.state == S.ISSUED:
        transition(charge, S.CANCEL_REQUESTED, actor_label=actor_label, reason=reason)
    if can_transition(charge.state, S.CANCELLED):
        transition(charge, S.CANCELLED, actor_label=actor_label, reason=reason)
