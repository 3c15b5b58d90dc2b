"""Every inbound gateway request, raw, as it arrived (the inbox)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from billing.admin.logs import preformatted
from billing.admin.notification_actions import has_reprocess_permission, reprocess_selected
from billing.models import Notification
from core.admin import GuardedActionsMixin, ReadOnlyAdminMixin
from core.pagination import ScalableAdminMixin


@admin.register(Notification)
class NotificationAdmin(ScalableAdminMixin, GuardedActionsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[misc]  # paginator: the mixin narrows ModelAdmin's type
    list_display = (
        "id",
        "received_at",
        "gateway",
        "bank_account",
        "status",
        "charge_reference",
        "payment_token",
        "attempts",
        "remote_addr",
        "processed_at",
    )
    list_filter = ("status", "gateway", "bank_account", "received_at")
    list_select_related = ("bank_account",)
    search_fields = ("^charge_reference", "^payment_token")
    date_hierarchy = "received_at"
    #: "Reprocess" (billing.admin.notification_actions) needs change_notification; the admin stays read-only.
    actions: list[Any] = [reprocess_selected]
    has_reprocess_permission = has_reprocess_permission
    fields = (
        "received_at",
        "gateway",
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

    @admin.display(description=_("headers"))
    def headers_display(self, obj: Notification) -> str:
        return preformatted(json.dumps(obj.headers, indent=2, ensure_ascii=False, sort_keys=True))

    @admin.display(description=_("raw body"))
    def body_display(self, obj: Notification) -> str:
        return preformatted(obj.body)
