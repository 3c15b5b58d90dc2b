"""The collection cycle walked through in chromium, with the real pieces on loopback.

A boleto issued through the Juno simulator goes unpaid; the daily pass blocks its subscriber; the
subscriber opens the portal on a phone and asks for the trust unblock; the simulator pays the boleto
and posts the notification to the live server; the subscriber is active again; and a webhook
receiver on loopback got ``customer.blocked``, ``customer.unblocked`` and ``charge.paid``, each
signed with the endpoint's secret (HMAC-SHA256 over timestamp and body).
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import time_machine

from billing.services import service_status
from customers.models import CustomerStatus, StatusChange
from tests import factories
from tests.billing import notifications_support
from tests.billing.notifications_support import issued_charge
from tests.browser.helpers import pt
from tests.webhooks.receiver import receiver  # noqa: F401 - fixture
from webhooks import signing
from webhooks.models import Delivery, DeliveryState, Endpoint

playwright = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
expect = playwright.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "walkthrough-signing-secret-0123"
processing_inline = notifications_support.processing_inline


@pytest.fixture
def eager_tasks(settings):
    """Celery runs each task in the request's thread once the transaction commits."""
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_overdue_blocked_trust_unblock_payment_active_and_signed_events(
    live_server,
    settings,
    mobile,
    juno_simulator,
    eager_tasks,
    processing_inline,
    receiver,  # noqa: F811
):
    settings.PUBLIC_BASE_URL = live_server.url
    factories.ProviderFactory(name="Fibra Rápida Telecom", block_after_days=15, trust_unblock_days=3)
    Endpoint.objects.create(name="NOC", url=receiver.url, secret=SECRET)
    account = factories.JunoAccountFactory(name="Juno")
    charge = issued_charge(account)  # due in 10 days, at the simulator
    customer = charge.customer
    context, screens = mobile
    page = context.new_page()
    portal = f"{live_server.url}/portal/{customer.portal_token}/"

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=30), tick=True):
        # The daily pass: 20 days late is past the 15-day limit.
        assert service_status.overdue_pass().blocked == 1
        page.goto(portal)
        box = page.locator("#service")
        expect(box).to_contain_text(pt("Your internet service is blocked"))
        screens.snap(page, "blocked")

        page.locator("button.trust-unblock").click()
        expect(page.locator("#service .notice.granted")).to_be_visible()
        customer.refresh_from_db()
        assert customer.status == CustomerStatus.ACTIVE
        screens.snap(page, "trust-unblocked")

        # "Simular pagamento": the simulator pays and POSTs the notification to the live server.
        juno_simulator.app.pay({"code": charge.gateway_code})
        # Processed in the posting request (processing_inline), so answered once processed: waiting
        # on the simulator, not on the shared in-memory SQLite database the live server writes to.
        assert wait_for(lambda: any(n["status"] == 200 for n in juno_simulator.app.notifications))
        charge.refresh_from_db()
        assert charge.state == "paid"
        page.goto(portal)
        expect(page.locator("#service")).to_have_count(0)
        expect(page.locator(".payments .payment")).to_have_count(1)
        screens.snap(page, "paid")

    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE
    causes = list(StatusChange.objects.filter(customer=customer).values_list("to_status", "cause"))
    assert causes == [("blocked", "overdue"), ("active", "trust")]

    assert wait_for(
        lambda: Delivery.objects.exclude(state=DeliveryState.PENDING).count() == Delivery.objects.count()
    )
    received = {}
    for request in receiver.requests:
        assert signing.verify(
            SECRET, request.body, request.headers[signing.SIGNATURE_HEADER], tolerance=10**8
        )
        document = json.loads(request.body)
        assert request.headers[signing.EVENT_ID_HEADER] == document["id"]
        received.setdefault(document["type"], []).append(document)
    assert {"customer.blocked", "customer.unblocked", "charge.paid", "charge.issued"} <= set(received)
    assert received["customer.blocked"][0]["data"]["customer"]["id"] == customer.pk
    assert received["customer.unblocked"][0]["data"]["cause"] == "trust"
    assert received["charge.paid"][0]["data"]["charge"]["reference"] == charge.reference
    ids = [json.loads(r.body)["id"] for r in receiver.requests]
    assert len(ids) == len(set(ids))


def test_staff_preview_then_generate_the_month_and_follow_it(
    live_server, desktop, eager_tasks, juno_simulator
):
    """Gerar cobranças: the preview (count, total, who is skipped and why), then the run and its summary."""
    from billing.models import BillingRun, Charge
    from tests.browser.helpers import log_in, staff_user

    factories.ProviderFactory(name="Fibra Rápida Telecom")
    account = factories.JunoAccountFactory(name="Juno")
    for _ in range(3):
        factories.CustomerFactory(bank_account=account)
    factories.CustomerFactory(bank_account=account, name="Plano Zerado", plan_amount=0)
    staff_user("operadora", groups=("Billing operators",))
    context, screens = desktop
    page = context.new_page()
    base = live_server.url
    log_in(page, base, "operadora")

    page.goto(f"{base}/admin/billing/billingrun/")
    page.click(f"text={pt('Gerar cobranças')}")
    next_month = (dt.date.today().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    page.fill("#id_month", next_month.strftime("%Y-%m"))
    page.click("input[name=preview]")
    preview = page.locator("#preview")
    expect(preview.locator(".preview-summary")).to_contain_text("R$ 299,70")
    expect(preview.locator(".preview-skipped")).to_contain_text("Plano Zerado")
    assert Charge.objects.count() == 0
    screens.snap(page, "preview")

    page.click("button[name=run]")
    expect(page.locator("#run")).to_have_attribute("data-state", "done")
    expect(page.locator(".run-created")).to_have_text("3")
    screens.snap(page, "done")
    run = BillingRun.objects.get()
    assert (run.created, run.requested_by.username) == (3, "operadora")
    assert Charge.objects.filter(billing_month=next_month).count() == 3
