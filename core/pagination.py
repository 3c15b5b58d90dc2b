"""Changelists that stay fast at millions of rows.

Also: the date hierarchy lists periods from MIN/MAX instead of a DISTINCT over the table.

Django's admin counts every filtered result set exactly (``COUNT(*)``), which on PostgreSQL reads
the whole table. Staff need "about how many" and the first pages, not an exact figure over a
million rows, so:

- an unfiltered list takes PostgreSQL's own estimate (``pg_class.reltuples``, kept by ANALYZE);
- a filtered list counts exactly, but stops at :attr:`CappedCountPaginator.cap` rows
  (``SELECT COUNT(*) FROM (SELECT 1 ... LIMIT cap+1)``); past that the admin shows the cap and
  staff narrow the filter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import Max, Min, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property


def estimated_table_rows(model: type[models.Model], using: str = "default") -> int | None:
    """PostgreSQL's planner estimate of a table's rows, or None where there is none."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] > 0 else None


class CappedCountPaginator(Paginator):
    cap = 10_000

    @cached_property
    def count(self) -> int:
        queryset: Any = self.object_list
        query = getattr(queryset, "query", None)
        if query is None:
            return len(queryset)
        if not query.where:
            estimate = estimated_table_rows(queryset.model, queryset.db)
            if estimate is not None and estimate > self.cap:
                return estimate
        return queryset.order_by()[: self.cap + 1].count()


# --- date hierarchy without DISTINCT over the whole table ----------------------------------------
class BoundedDatesMixin:
    """``dates()``/``datetimes()`` listed from MIN and MAX (one indexed query) instead of
    ``SELECT DISTINCT date_trunc(...)`` over every row. The admin's date hierarchy then offers every
    period between the first and the last row, including the odd empty one."""

    def _bounds(self, field_name: str) -> tuple[Any, Any]:
        bounds = self.order_by().aggregate(first=Min(field_name), last=Max(field_name))  # type: ignore[attr-defined]
        return bounds["first"], bounds["last"]

    def dates(self, field_name: str, kind: str, order: str = "ASC") -> list[dt.date]:
        first, last = self._bounds(field_name)
        if first is None:
            return []
        values = _periods(first, last, kind)
        return values if order == "ASC" else values[::-1]

    def datetimes(
        self, field_name: str, kind: str, order: str = "ASC", tzinfo: Any = None
    ) -> list[dt.datetime]:
        first, last = self._bounds(field_name)
        if first is None:
            return []
        first, last = timezone.localtime(first), timezone.localtime(last)
        zone = timezone.get_current_timezone()
        values = [
            dt.datetime.combine(day, dt.time.min, tzinfo=zone)
            for day in _periods(first.date(), last.date(), kind)
        ]
        return values if order == "ASC" else values[::-1]


def _periods(first: dt.date, last: dt.date, kind: str) -> list[dt.date]:
    if kind == "year":
        return [dt.date(year, 1, 1) for year in range(first.year, last.year + 1)]
    if kind == "month":
        months, cursor = [], dt.date(first.year, first.month, 1)
        while cursor <= last:
            months.append(cursor)
            cursor = dt.date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
        return months
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


_bounded_classes: dict[type, type] = {}


def with_bounded_dates(queryset: QuerySet) -> QuerySet:
    cls = queryset.__class__
    if issubclass(cls, BoundedDatesMixin):
        return queryset
    bounded = _bounded_classes.setdefault(cls, type(f"Bounded{cls.__name__}", (BoundedDatesMixin, cls), {}))
    clone = queryset._chain()  # type: ignore[attr-defined]
    clone.__class__ = bounded
    return clone


class ScalableChangeList(ChangeList):
    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        return with_bounded_dates(super().get_queryset(request, exclude_parameters))


class ScalableAdminMixin:
    """Use in a ModelAdmin over a large table: capped counts, no second full count."""

    paginator = CappedCountPaginator
    show_full_result_count = False

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ScalableChangeList
