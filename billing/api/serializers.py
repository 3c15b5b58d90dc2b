"""The shapes of the notification API, for the OpenAPI schema (the view parses the raw body itself).

Field limits are the ones the service enforces (each gateway's module in
billing.services.notifications), so a request the schema accepts is one the service can store and check.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from rest_framework import serializers

from billing.services.notifications.asaas import LIMITS as ASAAS_LIMITS
from billing.services.notifications.juno import FIELD_LIMITS
from billing.services.notifications.mycontas import FIELD_LIMITS as MYCONTAS_FIELD_LIMITS

#: What ``str.strip()`` removes, spelled out: regex engines disagree on ``\s``.
WHITESPACE = r"\t\n\u000b\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: Not blank once trimmed, no NUL character (what the service checks).
FILLED = r"^[^\u0000]*[^" + WHITESPACE + r"\u0000][^\u0000]*$"
#: Anything but a NUL character.
NO_NUL = r"^[^\u0000]*$"


def trimmed_at_most(limit: int, *, blank: bool) -> str:
    """No NUL character and, once trimmed as the service trims it, at most ``limit`` characters
    (and not blank unless ``blank``): what ``maxLength`` cannot say about a value that is trimmed."""
    space, visible, anything = f"[{WHITESPACE}]", f"[^{WHITESPACE}\\u0000]", r"[^\u0000]"
    text = f"{visible}(?:{anything}{{0,{limit - 2}}}{visible})?"
    if blank:
        text = f"(?:{text})?"
    return f"^{space}*{text}{space}*$"


def filled_text(limit: int, *, help_text: StrOrPromise) -> serializers.RegexField:
    """A required parameter: not blank once trimmed, no NUL character, at most ``limit`` characters."""
    return serializers.RegexField(FILLED, max_length=limit, help_text=help_text)


def optional_text(limit: int, *, help_text: StrOrPromise) -> serializers.RegexField:
    """A parameter that may be left out: no NUL character, at most ``limit`` characters."""
    return serializers.RegexField(NO_NUL, max_length=limit, required=False, help_text=help_text)


class JunoNotificationForm(serializers.Serializer):
    """What Boleto Fácil POSTs on every payment event (unsigned: a hint to ask the gateway)."""

    paymentToken = filled_text(
        FIELD_LIMITS["paymentToken"],
        help_text=_("The token to ask fetch-payment-details with; the only field that is trusted."),
    )
    chargeReference = optional_text(
        FIELD_LIMITS["chargeReference"],
        help_text=_("Our reference of the charge. Must match the gateway's payment when given."),
    )
    chargeCode = optional_text(
        FIELD_LIMITS["chargeCode"],
        help_text=_("The gateway's code of the charge. Must match the gateway's payment when given."),
    )


class LegacyJunoNotificationForm(JunoNotificationForm):
    """On MK-Auth's path the bank account is found through the charge: its reference is required."""

    chargeReference = filled_text(
        FIELD_LIMITS["chargeReference"],
        help_text=_("Our reference of the charge: finds the bank account; must match the gateway's payment."),
    )


class MycontasReturnForm(serializers.Serializer):
    """Mycontas' return POST: every parameter of the charge request plus its number and page.

    The manual names the number ``cobrancaID`` and, in its introduction, ``txtNumero``: both are
    accepted (``cobrancaID`` wins); the schema lists ``cobrancaID`` as the required one.
    """

    txtCod_cliente = filled_text(
        MYCONTAS_FIELD_LIMITS["txtCod_cliente"],
        help_text=_("The account code; must match the bank account's."),
    )
    txtCod_senha = filled_text(
        MYCONTAS_FIELD_LIMITS["txtCod_senha"],
        help_text=_("The account's billing password; must match the bank account's. Never stored."),
    )
    txtReferencia = filled_text(
        MYCONTAS_FIELD_LIMITS["txtReferencia"], help_text=_("Our reference of the charge.")
    )
    cobrancaID = filled_text(
        MYCONTAS_FIELD_LIMITS["cobrancaID"], help_text=_("The charge's number at Mycontas.")
    )
    txtNumero = optional_text(
        MYCONTAS_FIELD_LIMITS["txtNumero"],
        help_text=_("The charge's number, as the manual's introduction names it (used without cobrancaID)."),
    )
    txtUrl = optional_text(MYCONTAS_FIELD_LIMITS["txtUrl"], help_text=_("The charge's page."))


class NotificationAnswer(serializers.Serializer):
    """200: stored and queued; verified and applied in a task."""

    status = serializers.ChoiceField(
        choices=["received"],
        help_text=_("received: stored, and queued for verification (the inbox shows what came of it)."),
    )
    notification = serializers.IntegerField(help_text=_("The stored notification's id."))
    detail = serializers.CharField(allow_blank=True)


class NotificationError(serializers.Serializer):
    """Any refusal: what is wrong, and the stored notification's id when it was stored."""

    detail = serializers.CharField()
    status = serializers.CharField(
        required=False,
        allow_null=True,
        help_text=_("The stored notification's outcome; null when not stored."),
    )
    notification = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("The stored notification's id; null when not stored.")
    )
    errors = serializers.DictField(
        child=serializers.CharField(), required=False, help_text=_("Field (or body, content_type) → message.")
    )


class AsaasPaymentHint(serializers.Serializer):
    """The part of the webhook's ``payment`` object read at the intake (Asaas sends the whole payment;
    every other property is ignored: the payment is read again from Asaas)."""

    id = serializers.RegexField(
        trimmed_at_most(ASAAS_LIMITS["payment.id"], blank=False),
        help_text=_("Asaas' id of the payment (pay_...): the one that is asked about."),
    )
    externalReference = serializers.RegexField(
        trimmed_at_most(ASAAS_LIMITS["payment.externalReference"], blank=True),
        required=False,
        allow_null=True,
        help_text=_("Our reference of the charge. Must match the payment Asaas returns when given."),
    )


class AsaasWebhookBody(serializers.Serializer):
    """Asaas' webhook: an event naming a payment (unsigned: authenticated by the account's token)."""

    id = serializers.RegexField(
        trimmed_at_most(ASAAS_LIMITS["id"], blank=True),
        required=False,
        allow_null=True,
        help_text=_(
            "Asaas' event id (evt_...): an event already applied is acknowledged without asking again."
        ),
    )
    event = serializers.RegexField(
        FILLED, help_text=_("PAYMENT_RECEIVED, PAYMENT_CONFIRMED, PAYMENT_DELETED...; others change nothing.")
    )
    payment = AsaasPaymentHint()
