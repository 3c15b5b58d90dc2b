"""Flow 3: a subscriber opens the portal link on a phone, copies the linha digitável, opens the
boleto, and a revoked link gives 404."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from billing.models import ChargeState, Payment
from tests import factories
from tests.browser.helpers import pt

playwright = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
expect = playwright.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINHA = "42297115040000195441411000000005100000000009990"


@pytest.fixture
def subscriber(juno_simulator):
    factories.ProviderFactory(name="Fibra Rápida Telecom", phone="(11) 4002-8922")
    account = factories.JunoAccountFactory(name="Juno")
    customer = factories.CustomerFactory(
        name="Maria Aparecida dos Santos Oliveira", document="52998224725", bank_account=account
    )
    today = dt.date.today()
    base = juno_simulator.app.base_url
    factories.ChargeFactory(
        customer=customer,
        state=ChargeState.ISSUED,
        amount=Decimal("99.90"),
        due_date=today - dt.timedelta(days=5),
        description="Internet 100 Mega",
        gateway_code="1001",
        link=f"{base}/_sim/boleto/1001",
        linha_digitavel=LINHA,
    )
    carne = factories.CarneFactory(
        customer=customer, installments=12, installment_link=f"{base}/_sim/carne/77"
    )
    factories.ChargeFactory(
        customer=customer,
        carne=carne,
        installment_number=2,
        state=ChargeState.ISSUED,
        amount=Decimal("99.90"),
        due_date=today + dt.timedelta(days=25),
        gateway_code="1002",
        link=f"{base}/_sim/boleto/1002",
        linha_digitavel="42297115040000195441411000000005200000000009990",
    )
    paid = factories.ChargeFactory(
        customer=customer, state=ChargeState.PAID, due_date=today - dt.timedelta(days=35)
    )
    Payment.objects.create(
        charge=paid,
        gateway="juno",
        gateway_payment_id="pay-1",
        amount=Decimal("99.90"),
        paid_on=today - dt.timedelta(days=36),
        status="CONFIRMED",
    )
    return customer


def test_subscriber_copies_linha_opens_boleto_and_revoked_link_404s(live_server, mobile, subscriber):
    context, screens = mobile
    page = context.new_page()
    portal_url = f"{live_server.url}/portal/{subscriber.portal_token}/"

    response = page.goto(portal_url)
    assert response.status == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    expect(page.get_by_role("heading", level=1)).to_have_text("Maria Aparecida dos Santos Oliveira")
    expect(page.locator(".provider")).to_have_text("Fibra Rápida Telecom")
    expect(page.get_by_text("***.982.247-**")).to_be_visible()
    overdue = page.locator("article.charge.is-overdue")
    expect(overdue).to_have_count(1)
    expect(overdue.locator(".badge.overdue")).to_be_visible()
    expect(overdue.locator(".amount-today")).to_contain_text("R$")
    expect(page.locator("a.carne-link")).to_have_attribute("href", re.compile(r"/_sim/carne/77$"))
    # Mobile-first: nothing wider than the 360 px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screens.snap(page, "portal")

    copy_button = overdue.locator("button.copy")  # the overdue card also offers a second copy
    expect(copy_button).to_be_visible()
    copy_button.click()
    expect(copy_button).to_have_class(re.compile(r"\bcopied\b"))
    assert page.evaluate("navigator.clipboard.readText()") == LINHA
    screens.snap(page, "copied")

    with context.expect_page() as popup_info:
        overdue.locator("a.boleto-link").click()
    boleto = popup_info.value
    boleto.wait_for_load_state()
    assert boleto.url.startswith("http://127.0.0.1:") and boleto.url.endswith("/_sim/boleto/1001")
    expect(boleto.get_by_role("heading")).to_contain_text("simulador")
    boleto.close()

    subscriber.portal_token = "revoked-and-replaced-" + "r" * 22
    subscriber.save(update_fields=["portal_token"])
    response = page.goto(portal_url)
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text(pt("Link not found"))
    assert "Maria" not in page.content()


def test_portal_is_readable_without_javascript(live_server, no_javascript, subscriber):
    context, screens = no_javascript
    page = context.new_page()
    page.goto(f"{live_server.url}/portal/{subscriber.portal_token}/")

    expect(page.locator(".linha-value").first).to_have_text(re.compile(r"^42297\.11504 \d{5}\.\d{6} "))
    expect(page.locator("button.copy").first).to_be_hidden()
    expect(page.locator("a.boleto-link").first).to_be_visible()
    expect(page.locator(".payment")).to_have_count(1)
