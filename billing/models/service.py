"""The trust unblock (*desbloqueio de confiança*): at most one per customer and billing cycle."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TrustUnblock(models.Model):
    """Service given back for a few days to a customer blocked for debt, before they pay.

    ``cycle`` is the first day of the month of the oldest overdue charge when it was granted: the
    unique constraint is what makes it once per cycle, even when two requests race.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="trust_unblocks",
    )
    cycle = models.DateField(_("billing cycle"))
    granted_on = models.DateField(_("granted on"))
    last_day = models.DateField(_("last day"), help_text=_("Blocked again the day after, if still unpaid."))
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("by (page)"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("trust unblock")
        verbose_name_plural = _("trust unblocks")
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "cycle"], name="trustunblock_once_per_cycle"),
        ]
        indexes = [models.Index(fields=["customer", "last_day"], name="trustunblock_customer_last_idx")]

    def __str__(self) -> str:
        return f"{self.customer} · {self.cycle:%m/%Y}"
