"""The staff dashboard on the admin index, in chromium: figures, chart, links to filtered charges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import ChargeState, Payment
from billing.selectors.dashboard import month_start_shift
from tests import factories
from tests.browser.helpers import log_in, staff_user

playwright = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
expect = playwright.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def figures(db):
    accounts = [
        factories.JunoAccountFactory(name="Juno Matriz"),
        factories.JunoAccountFactory(name="Juno Filial Campinas"),
    ]
    month = dt.date.today().replace(day=1)
    for index, account in enumerate(accounts):
        customer = factories.CustomerFactory(bank_account=account)
        for offset in range(-11, 1):
            start = month_start_shift(month, offset)
            for day, state in ((5, ChargeState.PAID), (12, ChargeState.PAID), (20, ChargeState.ISSUED)):
                charge = factories.ChargeFactory(
                    customer=customer,
                    state=state,
                    due_date=start.replace(day=day),
                    amount=Decimal(1500 + 250 * index + 40 * (offset % 5)),
                )
                if state == ChargeState.PAID:
                    Payment.objects.create(
                        charge=charge,
                        gateway="juno",
                        gateway_payment_id=f"p{charge.pk}",
                        amount=charge.amount,
                        paid_on=charge.due_date,
                        status="CONFIRMED",
                    )
        factories.ChargeFactory(customer=customer, state=ChargeState.FAILED, due_date=month.replace(day=8))
    return accounts


def test_superuser_reads_the_dashboard_and_follows_a_figure(live_server, desktop, figures):
    context, screens = desktop
    page = context.new_page()
    staff_user("chefe", superuser=True)

    log_in(page, live_server.url, "chefe")

    board = page.locator(".billing-dashboard")
    expect(board).to_be_visible()
    expect(board.locator(".billing-table tbody tr")).to_have_count(3)  # two accounts and the total
    expect(board.locator("svg.billing-svg rect.billing-bar-billed")).to_have_count(12)
    expect(page.locator("#content-main .app-billing")).to_be_visible()
    # The figures table fits: no horizontal scrolling on a desktop screen.
    scroll = page.locator(".billing-scroll")
    assert scroll.evaluate("box => box.scrollWidth <= box.clientWidth")
    screens.snap(page, "dashboard")

    failed = board.locator(".billing-table tbody tr").first.locator("td").nth(4).locator("a")
    expect(failed).to_have_text("1")
    failed.click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text(str(ChargeState.FAILED.label))
