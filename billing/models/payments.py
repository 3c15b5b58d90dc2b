"""Payments confirmed by a gateway. Append-only: one row per gateway payment id, within the bank
account and the environment (sandbox or production) whose id space it belongs to."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentMethod(models.TextChoices):
    """How a payment staff record was made (gateway payments leave it empty)."""

    CASH = "dinheiro", _("Cash")
    PIX = "pix", _("PIX")
    TRANSFER = "transferencia", _("Bank transfer")
    CARD = "cartao", _("Card")
    OTHER = "outro", _("Other")


class Payment(models.Model):
    charge = models.ForeignKey(
        "billing.Charge", verbose_name=_("charge"), on_delete=models.PROTECT, related_name="payments"
    )
    gateway = models.CharField(_("gateway"), max_length=20)
    # A gateway's payment ids are unique within one account and one environment only: sandbox and
    # production sequences overlap, and two accounts are two id spaces.
    bank_account = models.ForeignKey(
        "providers.BankAccount",
        verbose_name=_("bank account"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The account that reported the payment: its ids are unique there."),
    )
    sandbox = models.BooleanField(_("sandbox"), help_text=_("Reported by the gateway's sandbox."))
    gateway_payment_id = models.CharField(_("gateway payment id"), max_length=64)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    paid_on = models.DateField(_("payment date"), null=True, blank=True)
    fee = models.DecimalField(_("fee"), max_digits=12, decimal_places=2, default=0)
    type = models.CharField(_("type"), max_length=40, blank=True)
    status = models.CharField(_("gateway status"), max_length=40)
    amount_mismatch = models.BooleanField(
        _("amount differs from charge"), default=False, help_text=_("Recorded as the gateway reported it.")
    )
    raw = models.JSONField(_("gateway payload"), default=dict, blank=True)
    notification = models.ForeignKey(
        "billing.Notification",
        verbose_name=_("notification"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payments",
    )
    source = models.CharField(
        _("source"),
        max_length=20,
        default="notification",
        help_text=_("notification, reconciliation or staff"),
    )
    # Payments staff record (at the counter, PIX to the provider, transfer...)
    method = models.CharField(
        _("method"), max_length=20, choices=PaymentMethod.choices, blank=True, default="", db_default=""
    )
    note = models.TextField(_("note"), blank=True, default="", db_default="")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    undo_reason = models.TextField(_("why it was undone"), blank=True, default="", db_default="")
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bank_account", "sandbox", "gateway_payment_id"], name="payment_unique_per_account"
            ),
        ]
        indexes = [
            models.Index(fields=["paid_on"], name="payment_paid_on_idx"),
            models.Index(fields=["created_at"], name="payment_created_idx"),
            # Covers the dashboard's money received per month (billing.selectors.dashboard).
            models.Index(fields=["paid_on", "charge", "amount"], name="payment_dashboard_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.gateway_payment_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """The account and environment default to the charge's account as it is now."""
        if self.bank_account_id is None:
            self.bank_account_id = self.charge.bank_account_id
        if self.sandbox is None:
            self.sandbox = self.bank_account.is_sandbox
        super().save(*args, **kwargs)
