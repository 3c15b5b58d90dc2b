"""What a bank account tells the outside world."""

from __future__ import annotations

from django.conf import settings

from providers.models import BankAccount


def notification_url(account: BankAccount) -> str:
    """The exact URL staff paste into the gateway, and that every charge is issued with."""
    return f"{settings.PUBLIC_BASE_URL}/api/notifications/{account.gateway}/{account.public_id}/"
