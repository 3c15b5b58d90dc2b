"""Reconciliation runs: what the daily comparison with the gateway found and repaired."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing.models import ReconciliationDifference, ReconciliationRun
from core.admin import ReadOnlyAdminMixin, ReadOnlyInline, badge
from core.display import short_text


class DifferenceInline(ReadOnlyInline):
    model = ReconciliationDifference
    fields = ("kind", "charge", "gateway_payment_id", "detail", "repaired")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("charge")


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # When, which account and period, what differed and what was repaired; the error if any.
    list_display = ("started_at", "bank_account", "period", "payments", "differences", "repaired", "outcome")
    list_filter = ("bank_account", "started_at")
    list_select_related = ("bank_account",)
    date_hierarchy = "started_at"
    show_full_result_count = False
    inlines = (DifferenceInline,)

    @admin.display(description=_("period"), ordering="period_start")
    def period(self, obj: ReconciliationRun) -> str:
        start, end = (date_format(day, "SHORT_DATE_FORMAT") for day in (obj.period_start, obj.period_end))
        return f"{start} – {end}"

    @admin.display(description=_("payments (gateway / here)"))
    def payments(self, obj: ReconciliationRun) -> str:
        return f"{number_format(obj.gateway_payments)} / {number_format(obj.local_payments)}"

    @admin.display(description=_("outcome"))
    def outcome(self, obj: ReconciliationRun) -> str:
        if obj.error:
            return format_html("{} {}", badge(_("Error"), "#dc3545"), short_text(obj.error, 50))
        if obj.finished_at is None:
            return badge(_("Running"), "#0d6efd")
        return badge(_("Finished"), "#198754")
