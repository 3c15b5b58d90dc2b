"""Controle de logs: every outbound gateway exchange, redacted, for staff to read why a call failed."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing.admin.search import search_gateway_logs
from billing.models import ExchangeOutcome, GatewayLog
from core.admin import ReadOnlyAdminMixin, badge
from core.pagination import ScalableAdminMixin

OUTCOME_COLORS = {
    ExchangeOutcome.OK: "#198754",
    ExchangeOutcome.REJECTED: "#dc3545",
    ExchangeOutcome.UNAVAILABLE: "#fd7e14",
    ExchangeOutcome.INVALID: "#6f42c1",
}


def preformatted(text: str) -> str:
    return format_html('<pre style="white-space:pre-wrap;max-width:100%;margin:0">{}</pre>', text or "-")


@admin.register(GatewayLog)
class GatewayLogAdmin(ScalableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[misc]  # paginator: the mixin narrows ModelAdmin's type
    list_display = (
        "created_at",
        "bank_account",
        "endpoint",
        "outcome_display",
        "status_code",
        "duration_ms",
        "reference",
        "gateway_code",
        "error_message",
    )
    list_filter = ("bank_account", "endpoint", "outcome", "created_at")
    list_select_related = ("bank_account",)
    search_fields = ("reference", "gateway_code")
    search_help_text = _("A charge reference (T-…, C-…) or a gateway code.")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "bank_account",
        "gateway",
        "endpoint",
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

    @admin.display(description=_("outcome"), ordering="outcome")
    def outcome_display(self, obj: GatewayLog) -> str:
        return badge(obj.get_outcome_display(), OUTCOME_COLORS.get(obj.outcome, "#6c757d"))  # type: ignore[call-overload]

    @admin.display(description=_("request (redacted)"))
    def request_display(self, obj: GatewayLog) -> str:
        return preformatted(json.dumps(obj.request_params, indent=2, ensure_ascii=False, sort_keys=True))

    @admin.display(description=_("response"))
    def response_display(self, obj: GatewayLog) -> str:
        return preformatted(obj.response_body)
