"""Payments: append-only, as the gateways confirmed them."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing.models import Payment
from core.admin import ReadOnlyAdminMixin
from core.pagination import ScalableAdminMixin


@admin.register(Payment)
class PaymentAdmin(ScalableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[misc]  # paginator: the mixin narrows ModelAdmin's type
    list_display = (
        "gateway_payment_id",
        "charge_link",
        "customer_name",
        "amount",
        "paid_on",
        "fee",
        "status",
        "amount_mismatch",
        "source",
        "created_at",
    )
    list_filter = ("gateway", "status", "amount_mismatch", "source", "paid_on")
    list_select_related = ("charge", "charge__customer")
    search_fields = ("^gateway_payment_id", "^charge__reference", "charge__customer__name")
    date_hierarchy = "paid_on"

    @admin.display(description=_("charge"), ordering="charge__reference")
    def charge_link(self, obj: Payment) -> str:
        url = reverse("admin:billing_charge_change", args=[obj.charge_id])
        return format_html('<a href="{}">{}</a>', url, obj.charge.reference)

    @admin.display(description=_("customer"), ordering="charge__customer__name")
    def customer_name(self, obj: Payment) -> str:
        return obj.charge.customer.name
