"""Daily comparison of each Juno account's confirmed payments with ours."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReconciliationRun(models.Model):
    bank_account = models.ForeignKey(
        "providers.BankAccount", verbose_name=_("bank account"), on_delete=models.CASCADE, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    gateway_payments = models.PositiveIntegerField(_("payments at the gateway"), default=0)
    local_payments = models.PositiveIntegerField(_("payments here"), default=0)
    repaired = models.PositiveIntegerField(_("repaired"), default=0)
    differences = models.PositiveIntegerField(_("differences"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.bank_account_id} {self.period_start}..{self.period_end}"


class DifferenceKind(models.TextChoices):
    MISSING_HERE = "missing_here", _("Missing here")
    MISSING_THERE = "missing_there", _("Missing at the gateway")
    AMOUNT_DIFFERS = "amount_differs", _("Amount differs")
    STATE_DIFFERS = "state_differs", _("State differs")
    #: An open charge here that the gateway lists as cancelled: cancelled here too.
    CANCELLED_THERE = "cancelled_there", _("Cancelled at the gateway")
    #: An open charge here that a complete listing of its due date does not hold (reported only).
    NOT_LISTED = "not_listed", _("Not listed by the gateway")


class ReconciliationDifference(models.Model):
    run = models.ForeignKey(
        ReconciliationRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="items"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DifferenceKind.choices)
    charge = models.ForeignKey(
        "billing.Charge", verbose_name=_("charge"), on_delete=models.SET_NULL, null=True, blank=True
    )
    gateway_payment_id = models.CharField(_("gateway payment id"), max_length=64, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    repaired = models.BooleanField(_("repaired"), default=False)

    class Meta:
        verbose_name = _("reconciliation difference")
        verbose_name_plural = _("reconciliation differences")

    def __str__(self) -> str:
        return f"{self.kind} {self.gateway_payment_id}"
