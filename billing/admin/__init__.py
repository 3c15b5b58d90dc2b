"""The staff workplace: one module per model area, each registering its admins on import."""

from billing.admin import accounts, charges, logs, notifications, payments, reconciliation

__all__ = ["accounts", "charges", "logs", "notifications", "payments", "reconciliation"]
