"""Controle de logs: every outbound gateway exchange, redacted, for staff to read why a call failed."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from billing.admin.search import search_gateway_logs
from billing.labels import ENDPOINTS, endpoint_label, gateway_label
from billing.models import ExchangeOutcome, GatewayLog
from core.admin import ReadOnlyAdminMixin, badge
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


#: Long texts in a list cell are cut here; the whole text is on hover and on the row's page.
SHORT_TEXT_CHARS = 70


def short_text(text: str, chars: int = SHORT_TEXT_CHARS) -> str:
    if not text:
        return "-"
    if len(text) <= chars:
        return text
    return format_html('<span title="{}">{}…</span>', text, text[: chars - 1].rstrip())


def preformatted(text: str) -> str:
    return format_html('<pre class="cobranca-pre">{}</pre>', text or "-")


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        rows: list[tuple[str, str]] = []
        for key, item in value.items():
            rows += _flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(value, list):
        if not value:
            return [(prefix, "-")]
        rows = []
        for index, item in enumerate(value, start=1):
            rows += _flatten(item, f"{prefix} [{index}]")
        return rows
    if value is None or value == "":
        return [(prefix, "-")]
    if isinstance(value, bool):
        return [(prefix, str(_("yes") if value else _("no")))]
    return [(prefix, str(value))]


def data_table(value: Any) -> str:
    """Structured data (a gateway's JSON) as a two-column table staff can read: one line per field,
    nested fields named with dots, lists numbered."""
    rows = _flatten(value)
    if not rows:
        return "-"
    return format_html(
        '<table class="cobranca-data"><tbody>{}</tbody></table>',
        format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
    )


def with_raw(readable: str, raw: str) -> str:
    """The readable form, with the text exactly as exchanged one click away (for support)."""
    return format_html(
        '{}<details class="cobranca-raw"><summary>{}</summary>{}</details>',
        readable,
        _("As received (raw text)"),
        preformatted(raw),
    )


def readable_body(text: str) -> str:
    """A logged body: a table when it is JSON, the text itself otherwise (HTML pages, plain errors)."""
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return preformatted(text)
    if not isinstance(parsed, dict | list):
        return preformatted(text)
    return with_raw(data_table(parsed), text)


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
