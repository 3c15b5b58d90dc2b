"""``{% billing_dashboard as dashboard %}``: the staff dashboard's data, shaped for the admin index.

A tag rather than a custom AdminSite: other apps register on the default ``admin.site``, and the
admin index template only needs to ask for the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from billing.models import OPEN_STATES, ChargeState
from billing.selectors.dashboard import BILLED_STATES, COUNTERS, AccountSummary, Dashboard, billing_dashboard
from billing.selectors.notifications import admin_warnings

register = template.Library()

# Chart geometry, in SVG user units (the SVG scales to its container).
CHART_WIDTH = 720
CHART_HEIGHT = 260
CHART_LEFT = 64
CHART_RIGHT = 8
CHART_TOP = 12
CHART_BOTTOM = 28
GRID_LINES = 4

_STATE_FILTERS: dict[str, dict[str, str]] = {
    "issued": {"state__in": ",".join(BILLED_STATES)},
    "paid": {"state__exact": ChargeState.PAID},
    "open": {"state__in": ",".join(OPEN_STATES)},
    "overdue": {"state__in": ",".join(OPEN_STATES)},
    "failed": {"state__exact": ChargeState.FAILED},
}


@dataclass(frozen=True)
class Cell:
    value: int
    url: str


@dataclass(frozen=True)
class Row:
    label: str
    cells: list[Cell]
    billed: Decimal
    received: Decimal
    is_total: bool


def _changelist_url(base: str, params: dict[str, Any]) -> str:
    return f"{base}?{urlencode(params)}" if base else ""


def _cells(summary: AccountSummary, dashboard: Dashboard, base: str) -> list[Cell]:
    account = {"bank_account__id__exact": summary.account.pk} if summary.account else {}
    month = {
        "due_date__gte": dashboard.month_start.isoformat(),
        "due_date__lt": dashboard.next_month_start.isoformat(),
    }
    cells = []
    for name in COUNTERS:
        if name == "attention":
            params: dict[str, Any] = {"attention": "yes", **account}
        else:
            params = {**_STATE_FILTERS[name], **account, **month}
            if name == "overdue":
                params["due_date__lt"] = dashboard.overdue_before.isoformat()
        cells.append(Cell(value=getattr(summary, name), url=_changelist_url(base, params)))
    return cells


def _rows(dashboard: Dashboard) -> list[Row]:
    try:
        base = reverse("admin:billing_charge_changelist")
    except NoReverseMatch:  # charges not registered in the admin: figures without links
        base = ""
    rows = [
        Row(
            label=str(summary.account),
            cells=_cells(summary, dashboard, base),
            billed=summary.billed,
            received=summary.received,
            is_total=False,
        )
        for summary in dashboard.accounts
    ]
    if len(rows) > 1:
        total = dashboard.totals
        rows.append(
            Row(
                label="",
                cells=_cells(total, dashboard, base),
                billed=total.billed,
                received=total.received,
                is_total=True,
            )
        )
    return rows


#: Axis tops: a round number at most ~25 % above the tallest bar.
_NICE_STEPS = tuple(Decimal(step) for step in ("1", "1.2", "1.5", "2", "2.5", "3", "4", "5", "6", "8", "10"))


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ) at or above ``value``."""
    if value <= 0:
        return Decimal(100)
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    return next(step * magnitude for step in _NICE_STEPS if value <= step * magnitude)


def _chart(dashboard: Dashboard) -> dict[str, Any]:
    history = dashboard.history
    top = _nice_ceiling(max([max(point.billed, point.received) for point in history] + [Decimal(0)]))
    plot_width = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    baseline = CHART_TOP + plot_height
    slot = Decimal(plot_width) / len(history)
    bar = slot * Decimal("0.36")

    def height(amount: Decimal) -> Decimal:
        return (Decimal(amount) / top * plot_height).quantize(Decimal("0.1"))

    months = []
    for index, point in enumerate(history):
        x = CHART_LEFT + slot * index + slot * Decimal("0.12")
        billed_h, received_h = height(point.billed), height(point.received)
        months.append(
            {
                "point": point,
                "billed": {"x": x.quantize(Decimal("0.1")), "y": baseline - billed_h, "height": billed_h},
                "received": {
                    "x": (x + bar).quantize(Decimal("0.1")),
                    "y": baseline - received_h,
                    "height": received_h,
                },
                "label_x": (CHART_LEFT + slot * index + slot / 2).quantize(Decimal("0.1")),
            }
        )
    grid = [
        {
            "y": (baseline - Decimal(plot_height) * step / GRID_LINES).quantize(Decimal("0.1")),
            "amount": top * step / GRID_LINES,
        }
        for step in range(GRID_LINES + 1)
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "right": CHART_WIDTH - CHART_RIGHT,
        "baseline": baseline,
        "label_y": CHART_HEIGHT - 8,
        "bar_width": bar.quantize(Decimal("0.1")),
        "months": months,
        "grid": grid,
    }


@register.simple_tag(takes_context=True)
def billing_dashboard_data(context: template.Context) -> dict[str, Any] | None:
    """The dashboard for staff who may see charges; None for everybody else."""
    request = context.get("request")
    if request is None or not request.user.has_perm("billing.view_charge"):
        return None
    dashboard = billing_dashboard()
    return {
        "dashboard": dashboard,
        "rows": _rows(dashboard),
        "chart": _chart(dashboard),
        "warnings": admin_warnings(),
    }


@register.filter
def compact_brl(value: Decimal) -> str:
    """Axis labels stay short: ``12,5 k`` (``12,5 mil`` once translated); plain reais below 1000."""
    amount = Decimal(value)
    if amount >= 1_000_000:
        return _("%(number)s M") % {"number": _decimal_comma(amount / 1_000_000)}
    if amount >= 1000:
        return _("%(number)s k") % {"number": _decimal_comma(amount / 1000)}
    return _decimal_comma(amount)


def _decimal_comma(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.1')).normalize():f}".replace(".", ",")
