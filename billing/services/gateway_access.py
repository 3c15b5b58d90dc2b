"""Builds a gateway adapter for a bank account, with a recorder that writes the gateway log.

This is the only place that turns a ``BankAccount`` row (with its decrypted secrets) into the
gateway interface's :class:`~gateways.base.AccountConfig`.
"""

from __future__ import annotations

import logging

from billing.models import GatewayLog
from gateways.base import AccountConfig, Exchange, ExchangeRecorder
from gateways.base import Gateway as GatewayAdapter
from providers.models import BankAccount, Gateway
from providers.services import notification_url

logger = logging.getLogger(__name__)


def account_config(account: BankAccount) -> AccountConfig:
    sandbox = account.is_sandbox
    return AccountConfig(
        gateway=account.gateway,
        sandbox=sandbox,
        token=((account.sandbox_token if sandbox else account.token) or "")
        if account.gateway in (Gateway.JUNO, Gateway.ASAAS)
        else "",
        account_code=account.account_code,
        password=(account.account_password or "") if account.gateway == Gateway.MYCONTAS else "",
        notification_url=notification_url(account),
        pass_customer_email=account.pass_customer_email,
        contra_apresentacao=account.contra_apresentacao,
        max_overdue_days=account.max_days_to_update,
        fine_percent=account.fine_percent,
        daily_interest_percent=account.daily_interest_percent,
        account_id=account.pk,
        webhook_token=(account.webhook_token or "") if account.gateway == Gateway.ASAAS else "",
        billing_type=account.billing_type if account.gateway == Gateway.ASAAS else "",
    )


def log_recorder(account: BankAccount, charge_id: int | None = None) -> ExchangeRecorder:
    """A recorder that appends one GatewayLog row per exchange (already redacted by gateways/)."""

    def record(exchange: Exchange) -> None:
        GatewayLog.objects.create(
            bank_account_id=account.pk,
            gateway=exchange.gateway,
            endpoint=exchange.endpoint[:60],
            method=exchange.method[:8],
            url=exchange.url[:300],
            request_params=dict(exchange.request_params),
            status_code=exchange.status_code,
            duration_ms=max(0, exchange.duration_ms),
            response_body=exchange.response_body,
            outcome=exchange.outcome,
            error_class=exchange.error_class[:60],
            error_message=exchange.error_message,
            reference=exchange.reference[:255],
            gateway_code=exchange.gateway_code[:64],
            charge_id=charge_id,
        )

    return record


def gateway_for(account: BankAccount, *, charge_id: int | None = None) -> GatewayAdapter:
    from billing.services.ratelimit import rate_limited
    from gateways.registry import get_gateway

    adapter = get_gateway(account_config(account), recorder=log_recorder(account, charge_id))
    # Every network call takes a slot of the account's requests_per_second, shared by all workers.
    return rate_limited(adapter, account_id=account.pk, per_second=account.requests_per_second)
