"""Changelist filters of the billing admins: fixed word lists, and what staff act on first."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from billing.labels import PAYMENT_SOURCES, PAYMENT_STATUSES
from billing.models import ChargeState
from billing.selectors.charges import LATE_BUCKETS, late_bucket_q, overdue_q, unsettled_q
from core.dates import today
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


#: Query parameters that do not narrow a list (ordering, page): a visit with only these is "bare".
_NOT_FILTERS = {"o", "p"}


def is_bare_visit(request: HttpRequest) -> bool:
    """The list opened from the menu: no filter, no search (only ordering or a page number)."""
    return not set(request.GET) - _NOT_FILTERS


class ChargeSituationFilter(admin.SimpleListFilter):
    """The charge's state, or "open" (every state not settled yet): what the list opens on.

    A bare visit shows the open charges; "All" is an explicit choice so that it can be kept. Any
    other filter or a search shows every state unless this one is chosen too (the dashboard's links
    and a search for a paid charge find it).
    """

    title = _("situation")
    parameter_name = "situacao"
    OPEN = "aberto"
    ALL = "todas"

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.bare = is_bare_visit(request)
        super().__init__(request, *args, **kwargs)

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [(self.OPEN, _("Open (not settled)")), *ChargeState.choices]

    def value(self) -> str | None:
        value = super().value()
        if value is None and self.bare:
            return self.OPEN
        return value

    def choices(self, changelist: Any) -> Any:
        current = self.value()
        yield {
            "selected": current in (None, self.ALL),
            "query_string": changelist.get_query_string({self.parameter_name: self.ALL}),
            "display": pgettext_lazy("charges", "All"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        value = self.value()
        if value == self.OPEN:
            return queryset.filter(unsettled_q())
        if value in ChargeState.values:
            return queryset.filter(state=value)
        return None

    def wants_nearest_first(self) -> bool:
        return self.value() == self.OPEN


class LateFilter(admin.SimpleListFilter):
    """Overdue, by how many days late (``prefix`` reaches the charges from another model)."""

    title = _("days late")
    parameter_name = "atraso"
    ANY = "vencidas"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [(self.ANY, _("Overdue (any delay)"))] + [(b.key, b.label) for b in LATE_BUCKETS]

    def late_q(self) -> Q | None:
        value, current = self.value(), today()
        if value == self.ANY:
            return overdue_q(today=current)
        bucket = next((b for b in LATE_BUCKETS if b.key == value), None)
        return late_bucket_q(bucket, today=current) if bucket else None

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        q = self.late_q()
        return queryset.filter(q) if q is not None else None


class ChargeKindFilter(admin.SimpleListFilter):
    """A título avulso or an installment of a carnê."""

    title = _("billing type")
    parameter_name = "tipo"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [("titulo", _("Single charge (título)")), ("carne", _("Carnê installment"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() == "titulo":
            return queryset.filter(carne__isnull=True)
        if self.value() == "carne":
            return queryset.filter(carne__isnull=False)
        return None
