"""A day's work at the billing desk, on a 1366 × 768 laptop with the sidebar open.

An operator finds a customer who is behind (customers list › Atraso), opens the overdue charge from
the customer's page, cancels it with the page's button and its confirmation page, and finds what
she did in "Ações recentes" on the index and in the charge's history. Screenshots of each step in
test-artifacts/test_a_days_work-<step>.png.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import Charge, ChargeState
from billing.services import charges as charge_services
from core.dates import today
from tests import factories
from tests.browser.helpers import log_in, staff_user

playwright = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
expect = playwright.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def eager_tasks(settings):
    """Celery runs each task in the request's thread once the transaction commits."""
    from config.celery import app

    previous = app.conf.task_always_eager  # read before the setting changes: the app reads it lazily
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def desk(juno_simulator, eager_tasks):
    """A provider, a Juno account on the simulator, customers up to date and one 12 days late."""
    factories.ProviderFactory(name="Vale Conectado Telecom")
    account = factories.JunoAccountFactory(name="Juno Matriz")
    for name in ("Bruno Costa Lima", "Carla Dias Moreira", "Daniel Rocha Pires"):
        customer = factories.CustomerFactory(bank_account=account, name=name)
        factories.ChargeFactory(
            customer=customer, state=ChargeState.PAID, due_date=today() - dt.timedelta(days=20)
        )
    late = factories.CustomerFactory(
        bank_account=account, name="Ana Atrasada Souza", plan_amount=Decimal("119.90")
    )
    charge = charge_services.charge_create(
        customer=late,
        amount=Decimal("119.90"),
        due_date=today() + dt.timedelta(days=3),
        description="Internet",
    )
    charge.refresh_from_db()
    assert charge.state == ChargeState.ISSUED, charge.error_message  # issued at the simulator
    Charge.objects.filter(pk=charge.pk).update(due_date=today() - dt.timedelta(days=12))
    return {"customer": late, "charge": charge}


def test_a_days_work(live_server, browser, desk, request):
    from tests.browser.conftest import ARTIFACTS

    charge, customer = desk["charge"], desk["customer"]
    staff_user("operadora", groups=("Billing operators",))
    context = browser.new_context(
        viewport=LAPTOP,
        locale="pt-BR",
        timezone_id="America/Sao_Paulo",
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    ARTIFACTS.mkdir(exist_ok=True)

    def snap(step: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"test_a_days_work-{step}.png"))

    try:
        base = live_server.url
        log_in(page, base, "operadora")
        snap("1-index")

        # Who is behind? The customers list, filtered by days late.
        page.click("#content-main a[href$='/customers/customer/']:has-text('Clientes')")
        page.click("#changelist-filter summary:has-text('Atraso')")
        page.click("#changelist-filter a:has-text('Vencidas')")
        rows = page.locator("#result_list tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Ana Atrasada Souza")
        expect(rows.first).to_contain_text("12 dias de atraso")
        snap("2-customers-behind")

        # Her page lists the charge; open it.
        rows.first.locator("th a, td a").first.click()
        expect(page.locator("h2").first).to_contain_text(customer.name)
        expect(page.locator(".cobranca-standing")).to_contain_text("1 cobrança vencida (12 dias de atraso)")
        snap("2b-customer")
        page.click(f".cobranca-single-charges a:has-text('{charge.reference}')")
        expect(page.locator("input[name=_save]")).to_have_count(0)  # issued: read-only
        tools = page.locator(".object-tools")
        expect(tools.locator("a:has-text('Abrir o boleto')")).to_have_attribute("target", "_blank")
        expect(tools.locator("a:has-text('Copiar a linha digitável')")).to_be_visible()
        snap("3-charge")

        # Cancel it: the confirmation page first, with the reason.
        tools.locator("a:has-text('Cancelar')").click()
        expect(page.locator(".cobranca-question")).to_contain_text("Cancelar esta cobrança?")
        page.fill("#id_reason", "Cliente mudou de cidade")
        snap("4-confirm")
        page.click("input[type=submit]")
        expect(page.locator(".messagelist .success")).to_contain_text(charge.reference)
        charge.refresh_from_db()
        assert charge.state == ChargeState.CANCELLED  # cancelled at the (simulated) gateway
        expect(page.locator(".field-state_display")).to_contain_text("Cancelado")
        expect(page.locator(".object-tools a:has-text('Cancelar')")).to_have_count(0)
        expect(page.locator(".object-tools a:has-text('Abrir o boleto')")).to_have_count(0)
        snap("5-cancelled")

        # What she did, in "Ações recentes" and in the charge's history.
        page.goto(f"{base}/admin/")
        recent = page.locator("#recent-actions-module")
        expect(recent).to_contain_text(charge.reference)
        expect(recent).to_contain_text("Motivo: Cliente mudou de cidade")
        snap("6-recent-actions")
        recent.locator(f"a:has-text('{charge.reference}')").click()
        page.click(".object-tools a.historylink")
        expect(page.locator("#change-history")).to_contain_text("Cliente mudou de cidade")
        snap("7-history")
    finally:
        context.close()


PIX = (
    "00020101021226820014br.gov.bcb.pix2560pix.example.com/qr/v2/cobv/9d36b84fc70b478fb95c12729b90ca25"
    "5204000053039865406119.905802BR5905ASAAS6009SAO PAULO62070503***6304ABCD"
)


def test_charge_page_shows_pix_and_copies_it(live_server, browser):
    """An Asaas charge's page: the QR code drawn, the copia e cola payload copied by its button, and
    the long payload wraps inside the page (no sideways scroll at 1366 × 768)."""
    from tests.browser.conftest import ARTIFACTS

    customer = factories.CustomerFactory(
        bank_account=factories.AsaasAccountFactory(name="Asaas Matriz"), name="Beatriz Pix Moreira"
    )
    charge = factories.ChargeFactory(
        customer=customer,
        state=ChargeState.ISSUED,
        pix_payload=PIX,
        pix_expires_at=dt.datetime(2026, 12, 10, 23, 59, tzinfo=dt.UTC),
        link="https://sandbox.asaas.com/b/pdf/abc",
    )
    staff_user("leitora", groups=("Billing readers",))
    context = browser.new_context(
        viewport=LAPTOP,
        locale="pt-BR",
        timezone_id="America/Sao_Paulo",
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, live_server.url, "leitora")
        page.goto(f"{live_server.url}/admin/billing/charge/{charge.pk}/change/")
        field = page.locator(".field-pix_display")
        expect(field.locator("svg.pix-qr")).to_be_visible()
        box = field.locator("svg.pix-qr").bounding_box()
        assert box is not None and box["width"] >= 150  # big enough for a phone camera
        expect(field).to_contain_text("Pagável até 10/12/2026 20:59")
        assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
        field.locator("button[data-copy='pix-payload']").click()
        expect(field.locator("button[data-copy='pix-payload']")).to_have_text("Copiado")
        assert page.evaluate("navigator.clipboard.readText()") == PIX
        page.locator(".field-pix_display").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "test_charge_page_shows_pix_and_copies_it.png"))
        # The page's own button copies the same code.
        page.evaluate("navigator.clipboard.writeText('')")
        page.locator(".object-tools a:has-text('Copiar o código PIX')").click()
        page.wait_for_function("navigator.clipboard.readText().then(t => t.length > 0)")
        assert page.evaluate("navigator.clipboard.readText()") == PIX
    finally:
        context.close()
