"""The payer's id at a gateway that keeps customers (Asaas), one per customer and bank account."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class GatewayCustomer(models.Model):
    """Registered once, reused for every later charge of this customer through this account.

    The id is per account: two Asaas accounts (or one account's sandbox and production keys, which
    are separate Asaas accounts) each know the payer under their own id. Changing an account's
    environment therefore forgets these rows (see ``providers``' form).
    """

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="gateway_ids",
    )
    bank_account = models.ForeignKey(
        "providers.BankAccount",
        verbose_name=_("bank account"),
        on_delete=models.CASCADE,
        related_name="gateway_customers",
    )
    sandbox = models.BooleanField(_("sandbox"), default=False)
    gateway_customer_id = models.CharField(_("id at the gateway"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer at a gateway")
        verbose_name_plural = _("customers at gateways")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "bank_account", "sandbox"], name="gatewaycustomer_one_per_environment"
            )
        ]

    def __str__(self) -> str:
        return self.gateway_customer_id
