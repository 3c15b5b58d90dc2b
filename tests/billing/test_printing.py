"""The printed boleto and carnê: slips, the ITF barcode drawn as SVG and read back, who may print."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.models import ChargeState
from billing.printing.barcode import itf_svg
from billing.printing.selectors import barcode_of
from billing.services import charges as charge_services
from gateways.brazil import barcode, linha_digitavel
from tests import factories
from tests.billing.itf import decode, svgs_in
from tests.browser.helpers import pt, staff_user

TODAY = dt.date(2026, 11, 20)
KNOWN_BARCODE = barcode(
    bank="341", due_date=dt.date(2026, 12, 10), amount=Decimal("99.90"), free_field="1" * 25
)


pytestmark = pytest.mark.usefixtures("local_cache")


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def simulator(settings):
    from gateways.juno.simulator import API_PREFIX, start_in_thread

    server, base_url = start_in_thread(port=0)
    settings.JUNO_BASE_URL = settings.JUNO_SANDBOX_BASE_URL = base_url + API_PREFIX
    yield server.app
    server.shutdown()


@pytest.fixture
def operator(db):
    return staff_user("operadora", groups=("Billing operators",))


def slip_count(page: str) -> int:
    return len(re.findall(r'<article class="slip', page))


# --- the barcode -----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="0123456789", min_size=44, max_size=44))
def test_any_44_digit_barcode_is_drawn_so_that_it_reads_back(code):
    assert decode(itf_svg(code)) == code


def test_barcode_has_febraban_proportions():
    svg = itf_svg(KNOWN_BARCODE)
    assert 'height="13.000mm"' in svg
    bars = [float(w) for w in re.findall(r'<rect x="[\d.]+mm" y="[\d.]+mm" width="([\d.]+)mm"', svg)]
    assert set(bars) == {0.254, 0.762}  # narrow 0.254 mm, wide three times that
    first = float(re.search(r'<rect x="([\d.]+)mm"', svg).group(1))
    assert first >= 6.4  # quiet zone before the start pattern


@pytest.mark.parametrize("bad", ["", "123", "1" * 43, "1" * 45, "a" * 44])
def test_anything_but_44_digits_is_refused(bad):
    with pytest.raises(ValueError):
        itf_svg(bad)


def test_barcode_comes_from_the_linha_when_the_gateway_sent_only_the_line(db):
    charge = factories.ChargeFactory(linha_digitavel=linha_digitavel(KNOWN_BARCODE), barcode="")
    assert barcode_of(charge) == KNOWN_BARCODE
    line = charge.linha_digitavel
    # A typo in the first field: its check digit no longer matches.
    charge.linha_digitavel = line[:2] + str((int(line[2]) + 1) % 10) + line[3:]
    assert barcode_of(charge) == ""
    assert barcode_of(factories.ChargeFactory(linha_digitavel="", barcode="")) == ""


# --- staff print pages through the Juno simulator --------------------------------------------------


def test_titulo_issued_by_the_simulator_prints_its_gateway_barcode(client, operator, simulator, provider):
    customer = factories.CustomerFactory(name="Maria da Silva", document="52998224725")
    charge = charge_services.charge_create(
        customer=customer,
        amount=Decimal("99.90"),
        due_date=dt.date(2026, 12, 10),
        description="Internet [MES]/[ANO]",
        enqueue=False,
    )
    charge = charge_services.charge_issue(charge_id=charge.pk)
    assert charge.state == ChargeState.ISSUED
    gateway_barcode = simulator.snapshot()["charges"][0]["billetDetails"]["barcodeNumber"]

    client.force_login(operator)
    response = client.get(f"/print/charge/{charge.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    [svg] = svgs_in(page)
    # The real service sends only the linha digitável (payNumber) when issuing: the bars come from it
    # and must encode exactly the gateway's own barcode number.
    assert decode(svg) == gateway_barcode == barcode_of(charge)
    assert "Maria da Silva" in page and "529.982.247-25" in page  # staff print the whole CPF
    assert "R$\u00a099,90" in page and "10/12/2026" in page
    assert charge.reference in page
    assert "PROVEDOR EXEMPLO · BoletoBancario.com" in page  # the cedente, its <br> made a separator


def test_carne_prints_one_slip_per_installment_in_a_fixed_number_of_queries(
    client, operator, simulator, django_assert_max_num_queries
):
    client.force_login(operator)
    pages = {}
    for installments in (2, 6):
        customer = factories.CustomerFactory()
        carne = charge_services.carne_create(
            customer=customer,
            installments=installments,
            amount=Decimal("79.90"),
            first_due_date=dt.date(2026, 12, 10),
            description="Internet fibra",  # one text on every Juno installment: no tags
            enqueue=False,
        )
        first = carne.installment_charges.order_by("installment_number").first()
        charge_services.charge_issue(charge_id=first.pk)
        with django_assert_max_num_queries(8):
            response = client.get(f"/print/carne/{carne.pk}/")
        assert response.status_code == 200
        pages[installments] = (carne, response.content.decode())

    carne, page = pages[6]
    assert slip_count(page) == 6
    installments = list(carne.installment_charges.order_by("installment_number"))
    decoded = [decode(svg) for svg in svgs_in(page)]
    at_gateway = {
        str(c["code"]): c["billetDetails"]["barcodeNumber"] for c in simulator.snapshot()["charges"]
    }
    assert decoded == [at_gateway[charge.gateway_code] for charge in installments]
    assert len(set(decoded)) == 6
    for number in range(1, 7):
        assert f"{number}/6" in page


def test_paid_installment_is_marked_not_payable_and_has_no_barcode(client, operator, provider):
    carne = factories.CarneFactory(installments=2)
    for number, state in ((1, ChargeState.PAID), (2, ChargeState.ISSUED)):
        code = barcode(
            bank="341",
            due_date=dt.date(2026, 10 + number, 10),
            amount=Decimal("99.90"),
            free_field=f"{number}" * 25,
        )
        factories.ChargeFactory(
            customer=carne.customer,
            carne=carne,
            installment_number=number,
            state=state,
            barcode=code,
            linha_digitavel=linha_digitavel(code),
        )
    client.force_login(operator)
    page = client.get(f"/print/carne/{carne.pk}/").content.decode()
    assert slip_count(page) == 2
    assert len(svgs_in(page)) == 1
    assert pt("Not payable: %(state)s") % {"state": pt("Paid")} in page


def test_overdue_slip_shows_the_amount_charged_today(client, operator):
    code = barcode(bank="341", due_date=dt.date(2026, 11, 10), amount=Decimal("100.00"), free_field="3" * 25)
    charge = factories.ChargeFactory(
        state=ChargeState.ISSUED,
        amount=Decimal("100.00"),
        due_date=dt.date(2026, 11, 10),
        barcode=code,
        linha_digitavel=linha_digitavel(code),
    )
    client.force_login(operator)
    page = client.get(f"/print/charge/{charge.pk}/").content.decode()
    # 10 days late: 2 % fine + 10 × 0.033 % interest = R$ 102,33
    assert "R$\u00a0102,33" in page and "R$\u00a02,33" in page


def test_mycontas_charge_without_barcode_prints_with_the_gateway_link(client, operator, mycontas_account):
    customer = factories.CustomerFactory(bank_account=mycontas_account)
    charge = factories.ChargeFactory(
        customer=customer, state=ChargeState.ISSUED, link="https://www.mycontas.com.br/cobranca/?id=99"
    )
    client.force_login(operator)
    response = client.get(f"/print/charge/{charge.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert svgs_in(page) == []
    assert "https://www.mycontas.com.br/cobranca/?id=99" in page
    assert slip_count(page) == 1


def test_readers_may_print_anonymous_and_unpermitted_staff_may_not(client, db):
    charge = factories.ChargeFactory(state=ChargeState.ISSUED, barcode=KNOWN_BARCODE)
    url = f"/print/charge/{charge.pk}/"
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(factories.UserFactory(username="semgrupo"))
    assert client.get(url).status_code == 403
    client.force_login(staff_user("leitor", groups=("Billing readers",)))
    assert client.get(url).status_code == 200
    assert client.get(f"/print/charge/{charge.pk + 1000}/").status_code == 404


def test_admin_charge_and_carne_pages_link_to_their_print_pages(client, operator):
    carne = factories.CarneFactory()
    charge = factories.ChargeFactory(
        customer=carne.customer,
        carne=carne,
        installment_number=1,
        state=ChargeState.ISSUED,
        barcode=KNOWN_BARCODE,
    )
    not_yet_issued = factories.ChargeFactory(customer=carne.customer)
    client.force_login(operator)
    page = client.get(f"/admin/billing/charge/{charge.pk}/change/").content.decode()
    assert f'href="/print/charge/{charge.pk}/"' in page
    page = client.get(f"/admin/billing/charge/{not_yet_issued.pk}/change/").content.decode()
    assert f'href="/print/charge/{not_yet_issued.pk}/"' not in page  # no boleto to print yet
    page = client.get(f"/admin/billing/carne/{carne.pk}/change/").content.decode()
    assert f'href="/print/carne/{carne.pk}/"' in page


# --- the subscriber's print pages ------------------------------------------------------------------


def test_subscriber_prints_own_open_boletos_only_with_masked_document(client, db, provider):
    customer = factories.CustomerFactory(document="52998224725")
    open_charge = factories.ChargeFactory(customer=customer, state=ChargeState.ISSUED, barcode=KNOWN_BARCODE)
    cancelled = factories.ChargeFactory(customer=customer, state=ChargeState.CANCELLED, barcode=KNOWN_BARCODE)
    someone_elses = factories.ChargeFactory(state=ChargeState.ISSUED, barcode=KNOWN_BARCODE)
    base = f"/portal/{customer.portal_token}"

    portal = client.get(f"{base}/").content.decode()
    assert f'href="{base}/boleto/{open_charge.pk}/print/"' in portal

    response = client.get(f"{base}/boleto/{open_charge.pk}/print/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store" and response["Referrer-Policy"] == "no-referrer"
    page = response.content.decode()
    assert decode(svgs_in(page)[0]) == KNOWN_BARCODE
    assert "***.982.247-**" in page and "529.982.247-25" not in page
    assert client.get(f"{base}/boleto/{cancelled.pk}/print/").status_code == 404
    assert client.get(f"{base}/boleto/{someone_elses.pk}/print/").status_code == 404
    assert client.get(f"/portal/{'x' * 43}/boleto/{open_charge.pk}/print/").status_code == 404


def test_subscriber_prints_the_open_installments_of_a_carne(client, db):
    carne = factories.CarneFactory(installments=3)
    for number, state in ((1, ChargeState.PAID), (2, ChargeState.ISSUED), (3, ChargeState.ISSUED)):
        factories.ChargeFactory(
            customer=carne.customer,
            carne=carne,
            installment_number=number,
            state=state,
            barcode=KNOWN_BARCODE,
        )
    base = f"/portal/{carne.customer.portal_token}"
    page = client.get(f"{base}/carne/{carne.pk}/print/").content.decode()
    assert slip_count(page) == 2 and "2/3" in page and "3/3" in page and "1/3" not in page
    other = factories.CarneFactory()
    assert client.get(f"{base}/carne/{other.pk}/print/").status_code == 404


# --- PIX beside the barcode ------------------------------------------------------------------------

PIX_PAYLOAD = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


def pix_figures(page: str) -> list[str]:
    return re.findall(r'<figure class="pix">(.*?)</figure>', page, flags=re.S)


def test_slip_of_a_charge_with_a_pix_payload_carries_its_qr_code(client, operator):
    from billing.templatetags.pix import pix_qr

    charge = factories.ChargeFactory(
        state=ChargeState.ISSUED,
        barcode=KNOWN_BARCODE,
        pix_payload=PIX_PAYLOAD,
        pix_expires_at=dt.datetime(2026, 12, 10, 23, 59, tzinfo=dt.UTC),
    )
    plain = factories.ChargeFactory(state=ChargeState.ISSUED, barcode=KNOWN_BARCODE, pix_payload="")
    client.force_login(operator)

    page = client.get(f"/print/charge/{charge.pk}/").content.decode()

    [figure] = pix_figures(page)
    assert str(pix_qr(PIX_PAYLOAD, pt("PIX QR code"))) in figure  # the portal's own drawing of it
    assert decode(svgs_in(page)[0]) == KNOWN_BARCODE  # the barcode is still there, and still reads
    assert pix_figures(client.get(f"/print/charge/{plain.pk}/").content.decode()) == []


def test_subscriber_prints_the_pix_code_of_an_open_carne_installment(client, db):
    carne = factories.CarneFactory(installments=2)
    for number in (1, 2):
        factories.ChargeFactory(
            customer=carne.customer,
            carne=carne,
            installment_number=number,
            state=ChargeState.ISSUED,
            barcode=KNOWN_BARCODE,
            pix_payload=PIX_PAYLOAD if number == 1 else "",
        )

    page = client.get(f"/portal/{carne.customer.portal_token}/carne/{carne.pk}/print/").content.decode()

    assert slip_count(page) == 2
    assert len(pix_figures(page)) == 1


@pytest.mark.parametrize(
    ("state", "expires_at"),
    [
        (ChargeState.PAID, None),  # nothing left to pay
        (ChargeState.ISSUED, dt.datetime(2026, 11, 19, 23, 59, tzinfo=ZoneInfo("America/Sao_Paulo"))),
    ],
)
def test_no_pix_code_on_a_slip_that_is_paid_or_whose_pix_expired(client, operator, state, expires_at):
    charge = factories.ChargeFactory(
        state=state, barcode=KNOWN_BARCODE, pix_payload=PIX_PAYLOAD, pix_expires_at=expires_at
    )
    client.force_login(operator)

    page = client.get(f"/print/charge/{charge.pk}/").content.decode()

    assert slip_count(page) == 1
    assert pix_figures(page) == []
    assert PIX_PAYLOAD not in page
