"""Controle de logs: every outbound gateway exchange, redacted, for staff to read why a call failed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from billing.admin.search import search_gateway_logs
from billing.labels import ENDPOINTS, endpoint_label, gateway_label
from billing.models import ExchangeOutcome, GatewayLog
from core.admin import ReadOnlyAdminMixin, badge
from core.display import data_table, readable_body, short_text
from core.pagination import ScalableAdminMixin

OUTCOME_COLORS = {
    ExchangeOutcome.OK: "#198754",
    ExchangeOutcome.REJECTED: "#dc3545",
    ExchangeOutcome.UNAVAILABLE: "#fd7e14",
    ExchangeOutcome.INVALID: "#6f42c1",
}


class EndpointFilter(admin.SimpleListFilter):
    """The gateway operations in words, from a fixed list (no DISTINCT over the whole table)."""

    title = _("operation")
    parameter_name = "endpoint"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [(code, label) for code, label in ENDPOINTS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        return queryset.filter(endpoint=self.value()) if self.value() else None


@admin.register(GatewayLog)
class GatewayLogAdmin(ScalableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[misc]  # paginator: the mixin narrows ModelAdmin's type
    # When, what was asked, how it went and why; the account and codes are filters and search.
    list_display = (
        "created_at",
        "endpoint_display",
        "outcome_display",
        "reference",
        "error_summary",
        "duration_ms",
    )
    list_filter = ("bank_account", EndpointFilter, "outcome", "created_at")
    list_select_related = ("bank_account",)
    search_fields = ("reference", "gateway_code")
    search_help_text = _("A charge reference (T-…, C-…) or a gateway code.")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "bank_account",
        "gateway_display",
        "endpoint_display",
        "method",
        "url",
        "outcome_display",
        "status_code",
        "duration_ms",
        "reference",
        "gateway_code",
        "charge",
        "error_class",
        "error_message",
        "request_display",
        "response_display",
    )
    readonly_fields = fields

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> Any:
        if not search_term.strip():
            return queryset, False
        return search_gateway_logs(queryset, search_term), False

    @admin.display(description=_("error message"))
    def error_summary(self, obj: GatewayLog) -> str:
        return short_text(obj.error_message)

    @admin.display(description=_("operation"), ordering="endpoint")
    def endpoint_display(self, obj: GatewayLog) -> str:
        return endpoint_label(obj.endpoint)

    @admin.display(description=_("gateway"), ordering="gateway")
    def gateway_display(self, obj: GatewayLog) -> str:
        return gateway_label(obj.gateway)

    @admin.display(description=_("outcome"), ordering="outcome")
    def outcome_display(self, obj: GatewayLog) -> str:
        label = obj.get_outcome_display()
        if obj.status_code and obj.outcome != ExchangeOutcome.OK:
            label = f"{label} · HTTP {obj.status_code}"
        return badge(label, OUTCOME_COLORS.get(obj.outcome, "#6c757d"))  # type: ignore[call-overload]

    @admin.display(description=_("request (redacted)"))
    def request_display(self, obj: GatewayLog) -> str:
        return data_table(obj.request_params)

    @admin.display(description=_("response"))
    def response_display(self, obj: GatewayLog) -> str:
        return readable_body(obj.response_body)
