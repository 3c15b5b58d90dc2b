"""Billing runs started from the admin ("Gerar cobranças"): who ran which month, progress, outcome."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BillingRunState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class BillingRun(models.Model):
    month = models.DateField(_("month"))
    bank_account = models.ForeignKey(
        "providers.BankAccount",
        verbose_name=_("bank account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("Empty: every account."),
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=BillingRunState.choices, default=BillingRunState.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    customers_total = models.PositiveIntegerField(_("customers"), default=0)
    customers_done = models.PositiveIntegerField(_("customers processed"), default=0)
    created = models.PositiveIntegerField(_("charges created"), default=0)
    amount = models.DecimalField(_("amount created"), max_digits=14, decimal_places=2, default=0)
    skipped = models.PositiveIntegerField(_("customers skipped"), default=0)
    queued = models.PositiveIntegerField(_("queued for issuing"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    reasons = models.JSONField(_("skipped, by reason"), default=dict, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.month:%m/%Y} #{self.pk}"

    @property
    def percent(self) -> int:
        if not self.customers_total:
            return 100 if self.state == BillingRunState.DONE else 0
        return min(100, round(100 * self.customers_done / self.customers_total))
