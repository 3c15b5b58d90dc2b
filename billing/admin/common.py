"""Billing's own admin pieces: the charge state badge."""

from __future__ import annotations

from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from billing.models import ChargeState
from core.admin import badge

STATE_COLORS = {
    ChargeState.PENDING: "#6c757d",
    ChargeState.ISSUING: "#0d6efd",
    ChargeState.ISSUED: "#0a58ca",
    ChargeState.UNKNOWN: "#d63384",
    ChargeState.FAILED: "#dc3545",
    ChargeState.CANCEL_REQUESTED: "#fd7e14",
    ChargeState.CANCELLED: "#495057",
    ChargeState.PAID: "#198754",
    ChargeState.REFUNDED: "#6f42c1",
}


#: Labels too long for a badge in a list: the short form is shown, the full label on hover.
SHORT_STATE_LABELS = {ChargeState.UNKNOWN: _("Unknown")}


def state_badge(state: str, label: object) -> SafeString:
    short = SHORT_STATE_LABELS.get(state)  # type: ignore[call-overload]
    color = STATE_COLORS.get(state, "#6c757d")  # type: ignore[call-overload]
    return badge(short, color, title=label) if short else badge(label, color)
