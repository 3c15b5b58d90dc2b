"""Every inbound gateway request, raw, as it arrived (the inbox)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from billing.admin.filters import GatewayFilter
from billing.admin.notification_actions import has_reprocess_permission, reprocess_selected
from billing.labels import gateway_label
from billing.models import Notification, NotificationStatus
from core.admin import GuardedActionsMixin, ReadOnlyAdminMixin, badge
from core.display import data_table, readable_body, short_text, with_raw
from core.pagination import ScalableAdminMixin

STATUS_COLORS = {
    NotificationStatus.RECEIVED: "#0d6efd",
    NotificationStatus.PROCESSED: "#198754",
    NotificationStatus.INVALID: "#6f42c1",
    NotificationStatus.REJECTED: "#dc3545",
    NotificationStatus.RETRYING: "#fd7e14",
    NotificationStatus.FAILED: "#dc3545",
}


@admin.register(Notification)
class NotificationAdmin(ScalableAdminMixin, GuardedActionsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[misc]  # paginator: the mixin narrows ModelAdmin's type
    # When, from which account, how it went, for which charge, and why it failed.
    list_display = (
        "received_at",
        "bank_account",
        "status_display",
        "charge_reference",
        "attempts",
        "error_summary",
    )
    list_filter = ("status", GatewayFilter, "bank_account", "received_at")
    list_select_related = ("bank_account",)
    search_fields = ("^charge_reference", "^payment_token")
    date_hierarchy = "received_at"
    #: "Reprocess" (billing.admin.notification_actions) needs change_notification; the admin stays read-only.
    actions: list[Any] = [reprocess_selected]
    has_reprocess_permission = has_reprocess_permission
    fields = (
        "received_at",
        "gateway_display",
        "bank_account",
        "path",
        "remote_addr",
        "status",
        "error",
        "attempts",
        "processed_at",
        "payment_token",
        "charge_reference",
        "charge",
        "payment",
        "headers_display",
        "body_display",
    )
    readonly_fields = fields

    @admin.display(description=_("outcome"), ordering="status")
    def status_display(self, obj: Notification) -> str:
        return badge(obj.get_status_display(), STATUS_COLORS.get(obj.status, "#6c757d"))  # type: ignore[call-overload]

    @admin.display(description=_("error"))
    def error_summary(self, obj: Notification) -> str:
        return short_text(obj.error)

    @admin.display(description=_("gateway"), ordering="gateway")
    def gateway_display(self, obj: Notification) -> str:
        return gateway_label(obj.gateway)

    @admin.display(description=_("headers"))
    def headers_display(self, obj: Notification) -> str:
        return data_table(dict(sorted(obj.headers.items())))

    @admin.display(description=_("raw body"))
    def body_display(self, obj: Notification) -> str:
        """A form-encoded body (what Juno and Mycontas post) as one line per field."""
        fields = parse_qsl(obj.body, keep_blank_values=True) if "=" in obj.body else []
        if fields and not obj.body.lstrip().startswith(("{", "[", "<")):
            return with_raw(data_table(dict(fields)), obj.body)
        return readable_body(obj.body)
