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
from django.test import TestCase
from django.urls import reverse

from billing.models import Charge
from billing.services.charges import charge_create, charge_issue
from gateways.base import PaymentDetails
from gateways.juno import simulator as juno_simulator
from providers.models import BankAccount
from tests import factories

FORM = "application/x-www-form-urlencoded"


class NotificationQueue:
    """Stands in for the broker behind the intake: counts the dispatcher's wake-ups; :meth:`run` is
    the worker (the dispatch, then each processing task it sends, in order)."""

    def __init__(self) -> None:
        self.wakes = 0

    def wake(self) -> bool:
        self.wakes += 1
        return True

    def pending(self) -> list[int]:
        """The notifications a dispatch would take now."""
        from billing.models import Notification, NotificationStatus

        return list(
            Notification.objects.filter(status=NotificationStatus.RECEIVED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )

    def run(self) -> list[str]:
        """Dispatch and process everything received so far, as the workers do; the outcomes."""
        return run_dispatch()


def run_dispatch() -> list[str]:
    from unittest import mock

    from billing.services.notifications import dispatch, notification_process
    from core import queue

    outcomes: list[str] = []
    while True:
        sent: list[tuple[str, list[Any]]] = []
        with (
            mock.patch.object(
                queue, "publish", lambda name, args, countdown, _sent=sent: _sent.append((name, list(args)))
            ),
            TestCase.captureOnCommitCallbacks(execute=True),  # a test's transaction never commits
        ):
            dispatch.notifications_dispatch()
        for name, args in sent:
            if name == queue.PROCESS_NOTIFICATION:
                outcomes.append(
                    notification_process(args[0], actor_label="task:process_notification").outcome
                )
        if (queue.DISPATCH_NOTIFICATIONS, []) not in sent:
            return outcomes


@pytest.fixture
def processing_inline(monkeypatch):
    """The dispatch and the processing tasks run at once in the posting thread (a live server's too).

    Patched once for the whole test: concurrent requests must not patch and unpatch in turn.
    """
    from billing.services.notifications import dispatch, notification_process
    from core import queue

    real_publish = queue.publish

    def publish(name: str, args: Any, countdown: Any) -> None:
        if name == queue.PROCESS_NOTIFICATION:
            notification_process(list(args)[0], actor_label="task:process_notification")
        elif name == queue.DISPATCH_NOTIFICATIONS:
            dispatch.notifications_dispatch()
        else:
            real_publish(name, args, countdown)

    def wake() -> bool:
        dispatch.notifications_dispatch()
        return True

    monkeypatch.setattr(queue, "publish", publish)
    monkeypatch.setattr("billing.services.notifications.inbox.wake_dispatcher", wake)


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
