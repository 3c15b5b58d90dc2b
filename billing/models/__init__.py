"""Billing models, one module per concept; import from here."""

from billing.models.charges import (
    OPEN_STATES,
    Carne,
    CarneEvent,
    CarneState,
    Charge,
    ChargeEvent,
    ChargeState,
)
from billing.models.gateway_customers import GatewayCustomer
from billing.models.leases import Lease
from billing.models.logs import ExchangeOutcome, GatewayLog
from billing.models.notifications import Notification, NotificationStatus
from billing.models.payments import Payment
from billing.models.reconciliation import DifferenceKind, ReconciliationDifference, ReconciliationRun

__all__ = [
    "OPEN_STATES",
    "Carne",
    "CarneEvent",
    "CarneState",
    "Charge",
    "ChargeEvent",
    "ChargeState",
    "DifferenceKind",
    "ExchangeOutcome",
    "GatewayCustomer",
    "GatewayLog",
    "Lease",
    "Notification",
    "NotificationStatus",
    "Payment",
    "ReconciliationDifference",
    "ReconciliationRun",
]
