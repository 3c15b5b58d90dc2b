"""Reconciliation runs: what the daily comparison with the gateway found and repaired."""

from __future__ import annotations

from django.contrib import admin

from billing.models import ReconciliationDifference, ReconciliationRun
from core.admin import ReadOnlyAdminMixin, ReadOnlyInline


class DifferenceInline(ReadOnlyInline):
    model = ReconciliationDifference
    fields = ("kind", "charge", "gateway_payment_id", "detail", "repaired")

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).select_related("charge")


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "started_at",
        "bank_account",
        "period_start",
        "period_end",
        "gateway_payments",
        "local_payments",
        "repaired",
        "differences",
        "finished_at",
        "error",
    )
    list_filter = ("bank_account", "started_at")
    list_select_related = ("bank_account",)
    date_hierarchy = "started_at"
    show_full_result_count = False
    inlines = (DifferenceInline,)
