"""The billing desk's collection tools in chromium:

1. An operator records a payment taken at the counter from the charge page (baixa manual): the
   charge is paid, the payment shows who entered it, and the boleto is cancelled at the gateway.
2. A subscriber, on a phone, asks for a second copy of an overdue boleto on the portal: the new
   boleto (issued by the Juno simulator) replaces the old one on the page, which says what it is.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import Charge, ChargeState, Payment
from billing.services import charges as charge_services
from tests import factories
from tests.browser.helpers import log_in, pt, staff_user

playwright = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
expect = playwright.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager_tasks(settings):
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def issued_overdue(juno_simulator):
    """A título issued through the simulator, then (as time went by) five days overdue."""
    factories.ProviderFactory(name="Fibra Rápida Telecom", phone="(11) 4002-8922")
    account = factories.JunoAccountFactory(name="Juno")
    customer = factories.CustomerFactory(
        name="Maria Aparecida dos Santos Oliveira", document="52998224725", bank_account=account
    )
    today = dt.date.today()
    charge = charge_services.charge_create(
        customer=customer,
        amount=Decimal("99.90"),
        due_date=today + dt.timedelta(days=10),
        description="Internet 300 Mega",
        billing_month=today.replace(day=1),
        enqueue=False,
    )
    charge = charge_services.charge_issue(charge_id=charge.pk)
    assert charge.state == ChargeState.ISSUED
    Charge.objects.filter(pk=charge.pk).update(due_date=today - dt.timedelta(days=5))
    return Charge.objects.get(pk=charge.pk)


def test_operator_records_a_counter_payment(live_server, desktop, issued_overdue, eager_tasks):
    context, screens = desktop
    page = context.new_page()
    staff_user("operadora", groups=("Billing operators",))
    log_in(page, live_server.url, "operadora")

    page.goto(f"{live_server.url}/admin/billing/charge/{issued_overdue.pk}/change/")
    record = f"a.cobranca-object-action[href$='/do/record-payment/']:has-text('{pt('Record a payment')}')"
    page.click(record)
    expect(page.locator(".cobranca-facts")).to_contain_text(pt("amount due today").capitalize())
    expect(page.locator(".cobranca-facts")).to_contain_text("R$")
    page.select_option("#id_method", "pix")
    page.fill("#id_note", "PIX recebido na conta do provedor, E2E 123")
    screens.snap(page, "form")
    page.click(f"input[type=submit][value='{pt('Record the payment')}']")

    expect(page.locator(".messagelist .success")).to_contain_text(issued_overdue.reference)
    expect(page.locator(".messagelist .info")).to_be_visible()
    charge = Charge.objects.get(pk=issued_overdue.pk)
    assert charge.state == ChargeState.PAID
    payment = Payment.objects.get(charge=charge)
    assert (
        payment.entered_by.username == "operadora" and payment.method == "pix" and payment.source == "staff"
    )
    # The boleto was cancelled at the gateway (the task ran eagerly after the commit).
    assert not charge.gateway_cancel_due
    assert charge.events.filter(
        reason=pt("Boleto cancelled at the gateway: it was paid outside it.")
    ).exists()
    expect(page.locator(record)).to_have_count(0)  # nothing left to record
    screens.snap(page, "paid")


def test_subscriber_gets_a_second_copy_on_the_portal(live_server, mobile, issued_overdue, eager_tasks):
    context, screens = mobile
    page = context.new_page()
    page.goto(f"{live_server.url}/portal/{issued_overdue.customer.portal_token}/")
    old = page.locator(f"article.charge[data-charge='{issued_overdue.pk}']")
    expect(old).to_have_class("card charge is-overdue")
    screens.snap(page, "overdue")

    old.get_by_role("button", name=pt("Get a second copy with a new due date")).click()

    new = Charge.objects.get(replaces=issued_overdue)
    expect(page.locator(".notice.ok")).to_be_visible()
    card = page.locator(f"article.charge[data-charge='{new.pk}']")
    expect(card).to_be_visible()
    expect(card.locator(".second-copy-of")).to_contain_text((issued_overdue.due_date).strftime("%d/%m/%Y"))
    expect(page.locator(f"article.charge[data-charge='{issued_overdue.pk}']")).to_have_count(0)
    expect(card.locator(".linha-value")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    new.refresh_from_db()
    issued_overdue.refresh_from_db()
    assert new.state == ChargeState.ISSUED and new.amount > issued_overdue.amount
    assert issued_overdue.state == ChargeState.CANCELLED  # cancelled at the gateway after the copy
    screens.snap(page, "second-copy")

    # Asking again the same day is refused with the reason.
    page.goto(f"{live_server.url}/portal/{issued_overdue.customer.portal_token}/")
    expect(page.get_by_role("button", name=pt("Get a second copy with a new due date"))).to_have_count(0)
