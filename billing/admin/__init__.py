"""The staff workplace: one module per model area, each registering its admins on import."""

from billing.admin import accounts, charges, customers, cycle, logs, notifications, payments, reconciliation
from billing.admin.third_party import guard_third_party_admins

# billing comes after django_celery_beat and axes in INSTALLED_APPS: their admins exist by now.
guard_third_party_admins()

__all__ = ["accounts", "charges", "customers", "cycle", "logs", "notifications", "payments", "reconciliation"]
