"""Every changelist fits a 1366 × 768 laptop with the admin's sidebar open: no sideways scroll.

One superuser opens the changelist of every model the admin site registers (ours and the
libraries'), with the demo data plus long texts where staff meet them (gateway errors,
notification errors), and measures in chromium:

- the page: ``document.scrollWidth`` may not exceed the window's width;
- the list: the results table may not be wider than the box that holds it (Django's admin scrolls
  that box sideways instead of the page, which hides the right-hand columns just the same).

Each list leaves a screenshot in test-artifacts/layout-<app>-<model>.png. The page of each list's
first object is opened too and may not scroll sideways either (layout-page-<app>-<model>.png).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from billing.models import (
    Charge,
    ChargeState,
    ExchangeOutcome,
    GatewayLog,
    Notification,
    ReconciliationDifference,
    ReconciliationRun,
)
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import log_in, staff_user

playwright = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
expect = playwright.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}

MEASURE = """() => {
  const results = document.querySelector('#changelist .results');
  const table = document.querySelector('#result_list');
  const sidebar = document.querySelector('#nav-sidebar');
  return {
    page: document.documentElement.scrollWidth,
    window: window.innerWidth,
    table: table ? table.scrollWidth : 0,
    area: results ? results.clientWidth : 0,
    sidebarOpen: !!sidebar && sidebar.getBoundingClientRect().width > 100,
    rows: document.querySelectorAll('#result_list tbody tr').length,
  };
}"""


def long_texts() -> None:
    """What staff read in the lists besides the demo: long gateway errors, a reconciliation run."""
    charge = Charge.objects.filter(state=ChargeState.FAILED).select_related("bank_account").first()
    account = charge.bank_account
    error = (
        "O campo CEP do pagador é inválido para a cidade informada; confira o endereço do cliente "
        "e tente novamente."
    )
    Charge.objects.filter(pk=Charge.objects.order_by("pk").values("pk")[:1]).update(
        state=ChargeState.ISSUED,
        pix_payload="00020101021226820014br.gov.bcb.pix2560pix.example.com/qr/v2/cobv/"
        + "9d36b84fc70b478fb95c12729b90ca25" * 3
        + "5204000053039865406119.905802BR5905ASAAS6009SAO PAULO62070503***6304ABCD",
        gateway_payload={"description": error * 3, "link": "https://example.com/" + "x" * 200},
    )
    for endpoint, outcome in (
        ("issue-charge", ExchangeOutcome.REJECTED),
        ("fetch-payment-details", ExchangeOutcome.OK),
        ("list-charges", ExchangeOutcome.UNAVAILABLE),
    ):
        GatewayLog.objects.create(
            bank_account=account,
            gateway=account.gateway,
            endpoint=endpoint,
            url="https://www.boletobancario.com/boletofacil/integration/api/v1/" + endpoint,
            request_params={"reference": charge.reference},
            status_code=400 if outcome == ExchangeOutcome.REJECTED else 200,
            duration_ms=1234,
            outcome=outcome,
            error_message=error if outcome != ExchangeOutcome.OK else "",
            reference=charge.reference,
            gateway_code="123456789012",
            charge=charge,
        )
    Notification.objects.create(
        gateway=account.gateway,
        bank_account=account,
        path="/api/notifications/juno/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG/",
        body="paymentToken=8f2a1c9e7d6b5a4f3e2d1c0b&chargeReference=" + charge.reference,
        remote_addr="200.201.202.203",
        status="failed",
        error=error,
        payment_token="8f2a1c9e7d6b5a4f3e2d1c0b9a8f7e6d",
        charge_reference=charge.reference,
        attempts=12,
    )
    run = ReconciliationRun.objects.create(
        bank_account=account,
        period_start=dt.date(2026, 11, 1),
        period_end=dt.date(2026, 11, 22),
        gateway_payments=1234,
        local_payments=1230,
        repaired=3,
        differences=4,
        error="",
    )
    ReconciliationDifference.objects.create(run=run, kind="missing_here", gateway_payment_id="PAY-9")


def fill_empty_lists() -> None:
    """A list the demo leaves empty gets rows from the query test's builders: an empty list
    measures nothing."""
    from tests.test_admin_queries import _builders

    builders = _builders()
    for model in admin.site._registry:
        label = model._meta.label_lower
        if label in builders and not model._default_manager.exists():
            builders[label](5)


def changelists() -> list[tuple[str, str]]:
    return sorted((model._meta.app_label, model._meta.model_name) for model in admin.site._registry)


def test_every_changelist_fits_a_laptop_with_the_sidebar_open(live_server, browser):
    call_command("load_demo", verbosity=0)
    long_texts()
    from axes.models import AccessAttempt
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    AccessAttempt.objects.create(
        username="operadora@valeconectado.com.br",
        ip_address="200.201.202.203",
        user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
        path_info="/admin/login/",
        failures_since_start=3,
        get_data="",
        post_data="username=operadora",
    )
    crontab = CrontabSchedule.objects.create(minute="0", hour="*", timezone="America/Sao_Paulo")
    PeriodicTask.objects.get_or_create(
        name="Relatório semanal de cobranças", task="billing.sweep", crontab=crontab
    )
    fill_empty_lists()
    staff_user("chefe", superuser=True)

    context = browser.new_context(viewport=LAPTOP, locale="pt-BR", timezone_id="America/Sao_Paulo")
    context.set_default_timeout(15_000)
    page = context.new_page()
    ARTIFACTS.mkdir(exist_ok=True)
    overflowing: list[str] = []
    try:
        log_in(page, live_server.url, "chefe")
        for app_label, model_name in changelists():
            url = reverse(f"admin:{app_label}_{model_name}_changelist")
            response = page.goto(live_server.url + url)
            assert response is not None and response.status == 200, url
            sizes = page.evaluate(MEASURE)
            assert sizes["sidebarOpen"], f"{url}: the navigation sidebar is not open"
            page.screenshot(path=str(ARTIFACTS / f"layout-{app_label}-{model_name}.png"))
            if sizes["page"] > sizes["window"] or sizes["table"] > sizes["area"]:
                overflowing.append(
                    f"{app_label}.{model_name}: page {sizes['page']} px in a {sizes['window']} px window, "
                    f"table {sizes['table']} px in a {sizes['area']} px area ({sizes['rows']} rows)"
                )
        for app_label, model_name in changelists():
            # The page of the list's first object: its readonly values, inlines and buttons fit too.
            label = f"{app_label}.{model_name}"
            model = next(m for m in admin.site._registry if m._meta.label_lower == label)
            first = model._default_manager.order_by("pk").first()
            if first is None:
                continue
            url = reverse(f"admin:{app_label}_{model_name}_change", args=[first.pk])
            response = page.goto(live_server.url + url)
            assert response is not None and response.status == 200, url
            sizes = page.evaluate(MEASURE)
            page.screenshot(path=str(ARTIFACTS / f"layout-page-{app_label}-{model_name}.png"), full_page=True)
            if sizes["page"] > sizes["window"]:
                overflowing.append(f"{url}: page {sizes['page']} px in a {sizes['window']} px window")
    finally:
        context.close()
    assert not overflowing, "Pages that scroll sideways at 1366 × 768:\n" + "\n".join(overflowing)
