"""Printing a carnê: staff open the carnê, follow "Print the carnê", and get A4 pages of slips, three
per page, each with a barcode that reads back as the installment's gateway barcode."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from billing.models import ChargeState
from gateways.brazil import barcode, linha_digitavel
from tests import factories
from tests.billing.itf import decode
from tests.browser.helpers import log_in, pt, staff_user

playwright = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
expect = playwright.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INSTALLMENTS = 4


@pytest.fixture
def carne(db):
    factories.ProviderFactory(name="Fibra Rápida Telecom", document="11222333000181")
    account = factories.JunoAccountFactory(
        name="Juno", cedente="FIBRA RAPIDA TELECOM <br> BoletoBancario.com"
    )
    customer = factories.CustomerFactory(
        name="Maria Aparecida dos Santos Oliveira", document="52998224725", bank_account=account
    )
    carne = factories.CarneFactory(customer=customer, installments=INSTALLMENTS, amount=Decimal("89.90"))
    first_due = dt.date.today() + dt.timedelta(days=10)
    for number in range(1, INSTALLMENTS + 1):
        due = first_due + dt.timedelta(days=30 * (number - 1))
        code = barcode(bank="237", due_date=due, amount=Decimal("89.90"), free_field=f"{number:025d}")
        factories.ChargeFactory(
            customer=customer,
            carne=carne,
            installment_number=number,
            state=ChargeState.ISSUED,
            amount=Decimal("89.90"),
            due_date=due,
            description="Internet 300 Mega - parcela [PARCELA]",
            gateway_code=str(5000 + number),
            gateway_bank_account="Bradesco",
            our_number=f"000000{number:04d}",
            barcode=code,
            linha_digitavel=linha_digitavel(code),
        )
    return carne


def test_staff_print_a_carne_on_a4(live_server, desktop, carne):
    context, screens = desktop
    page = context.new_page()
    staff_user("leitora", groups=("Billing readers",))
    log_in(page, live_server.url, "leitora")

    page.goto(f"{live_server.url}/admin/billing/carne/{carne.pk}/change/")
    with context.expect_page() as opened:
        page.click(f"text={pt('Print the carnê')}")
    slips = opened.value
    slips.wait_for_load_state()
    expect(slips.locator("article.slip")).to_have_count(INSTALLMENTS)
    expect(slips.locator("article.slip svg.barcode")).to_have_count(INSTALLMENTS)
    expect(slips.locator("article.slip").first).to_contain_text("Maria Aparecida dos Santos Oliveira")
    expect(slips.locator("article.slip").first).to_contain_text("FIBRA RAPIDA TELECOM")
    screens.snap(slips, "screen")

    # What the printer gets: A4 pages (8 mm margins), three slips a page, nothing cut at the right.
    slips.emulate_media(media="print")
    expect(slips.locator(".toolbar")).to_be_hidden()
    overflow = slips.evaluate(
        "() => [...document.querySelectorAll('article.slip')].some(s => s.scrollWidth > s.clientWidth + 1)"
    )
    assert overflow is False
    pdf = slips.pdf(prefer_css_page_size=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == -(-INSTALLMENTS // 3)
    screens.snap(slips, "print")

    installments = list(carne.installment_charges.order_by("installment_number"))
    drawn = [slips.locator("article.slip svg.barcode").nth(i).evaluate("e => e.outerHTML") for i in range(4)]
    assert [decode(svg) for svg in drawn] == [c.barcode for c in installments]


PIX_PAYLOAD = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


def test_a_slip_with_pix_prints_its_qr_code_beside_the_barcode_inside_the_slip(live_server, desktop, carne):
    context, screens = desktop
    carne.installment_charges.filter(installment_number=1).update(pix_payload=PIX_PAYLOAD)
    page = context.new_page()
    staff_user("leitora", groups=("Billing readers",))
    log_in(page, live_server.url, "leitora")

    page.goto(f"{live_server.url}/print/carne/{carne.pk}/")
    page.emulate_media(media="print")

    expect(page.locator("article.slip svg.pix-qr")).to_have_count(1)
    slip = page.locator("article.slip").first.bounding_box()
    qr = page.locator("article.slip svg.pix-qr").bounding_box()
    bars = page.locator("article.slip svg.barcode").first.bounding_box()
    assert qr["height"] >= 80  # 22 mm at 96 px per inch: large enough for a phone's camera
    assert qr["y"] + qr["height"] <= slip["y"] + slip["height"]  # not cut off by the slip's edge
    assert qr["x"] >= bars["x"] + bars["width"]  # beside the bars, never over them
    screens.snap(page, "pix")
