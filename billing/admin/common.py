"""Billing's own admin pieces: the charge state badge."""

from __future__ import annotations

from django.utils.safestring import SafeString

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


def state_badge(state: str, label: object) -> SafeString:
    return badge(label, STATE_COLORS.get(state, "#6c757d"))  # type: ignore[call-overload]
