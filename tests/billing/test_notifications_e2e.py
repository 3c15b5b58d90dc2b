"""End to end over real HTTP: the Juno simulator posts to the live server; concurrent duplicates.

The simulator issues the charge with our notification URL (``PUBLIC_BASE_URL`` is the live
server), and its "pay" POSTs the notification there, as the real gateway does.
Concurrency tests need PostgreSQL (``DATABASE_URL``): SQLite serialises writers by itself.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection, connections

from billing.models import ChargeState, Notification, NotificationStatus, Payment
from billing.services.notifications import notification_process
from tests.billing import notifications_support as support
from tests.billing.notifications_support import FORM, issued_charge, juno_form, juno_url, sim_pay

S = ChargeState
juno_sim = support.juno_sim
#: The processing task runs in the live server's thread as soon as the intake queues it.
pytestmark = pytest.mark.usefixtures("processing_inline")
processing_inline = support.processing_inline
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL (set DATABASE_URL)"
)


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def post(url: str, form: dict[str, str]) -> int:
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(form).encode(), headers={"Content-Type": FORM}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def live(live_server, settings, juno_account):
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server


@pytest.mark.django_db(transaction=True)
def test_the_simulator_pays_and_notifies_and_the_charge_ends_paid(live, juno_account, juno_sim):
    charge = issued_charge(juno_account)
    assert juno_sim.charges[int(charge.gateway_code)].notification_url.startswith(live.url)

    started = time.monotonic()
    paid = juno_sim.pay({"code": charge.gateway_code})  # what POST /_sim/pay does

    def is_paid() -> bool:
        charge.refresh_from_db()
        return charge.state == S.PAID

    assert wait_for(is_paid), "the charge was not paid"
    assert time.monotonic() - started < 5
    payment = Payment.objects.get(charge=charge)
    assert payment.gateway_payment_id == str(paid["payment"]["id"])
    assert wait_for(lambda: any(n["status"] == 200 for n in juno_sim.notifications))


@pytest.mark.django_db(transaction=True)
def test_the_simulator_pay_route_over_http_with_a_duplicate(live, juno_account, juno_sim):
    charge = issued_charge(juno_account)
    base = settings.JUNO_SANDBOX_BASE_URL.split("/boletofacil/")[0]
    request = urllib.request.Request(
        base + "/_sim/pay",
        data=f'{{"code": "{charge.gateway_code}", "duplicate": true}}'.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert wait_for(lambda: len([n for n in juno_sim.notifications if n["status"] == 200]) == 2)
    assert Payment.objects.filter(charge=charge).count() == 1
    assert Notification.objects.filter(status=NotificationStatus.PROCESSED).count() == 2
    charge.refresh_from_db()
    assert charge.state == S.PAID


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_posts_give_one_payment(live, juno_account, juno_sim):
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge)
    url = live.url + juno_url(juno_account)
    form = juno_form(paid, charge)
    barrier = threading.Barrier(20)

    def one(_n: int) -> int:
        barrier.wait()
        return post(url, form)

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(one, range(20)))
    assert codes == [200] * 20
    assert Payment.objects.count() == 1
    assert Notification.objects.count() == 20
    charge.refresh_from_db()
    assert charge.state == S.PAID and charge.events.filter(to_state=S.PAID).count() == 1


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_processing_of_one_payment_in_threads(juno_account, juno_sim):
    """Straight at the service, threads racing past the look-up into the unique constraint."""
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge)
    body = urllib.parse.urlencode(juno_form(paid, charge))
    ids = [
        Notification.objects.create(gateway="juno", bank_account=juno_account, path="/x", body=body).pk
        for _ in range(12)
    ]
    barrier = threading.Barrier(len(ids))

    def one(notification_id: int) -> str:
        barrier.wait()
        try:
            return notification_process(notification_id).outcome
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        outcomes = list(pool.map(one, ids))
    assert outcomes == ["processed"] * len(ids)
    assert Payment.objects.count() == 1
