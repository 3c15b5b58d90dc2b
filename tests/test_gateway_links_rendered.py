"""Links a gateway gave are rendered (portal, staff pages, printed slips) only when
core.links.gateway_link_allowed says so: an https address of the gateway's own domains."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from billing.models import ChargeState
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_cache")]

EVIL = "https://evil.example/boleto/1"
PLAIN_HTTP = "http://www.boletobancario.com/carne/1"  # the right domain, but not https
GOOD = "https://www.boletobancario.com/boletofacil/charge/boleto.pdf?token=abc"
GOOD_CARNE = "https://www.boletobancario.com/boletofacil/installment/xyz"


@pytest.fixture
def customer(juno_account):
    return factories.CustomerFactory(bank_account=juno_account)


def hrefs(html: str) -> set[str]:
    return {unescape(found) for found in re.findall(r'href="([^"]+)"', html)}


def bad_charge(customer):
    carne = factories.CarneFactory(customer=customer, installment_link=PLAIN_HTTP)
    return factories.ChargeFactory(
        customer=customer,
        state=ChargeState.ISSUED,
        link=EVIL,
        checkout_url=EVIL + "/checkout",
        carne=carne,
        installment_number=1,
        linha_digitavel="2" * 47,
    )


def test_the_portal_offers_only_allowed_links(client, customer):
    bad_charge(customer)
    factories.ChargeFactory(
        customer=customer,
        state=ChargeState.ISSUED,
        link=GOOD,
        installment_link=GOOD_CARNE,
        linha_digitavel="3" * 47,
    )
    html = client.get(f"/portal/{customer.portal_token}/").content.decode()
    links = hrefs(html)
    assert GOOD in links and GOOD_CARNE in links
    assert not {EVIL, PLAIN_HTTP} & links
    assert "evil.example" not in html


def test_staff_pages_show_a_refused_link_as_text_never_as_a_link(client, customer):
    charge = bad_charge(customer)
    client.force_login(factories.UserFactory(username="root", is_superuser=True))
    pages = {
        "charge": reverse("admin:billing_charge_change", args=[charge.pk]),
        "carne": reverse("admin:billing_carne_change", args=[charge.carne.pk]),
        "customer": reverse("admin:customers_customer_change", args=[customer.pk]),
    }
    for name, url in pages.items():
        html = client.get(url).content.decode()
        assert not {EVIL, EVIL + "/checkout", PLAIN_HTTP} & hrefs(html), name
    charge_page = unescape(client.get(pages["charge"]).content.decode())
    assert EVIL in charge_page  # staff still read what the gateway sent ...
    assert "não é um endereço https dos domínios do próprio gateway" in charge_page  # ... and why
    assert "Abrir o boleto" not in charge_page


def test_an_allowed_link_is_a_link_on_the_charge_page(client, customer):
    charge = factories.ChargeFactory(customer=customer, state=ChargeState.ISSUED, link=GOOD)
    client.force_login(factories.UserFactory(username="root", is_superuser=True))
    html = client.get(reverse("admin:billing_charge_change", args=[charge.pk])).content.decode()
    assert GOOD in hrefs(html) and "Abrir o boleto" in html


def test_a_printed_slip_names_no_refused_link(client, customer):
    charge = bad_charge(customer)
    client.force_login(factories.UserFactory(username="root", is_superuser=True))
    html = client.get(f"/print/charge/{charge.pk}/").content.decode()
    assert "evil.example" not in html
