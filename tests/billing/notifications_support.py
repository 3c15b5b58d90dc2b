"""Shared by the notification, payment and reconciliation tests: a Juno simulator and issued charges.

Import the fixtures into a test module (``from tests.billing.notifications_support import juno_sim``).
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from billing.models import Charge
from billing.services.charges import charge_create, charge_issue
from gateways.base import PaymentDetails
from gateways.juno import simulator as juno_simulator
from providers.models import BankAccount
from tests import factories

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def juno_sim(settings) -> Iterator[juno_simulator.JunoSimulator]:
    """A Juno simulator on loopback; both Juno base URLs point at it."""
    server, base_url = juno_simulator.start_in_thread()
    settings.JUNO_BASE_URL = base_url + juno_simulator.API_PREFIX
    settings.JUNO_SANDBOX_BASE_URL = base_url + juno_simulator.API_PREFIX
    app = server.app
    assert isinstance(app, juno_simulator.JunoSimulator)
    yield app
    server.shutdown()


def closed_port_url() -> str:
    """A loopback URL nobody listens on: every call fails before anything is sent."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/boletofacil/integration/api/v1/"


@pytest.fixture
def juno_down(settings) -> str:
    url = closed_port_url()
    settings.JUNO_BASE_URL = url
    settings.JUNO_SANDBOX_BASE_URL = url
    return url


def issued_charge(account: BankAccount, amount: Decimal = Decimal("99.90")) -> Charge:
    """A charge issued through the services against whatever Juno the settings point at."""
    customer = factories.CustomerFactory(bank_account=account)
    charge = charge_create(
        customer=customer,
        amount=amount,
        due_date=dt.date.today() + dt.timedelta(days=10),
        description="Internet [MES]/[ANO]",
        enqueue=False,
    )
    charge = charge_issue(charge_id=charge.pk)
    assert charge.state == "issued", charge.error_message
    return charge


def sim_pay(sim: juno_simulator.JunoSimulator, charge: Charge, **extra: Any) -> dict[str, Any]:
    """A payment at the simulator without its own notification: the test posts it."""
    return sim.pay({"code": charge.gateway_code, "notify": False, **extra})


def juno_form(paid: dict[str, Any], charge: Charge, **overrides: str) -> dict[str, str]:
    return {
        "paymentToken": paid["paymentToken"],
        "chargeReference": charge.reference,
        "chargeCode": charge.gateway_code,
        **overrides,
    }


def juno_url(account: BankAccount) -> str:
    return reverse("notification", kwargs={"gateway": "juno", "public_id": account.public_id})


def mycontas_url(account: BankAccount) -> str:
    return reverse("notification", kwargs={"gateway": "mycontas", "public_id": account.public_id})


def post_form(client, url: str, data: dict[str, str], **extra: Any):
    from urllib.parse import urlencode

    return client.post(url, data=urlencode(data), content_type=FORM, **extra)


def details(
    payment_id: str = "9001",
    *,
    amount: str = "99.90",
    status: str = PaymentDetails.CONFIRMED,
    code: str = "",
    reference: str = "",
    date: dt.date | None = None,
) -> PaymentDetails:
    return PaymentDetails(
        payment_id=payment_id,
        amount=Decimal(amount),
        date=date or dt.date.today(),
        fee=Decimal("1.49"),
        type="BOLETO",
        status=status,
        charge_code=code,
        charge_reference=reference,
        raw={"id": payment_id, "status": status},
    )
