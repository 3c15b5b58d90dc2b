"""Staff flows in the admin, in chromium against the live server.

1. Staff log in, create a customer (an invalid CPF first), switch three customers to carnê in bulk,
   issue a título through the Juno simulator (tasks run eagerly) and cancel it.
2. A "Billing readers" member sees the same lists and no action that changes data.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from billing.models import Charge, ChargeState
from customers.models import BillingType, Customer
from tests import factories
from tests.browser.helpers import log_in, pt, staff_user

playwright = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
Page = playwright.Page
expect = playwright.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VALID_CPF = "529.982.247-25"
INVALID_CPF = "529.982.247-26"


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
def office(db):
    factories.ProviderFactory(name="Fibra Rápida Telecom")
    account = factories.JunoAccountFactory(name="Juno Sandbox")
    existing = [
        factories.CustomerFactory(name=f"Assinante {letter}", bank_account=account) for letter in "ABCD"
    ]
    return {"account": account, "customers": existing}


def choose_autocomplete(page: Page, field: str, text: str) -> None:
    page.click(f".field-{field} .select2-selection")
    page.fill(".select2-container--open .select2-search__field", text)
    page.click(f".select2-results__option:has-text('{text}')")


def run_action(page: Page, action: str, ids: list[int]) -> None:
    for pk in ids:
        page.check(f"input.action-select[value='{pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def test_staff_creates_customer_bulk_switches_issues_and_cancels(
    live_server, desktop, office, juno_simulator, eager_tasks
):
    context, screens = desktop
    page = context.new_page()
    base = live_server.url
    staff_user("operadora", groups=("Billing operators",))

    log_in(page, base, "operadora")
    expect(page.locator(".billing-dashboard")).to_be_visible()
    expect(page.locator("#content-main .app-customers")).to_be_visible()
    screens.snap(page, "dashboard")

    # A customer with an invalid CPF is refused with the reason, then saved once fixed.
    page.goto(f"{base}/admin/customers/customer/add/")
    page.fill("#id_name", "Joana Pereira")
    page.fill("#id_document", INVALID_CPF)
    choose_autocomplete(page, "bank_account", "Juno Sandbox")
    page.fill("#id_plan_amount", "89.90")
    page.fill("#id_due_day", "15")
    page.click("input[name=_save]")
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-document .errorlist")).to_contain_text(
        pt("Invalid CPF: the check digits do not match.")
    )
    screens.snap(page, "invalid-cpf")
    page.fill("#id_document", VALID_CPF)
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    joana = Customer.objects.get(document="52998224725")
    assert joana.name == "Joana Pereira" and joana.bank_account == office["account"]

    # Three customers to carnê, through the confirmation page.
    chosen = office["customers"][:3]
    page.goto(f"{base}/admin/customers/customer/")
    run_action(page, "change_billing_type", [c.pk for c in chosen])
    expect(page.locator("ul.cobranca-confirmation-items li")).to_have_count(3)
    page.check(f"input[name=billing_type][value={BillingType.CARNE}]")
    screens.snap(page, "billing-type-confirmation")
    page.click("form input[type=submit]")
    expect(page.locator(".messagelist .success")).to_contain_text("3")
    assert set(Customer.objects.filter(billing_type=BillingType.CARNE).values_list("pk", flat=True)) == {
        c.pk for c in chosen
    }

    # A título for Joana: issued at the (simulated) gateway, with its boleto link and linha digitável.
    page.goto(f"{base}/admin/customers/customer/{joana.pk}/change/")
    page.click("a[href$='/issue-charge/']")
    due = dt.date.today() + dt.timedelta(days=10)
    page.fill("#id_due_date", due.isoformat())
    page.fill("#id_amount", "89.90")
    page.click("input[type=submit].default")
    expect(page.locator(".messagelist .success")).to_be_visible()
    charge = Charge.objects.get(customer=joana)
    assert charge.state == ChargeState.ISSUED, charge.error_message
    assert charge.amount == Decimal("89.90") and charge.due_date == due
    page.reload()
    row = page.locator(".cobranca-single-charges tbody tr").first
    expect(row).to_contain_text(charge.reference)
    expect(row).to_contain_text(str(ChargeState.ISSUED.label))
    expect(row.locator("a[target=_blank]")).to_have_attribute("href", charge.link)
    page.goto(f"{base}/admin/billing/charge/{charge.pk}/change/")
    expect(page.locator(".field-linha_digitavel_display input")).to_have_value(
        re.sub(r"\D", "", charge.linha_digitavel)
    )
    expect(page.locator(".field-link_display a")).to_have_attribute("href", charge.link)
    screens.snap(page, "issued")

    # Cancel it through the confirmation page: cancelled at the gateway (task run eagerly).
    page.goto(f"{base}/admin/billing/charge/")
    run_action(page, "cancel_selected_charges", [charge.pk])
    expect(page.locator("ul.cobranca-confirmation-items li")).to_contain_text(charge.reference)
    page.fill("#id_reason", "Cliente pediu cancelamento")
    page.click("form input[type=submit]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    charge.refresh_from_db()
    assert charge.state == ChargeState.CANCELLED
    page.goto(f"{base}/admin/billing/charge/{charge.pk}/change/")
    expect(page.locator(".field-state_display")).to_contain_text(str(ChargeState.CANCELLED.label))
    sim_charge = juno_simulator.app.snapshot()
    assert re.search(r"cancel", str(sim_charge), re.IGNORECASE)


def test_reader_sees_the_same_lists_and_nothing_that_changes_data(live_server, desktop, office):
    context, screens = desktop
    page = context.new_page()
    base = live_server.url
    customer = office["customers"][0]
    factories.ChargeFactory(customer=customer, state=ChargeState.ISSUED, gateway_code="9")
    factories.ChargeFactory(customer=customer, state=ChargeState.FAILED)
    staff_user("leitora", groups=("Billing readers",))

    log_in(page, base, "leitora")
    expect(page.locator(".billing-dashboard")).to_be_visible()
    expect(page.locator("#content-main a.addlink")).to_have_count(0)
    expect(page.locator("#content-main a.changelink")).to_have_count(0)

    page.goto(f"{base}/admin/customers/customer/")
    expect(page.locator("#result_list tbody tr")).to_have_count(len(office["customers"]))
    expect(page.locator("select[name=action]")).to_have_count(0)
    expect(page.locator(".object-tools a")).to_have_count(0)  # no add, no import

    page.goto(f"{base}/admin/customers/customer/{customer.pk}/change/")
    expect(page.locator("input[type=submit]")).to_have_count(0)
    expect(page.locator("a[href$='/issue-charge/']")).to_have_count(0)
    expect(page.locator("a[href$='/issue-carne/']")).to_have_count(0)
    expect(page.locator("a[href$='/renew-portal-link/']")).to_have_count(0)

    page.goto(f"{base}/admin/billing/charge/")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("select[name=action]")).to_have_count(0)
    page.goto(f"{base}/admin/providers/bankaccount/")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator(".object-tools a")).to_have_count(0)

    response = page.goto(f"{base}/admin/customers/customer/add/")
    assert response.status == 403
    response = page.goto(f"{base}/admin/customers/customer/{customer.pk}/issue-charge/")
    assert response.status == 403
    page.goto(f"{base}/admin/billing/charge/")
