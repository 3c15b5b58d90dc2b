"""Every outbound gateway exchange, redacted: the "Controle de logs" staff read."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ExchangeOutcome(models.TextChoices):
    OK = "ok", _("OK")
    REJECTED = "rejected", _("Rejected by the gateway")
    UNAVAILABLE = "unavailable", _("Gateway unreachable")
    INVALID = "invalid", _("Unintelligible answer")


class GatewayLog(models.Model):
    """Append-only. Request parameters are stored with every secret replaced by a mask."""

    created_at = models.DateTimeField(_("at"), auto_now_add=True)
    bank_account = models.ForeignKey(
        "providers.BankAccount",
        verbose_name=_("bank account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    gateway = models.CharField(_("gateway"), max_length=20)
    endpoint = models.CharField(_("endpoint"), max_length=60)
    method = models.CharField(_("method"), max_length=8, default="POST")
    url = models.CharField(_("URL"), max_length=300)
    request_params = models.JSONField(_("request (redacted)"), default=dict)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    response_body = models.TextField(_("response"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=ExchangeOutcome.choices)
    error_class = models.CharField(_("error class"), max_length=60, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    reference = models.CharField(_("reference"), max_length=255, blank=True)
    gateway_code = models.CharField(_("gateway code"), max_length=64, blank=True)
    charge = models.ForeignKey(
        "billing.Charge",
        verbose_name=_("charge"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="gateway_logs",
    )

    class Meta:
        verbose_name = _("gateway log")
        verbose_name_plural = _("gateway logs (Controle de logs)")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_at", "id"], name="gatewaylog_created_idx"),
            models.Index(fields=["bank_account", "created_at"], name="gatewaylog_account_idx"),
            models.Index(fields=["endpoint", "created_at"], name="gatewaylog_endpoint_idx"),
            models.Index(fields=["outcome", "created_at"], name="gatewaylog_outcome_idx"),
            models.Index(fields=["reference"], name="gatewaylog_reference_idx"),
            models.Index(fields=["gateway_code"], name="gatewaylog_code_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.endpoint} {self.outcome}"
