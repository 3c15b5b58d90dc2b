"""Every inbound gateway request, stored raw before anything else happens (the inbox)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued for verification")
    PROCESSED = "processed", _("Processed")
    INVALID = "invalid", _("Invalid")
    REJECTED = "rejected", _("Rejected")
    RETRYING = "retrying", _("Waiting for retry")
    FAILED = "failed", _("Failed")
    OVERFLOW = "overflow", _("Over the waiting cap")


class Notification(models.Model):
    gateway = models.CharField(_("gateway"), max_length=20)
    bank_account = models.ForeignKey(
        "providers.BankAccount",
        verbose_name=_("bank account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        db_index=False,  # the indexes below lead with it
    )
    path = models.CharField(_("path"), max_length=300)
    headers = models.JSONField(_("headers"), default=dict)
    body = models.TextField(_("raw body"), blank=True)
    remote_addr = models.GenericIPAddressField(_("source address"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    status = models.CharField(
        _("outcome"), max_length=12, choices=NotificationStatus.choices, default=NotificationStatus.RECEIVED
    )
    error = models.TextField(_("error"), blank=True)
    payment_token = models.CharField(_("payment token"), max_length=128, blank=True)
    charge_reference = models.CharField(_("charge reference"), max_length=255, blank=True)
    #: The gateway's own id of the event (Asaas): one event is applied at most once per account.
    event_id = models.CharField(_("event id"), max_length=128, blank=True)
    charge = models.ForeignKey(
        "billing.Charge",
        verbose_name=_("charge"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        db_index=False,  # a partial index below: most rows have none
    )
    payment = models.ForeignKey(
        "billing.Payment",
        verbose_name=_("payment"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index below: most rows have none
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="notification_status_idx"),
            models.Index(fields=["payment_token"], name="notification_token_idx"),
            models.Index(fields=["bank_account", "received_at"], name="notification_account_idx"),
            # The intake's waiting cap counts these per account (billing.selectors.notifications).
            models.Index(
                fields=["bank_account", "gateway"],
                condition=models.Q(status__in=["received", "queued", "retrying"]),
                name="notification_waiting_idx",
            ),
            # Partial: the intake's INSERT (no charge, no payment yet, no event id from Juno or
            # Mycontas) adds an entry to none of these three.
            models.Index(
                fields=["charge"], condition=models.Q(charge__isnull=False), name="notification_charge_idx"
            ),
            models.Index(
                fields=["payment"], condition=models.Q(payment__isnull=False), name="notification_payment_idx"
            ),
            models.Index(
                fields=["bank_account", "event_id"],
                condition=~models.Q(event_id=""),
                name="notification_event_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} #{self.pk}"
