"""Outbound events in the admin: endpoints, and the delivery log with "send again"."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import GuardedActionsMixin, ReadOnlyAdminMixin, ReadOnlyInline, badge
from core.audit import log_staff_action
from core.display import data_table, with_raw
from webhooks import services
from webhooks.forms import EndpointForm
from webhooks.models import Delivery, DeliveryAttempt, DeliveryState, Endpoint, Event, EventType

STATE_COLORS = {
    DeliveryState.PENDING: "#fd7e14",
    DeliveryState.DELIVERED: "#198754",
    DeliveryState.FAILED: "#dc3545",
}


def _state(delivery: Delivery) -> SafeString:
    return badge(delivery.get_state_display(), STATE_COLORS.get(delivery.state, "#6c757d"))  # type: ignore[call-overload]


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ("name", "url", "events_display", "secret_display", "active")
    list_filter = ("active",)
    search_fields = ("name", "url")

    @admin.display(description=_("events"))
    def events_display(self, obj: Endpoint) -> str:
        if not obj.event_types:
            return str(_("all"))
        labels = dict(EventType.choices)
        return ", ".join(str(labels.get(code, code)) for code in obj.event_types)

    @admin.display(description=_("signing secret"))
    def secret_display(self, obj: Endpoint) -> str:
        secret = obj.secret or ""
        return f"…{secret[-4:]}" if len(secret) >= 16 else "-"


class AttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ("at", "status_code", "duration_ms", "error", "response_excerpt")
    verbose_name_plural = _("attempts")


@admin.register(Delivery)
class DeliveryAdmin(GuardedActionsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    # What was sent where and how it went; the event id is a key to search by, on the page.
    list_display = (
        "created_at",
        "event_type",
        "endpoint",
        "state_display",
        "attempts",
        "last_attempt",
        "next_attempt_at",
    )
    list_filter = ("state", "endpoint", "event__type")
    list_select_related = ("event", "endpoint")
    search_fields = ("=event__event_id",)
    search_help_text = _("An event id.")
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["send_again"]
    inlines = [AttemptInline]
    fields = (
        "event_type",
        "event_id",
        "endpoint",
        "state_display",
        "attempts",
        "created_at",
        "last_attempt_at",
        "next_attempt_at",
        "retry_until",
        "delivered_at",
        "last_status",
        "last_error",
        "body",
    )
    readonly_fields = fields

    @admin.display(description=_("event"), ordering="event__type")
    def event_type(self, obj: Delivery) -> str:
        return obj.event.get_type_display()

    @admin.display(description=_("last attempt"), ordering="last_attempt_at")
    def last_attempt(self, obj: Delivery) -> str:
        """When, and the receiver's HTTP status ("30/11/2026 08:15 · HTTP 500")."""
        if obj.last_attempt_at is None:
            return "-"
        when = date_format(timezone.localtime(obj.last_attempt_at), "SHORT_DATETIME_FORMAT")
        return f"{when} · HTTP {obj.last_status}" if obj.last_status else when

    @admin.display(description=_("event id"))
    def event_id(self, obj: Delivery) -> str:
        return str(obj.event.event_id)

    @admin.display(description=_("state"), ordering="state")
    def state_display(self, obj: Delivery) -> SafeString:
        return _state(obj)

    @admin.display(description=_("body"))
    def body(self, obj: Delivery) -> str:
        # Read as a table; the signed body exactly as sent is one click away.
        text = services.event_body(obj.event).decode()
        return with_raw(data_table(json.loads(text)), text)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Read-only page, but "send again" needs the change permission (Billing operators have it).
        return obj is None and bool(request.user.has_perm("webhooks.change_delivery"))

    @admin.action(description=_("Send again"), permissions=["change"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        deliveries = list(queryset)
        count = services.deliveries_resend(deliveries=deliveries)
        log_staff_action(user=request.user, objects=deliveries, message=_("Queued to be sent again."))
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery queued to be sent again.",
                "%(count)d deliveries queued to be sent again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fields = ("endpoint", "state", "attempts", "last_status", "last_attempt_at", "delivered_at")


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "type", "event_id")
    list_filter = ("type",)
    search_fields = ("=event_id",)
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    fields = ("event_id", "type", "occurred_at", "data_display")
    readonly_fields = fields
    inlines = [DeliveryInline]

    @admin.display(description=_("data"))
    def data_display(self, obj: Event) -> str:
        return data_table(obj.data)
