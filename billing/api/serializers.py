"""The shapes of the notification API, for the OpenAPI schema (the view parses the raw body itself).

Field limits are the ones the service enforces (billing.services.notifications), so a request the
schema accepts is one the service can store and check.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from billing.services.notifications import FIELD_LIMITS, MYCONTAS_FIELD_LIMITS


class JunoNotificationForm(serializers.Serializer):
    """What Boleto Fácil POSTs on every payment event (unsigned: a hint to ask the gateway)."""

    paymentToken = serializers.CharField(
        max_length=FIELD_LIMITS["paymentToken"],
        help_text=_("The token to ask fetch-payment-details with; the only field that is trusted."),
    )
    chargeReference = serializers.CharField(
        max_length=FIELD_LIMITS["chargeReference"],
        required=False,
        allow_blank=True,
        help_text=_(
            "Our reference of the charge. Must match the gateway's payment when given; on "
            "/retorno/juno_confirma.php it (or chargeCode) is required to find the bank account."
        ),
    )
    chargeCode = serializers.CharField(
        max_length=FIELD_LIMITS["chargeCode"],
        required=False,
        allow_blank=True,
        help_text=_("The gateway's code of the charge. Must match the gateway's payment when given."),
    )


class MycontasReturnForm(serializers.Serializer):
    """Mycontas' return POST: every parameter of the charge request plus its number and page."""

    txtCod_cliente = serializers.CharField(
        max_length=20, help_text=_("The account code; must match the bank account's.")
    )
    txtCod_senha = serializers.CharField(
        max_length=255, help_text=_("The account's billing password; must match the bank account's.")
    )
    txtReferencia = serializers.CharField(
        max_length=MYCONTAS_FIELD_LIMITS["txtReferencia"], help_text=_("Our reference of the charge.")
    )
    cobrancaID = serializers.CharField(
        max_length=MYCONTAS_FIELD_LIMITS["cobrancaID"],
        required=False,
        help_text=_("The charge's number at Mycontas (cobrancaID or txtNumero is required)."),
    )
    txtNumero = serializers.CharField(
        max_length=MYCONTAS_FIELD_LIMITS["txtNumero"],
        required=False,
        help_text=_("The charge's number, as the manual's introduction names it."),
    )
    txtUrl = serializers.CharField(
        max_length=MYCONTAS_FIELD_LIMITS["txtUrl"],
        required=False,
        allow_blank=True,
        help_text=_("The charge's page."),
    )


class NotificationAnswer(serializers.Serializer):
    """200: stored and processed, or stored and queued for a retry."""

    status = serializers.ChoiceField(
        choices=["processed", "retrying"],
        help_text=_("processed, or retrying when the gateway could not be asked and a task will retry it."),
    )
    notification = serializers.IntegerField(help_text=_("The stored notification's id."))
    detail = serializers.CharField(allow_blank=True)


class NotificationError(serializers.Serializer):
    """Any refusal: what is wrong, and the stored notification's id when it was stored."""

    detail = serializers.CharField()
    status = serializers.CharField(required=False, help_text=_("The stored notification's outcome."))
    notification = serializers.IntegerField(required=False, allow_null=True)
    errors = serializers.DictField(
        child=serializers.CharField(), required=False, help_text=_("Field (or body, content_type) → message.")
    )
