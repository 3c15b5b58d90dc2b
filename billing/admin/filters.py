"""Changelist filters shared by the billing admins."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from billing.labels import PAYMENT_SOURCES, PAYMENT_STATUSES
from providers.models import Gateway


class FixedChoicesFilter(admin.SimpleListFilter):
    """A filter over a text column, offered from a fixed list of words.

    Django's own filter on a plain text column lists the column's DISTINCT values (a read of the
    whole table) and shows them raw (``CONFIRMED``, ``juno``); this one shows words and costs nothing.
    """

    words: dict[str, Any] = {}

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return list(self.words.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        return queryset.filter(**{str(self.parameter_name): self.value()}) if self.value() else None


class GatewayFilter(FixedChoicesFilter):
    title = _("gateway")
    parameter_name = "gateway"
    words = dict(Gateway.choices)


class PaymentStatusFilter(FixedChoicesFilter):
    title = _("gateway status")
    parameter_name = "status"
    words = PAYMENT_STATUSES


class PaymentSourceFilter(FixedChoicesFilter):
    title = _("source")
    parameter_name = "source"
    words = PAYMENT_SOURCES
