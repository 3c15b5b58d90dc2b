"""Every reminder sent (or tried), one row per charge, step and channel."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Customer


class Outcome(models.TextChoices):
    """``queued`` → ``sending`` → ``sent`` / ``failed`` / ``skipped``; a row never goes back."""

    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class ReminderLog(models.Model):
    """One reminder for one charge through one channel, with its outcome.

    ``step_days`` is the step of the provider's schedule (days from the due date: -5 is five days
    before it); empty when staff sent it by hand. The unique constraint on (charge, step, channel)
    is what makes each step go out at most once, however many times or workers run the schedule.
    """

    charge = models.ForeignKey(
        "billing.Charge", verbose_name=_("charge"), on_delete=models.CASCADE, related_name="reminders"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="reminders"
    )
    step_days = models.SmallIntegerField(
        _("step (days from the due date)"), null=True, blank=True, help_text=_("Empty: sent by staff.")
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.QUEUED)
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("message"), blank=True)
    detail = models.TextField(_("detail"), blank=True)
    run = models.CharField(
        _("run"), max_length=32, blank=True, help_text=_("The schedule run that queued it.")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge", "step_days", "channel"],
                condition=models.Q(step_days__isnull=False),
                name="reminder_once_per_step_and_channel",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "outcome", "sent_at"], name="reminder_customer_sent_idx"),
            models.Index(fields=["run"], name="reminder_run_idx"),
            models.Index(fields=["created_at"], name="reminder_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.charge_id} {self.step_days} {self.channel}: {self.outcome}"


class OverdueCustomer(Customer):
    """The overdue list (*inadimplentes*) in the admin: customers, seen through their overdue boletos."""

    class Meta:
        proxy = True
        verbose_name = _("overdue customer")
        verbose_name_plural = _("overdue customers")
