"""Payments: append-only, as the gateways confirmed them."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing.admin.collection import PaymentUndoMixin
from billing.admin.filters import GatewayFilter, PaymentSourceFilter, PaymentStatusFilter
from billing.labels import gateway_label, payment_source_label, payment_status_label, payment_type_label
from billing.models import Payment
from core.admin import ReadOnlyAdminMixin
from core.display import data_table
from core.pagination import ScalableAdminMixin


@admin.register(Payment)
class PaymentAdmin(PaymentUndoMixin, ScalableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[misc]  # paginator: the mixin narrows ModelAdmin's type
    # When, who, for which charge, how much, in what state; the gateway's id last.
    list_display = (
        "paid_on",
        "customer_name",
        "charge_link",
        "amount_display",
        "fee",
        "status_display",
        "payment_id_display",
    )
    list_display_links = ("payment_id_display",)
    list_filter = (
        GatewayFilter,
        PaymentStatusFilter,
        "amount_mismatch",
        PaymentSourceFilter,
        "method",
        "paid_on",
    )
    list_select_related = ("charge", "charge__customer")
    search_fields = ("^gateway_payment_id", "^charge__reference", "charge__customer__name")
    date_hierarchy = "paid_on"
    fields = (
        "charge_link",
        "customer_name",
        "gateway_display",
        "gateway_payment_id",
        "amount",
        "paid_on",
        "fee",
        "type_display",
        "status_display",
        "amount_mismatch",
        "source_display",
        "notification",
        "created_at",
        "updated_at",
        "raw_display",
    )
    readonly_fields = fields

    @admin.display(description=_("charge"), ordering="charge__reference")
    def charge_link(self, obj: Payment) -> str:
        url = reverse("admin:billing_charge_change", args=[obj.charge_id])
        return format_html('<a href="{}">{}</a>', url, obj.charge.reference)

    @admin.display(description=_("customer"), ordering="charge__customer__name")
    def customer_name(self, obj: Payment) -> str:
        url = reverse("admin:customers_customer_change", args=[obj.charge.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.charge.customer.name)

    @admin.display(description=_("id at the gateway"), ordering="gateway_payment_id")
    def payment_id_display(self, obj: Payment) -> str:
        return obj.gateway_payment_id

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj: Payment) -> str:
        """The amount, flagged when it differs from the charge's (the row is then worth a look)."""
        amount = number_format(obj.amount, 2)
        if not obj.amount_mismatch:
            return amount
        return format_html(
            '{} <span class="cobranca-late" title="{}">⚠</span>', amount, _("amount differs from charge")
        )

    @admin.display(description=_("type"), ordering="type")
    def type_display(self, obj: Payment) -> str:
        return payment_type_label(obj.type)

    @admin.display(description=_("gateway status"), ordering="status")
    def status_display(self, obj: Payment) -> str:
        return payment_status_label(obj.status)

    @admin.display(description=_("source"), ordering="source")
    def source_display(self, obj: Payment) -> str:
        return payment_source_label(obj.source)

    @admin.display(description=_("gateway"), ordering="gateway")
    def gateway_display(self, obj: Payment) -> str:
        return gateway_label(obj.gateway)

    @admin.display(description=_("as the gateway reported it"))
    def raw_display(self, obj: Payment) -> str:
        return data_table(obj.raw)
