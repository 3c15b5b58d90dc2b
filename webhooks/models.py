"""Outbound events: the endpoints staff configure, the outbox, and the log of every delivery.

An :class:`Event` row is written in the same transaction as the change it reports (a charge paid, a
customer blocked): a rollback removes it, a commit keeps it, so no event is lost and none is
invented. After commit it gets one :class:`Delivery` per endpoint that wants it; deliveries are
posted by tasks, retried with backoff for ``WEBHOOK_RETRY_HOURS``, and every attempt is kept.
"""

from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField


class EventType(models.TextChoices):
    CUSTOMER_BLOCKED = "customer.blocked", _("Customer blocked")
    CUSTOMER_UNBLOCKED = "customer.unblocked", _("Customer unblocked")
    CHARGE_ISSUED = "charge.issued", _("Charge issued")
    CHARGE_PAID = "charge.paid", _("Charge paid")
    CHARGE_CANCELLED = "charge.cancelled", _("Charge cancelled")
    CHARGE_WRITTEN_OFF = "charge.written_off", _("Charge written off")


class Endpoint(models.Model):
    """A URL that receives events as signed JSON POSTs."""

    name = models.CharField(_("name"), max_length=80)
    url = models.URLField(_("URL"), max_length=500)
    secret = EncryptedCharField(
        _("signing secret"),
        max_length=255,
        help_text=_(
            "Shared with the receiver, which checks each request's signature with it. "
            "Stored encrypted; never shown back."
        ),
    )
    event_types = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_("Events this endpoint receives; none selected means all of them."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class Event(models.Model):
    """One thing that happened, as receivers see it. Append-only."""

    event_id = models.UUIDField(_("event id"), unique=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=40, choices=EventType.choices)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    data = models.JSONField(_("data"), default=dict, encoder=DjangoJSONEncoder)
    dispatched_at = models.DateTimeField(
        _("deliveries made at"), null=True, blank=True, help_text=_("Empty until its deliveries are made.")
    )

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["occurred_at"], name="webhook_event_occurred_idx"),
            models.Index(
                fields=["occurred_at"],
                condition=models.Q(dispatched_at__isnull=True),
                name="webhook_event_undispatched_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.event_id}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Gave up")


class Delivery(models.Model):
    """One event for one endpoint: its state and its next attempt."""

    event = models.ForeignKey(
        Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries"
    )
    endpoint = models.ForeignKey(
        Endpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True, default=timezone.now)
    retry_until = models.DateTimeField(_("retried until"))
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once_per_endpoint"),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due_idx"),
            models.Index(fields=["created_at"], name="webhook_delivery_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class DeliveryAttempt(models.Model):
    """One POST of a delivery: when, what came back. Append-only."""

    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    response_excerpt = models.TextField(_("response (start)"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery", "at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {date_format(timezone.localtime(self.at), 'SHORT_DATETIME_FORMAT')}"
