"""Billing models, one module per concept; import from here."""

from billing.models.charges import (
    MONTH_BILLING_STATES,
    OPEN_STATES,
    Attention,
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
from billing.models.payments import Payment, PaymentMethod
from billing.models.reconciliation import DifferenceKind, ReconciliationDifference, ReconciliationRun
from billing.models.runs import BillingRun, BillingRunState
from billing.models.service import TrustUnblock

__all__ = [
    "MONTH_BILLING_STATES",
    "OPEN_STATES",
    "Attention",
    "BillingRun",
    "BillingRunState",
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
    "PaymentMethod",
    "ReconciliationDifference",
    "ReconciliationRun",
    "TrustUnblock",
]
