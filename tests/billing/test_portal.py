"""Subscriber portal: GET /portal/<token>/ (no login)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.test import override_settings

from billing.models import ChargeState, Payment
from customers.models import Customer
from tests import factories
from tests.browser.helpers import pt

LINHA = "23793381286000000001234567890101187650000009990"
TODAY = dt.date(2026, 12, 20)


pytestmark = pytest.mark.usefixtures("local_cache")


@pytest.fixture(autouse=True)
def _frozen_today():
    # 12:00 in São Paulo on TODAY.
    with time_machine.travel(dt.datetime(2026, 12, 20, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def customer(db, provider):
    account = factories.JunoAccountFactory(
        fine_percent=Decimal("2.00"), daily_interest_percent=Decimal("0.033"), max_days_to_update=29
    )
    return factories.CustomerFactory(name="Maria da Silva", document="52998224725", bank_account=account)


def issued(customer, **kwargs):
    defaults = {
        "customer": customer,
        "state": ChargeState.ISSUED,
        "link": "https://www.boletobancario.com/boleto/abc",
        "linha_digitavel": LINHA,
        "gateway_code": "123",
    }
    return factories.ChargeFactory(**(defaults | kwargs))


def url(customer: Customer) -> str:
    return f"/portal/{customer.portal_token}/"


def test_shows_provider_customer_masked_document_and_open_charges(client, customer):
    charge = issued(customer, amount=Decimal("99.90"), due_date=dt.date(2026, 12, 30))
    factories.ChargeFactory(customer=customer, state=ChargeState.PENDING, description="never issued")
    factories.ChargeFactory(customer=customer, state=ChargeState.CANCELLED, description="was cancelled")

    response = client.get(url(customer))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Provedor Exemplo Ltda" in html
    assert "Maria da Silva" in html
    assert "***.982.247-**" in html
    assert "52998224725" not in html and "529.982.247-25" not in html
    assert f'data-charge="{charge.pk}"' in html
    assert "R$\u00a099,90" in html
    assert "30/12/2026" in html
    assert 'href="https://www.boletobancario.com/boleto/abc"' in html
    assert "23793.38128 60000.000012 34567.890101 1 87650000009990" in html
    assert f'data-copy-value="{LINHA}"' in html
    assert "data-copy-target" in html
    assert "never issued" not in html and "was cancelled" not in html
    assert "is-overdue" not in html and 'class="badge overdue"' not in html
    assert pt("Amount due today") not in html  # not late: nothing added


def test_description_tags_are_expanded_as_on_the_boleto(client, customer):
    issued(customer, description="Internet [MES]/[ANO]\nPlano 300 Mega")
    html = unescape(client.get(url(customer)).content.decode())
    assert "Internet 12/2026 · Plano 300 Mega" in html
    assert "[MES]" not in html


def test_cancel_requested_charge_is_still_open(client, customer):
    charge = issued(customer, state=ChargeState.CANCEL_REQUESTED)
    assert f'data-charge="{charge.pk}"' in client.get(url(customer)).content.decode()


def test_overdue_charge_shows_mark_and_amount_due_today_with_fine_and_interest(client, customer):
    # 10 days late: 100.00 × (1 + 2 % + 10 × 0.033 %) = 102.33
    issued(customer, amount=Decimal("100.00"), due_date=dt.date(2026, 12, 10))

    html = unescape(client.get(url(customer)).content.decode())

    assert "is-overdue" in html
    assert '<span class="badge overdue">Vencido</span>' in html  # one boleto: singular
    assert pt("Amount due today") in html
    assert "R$\u00a0102,33" in html
    assert "R$\u00a0100,00" in html


def test_contra_apresentacao_has_no_due_limit_and_is_never_overdue(client, customer):
    account = customer.bank_account
    account.contra_apresentacao = True
    account.save()
    issued(customer, amount=Decimal("100.00"), due_date=dt.date(2026, 11, 1))

    html = unescape(client.get(url(customer)).content.decode())

    assert pt("No due date (payable on presentation)") in html
    assert "01/11/2026" not in html
    assert 'class="badge overdue"' not in html and "is-overdue" not in html
    assert "R$\u00a0102" not in html


def test_carne_installment_shows_carne_link(client, customer):
    carne = factories.CarneFactory(
        customer=customer, installments=3, installment_link="https://www.boletobancario.com/carne/1"
    )
    issued(customer, carne=carne, installment_number=2)

    html = unescape(client.get(url(customer)).content.decode())

    assert 'href="https://www.boletobancario.com/carne/1"' in html
    assert pt("Installment %(number)s of %(total)s", number=2, total=3) in html


def test_payments_of_the_last_12_months_only(client, customer):
    recent = factories.ChargeFactory(
        customer=customer, state=ChargeState.PAID, due_date=dt.date(2026, 11, 10)
    )
    old = factories.ChargeFactory(customer=customer, state=ChargeState.PAID, due_date=dt.date(2025, 11, 10))
    Payment.objects.create(
        charge=recent,
        gateway="juno",
        gateway_payment_id="p1",
        amount=Decimal("87.65"),
        paid_on=dt.date(2026, 11, 9),
        status="CONFIRMED",
    )
    Payment.objects.create(
        charge=old,
        gateway="juno",
        gateway_payment_id="p0",
        amount=Decimal("55.44"),
        paid_on=dt.date(2025, 11, 9),
        status="CONFIRMED",
    )

    html = unescape(client.get(url(customer)).content.decode())

    assert "R$\u00a087,65" in html and "09/11/2026" in html
    assert "R$\u00a055,44" not in html


def test_other_customers_charges_are_not_shown(client, customer):
    other = factories.CustomerFactory(bank_account=customer.bank_account)
    theirs = issued(other)
    assert f'data-charge="{theirs.pk}"' not in client.get(url(customer)).content.decode()


def test_privacy_headers(client, customer):
    response = client.get(url(customer))
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_no_inline_script_and_no_external_assets(client, customer):
    issued(customer)
    html = unescape(client.get(url(customer)).content.decode())
    assert '<script src="/static/portal/copy.js"' in html
    assert "<script>" not in html
    assert 'href="/static/portal/portal.css"' in html
    assert "http://" not in html.replace('href="https://boletos.example', "")
    assert "<style" not in html


def test_unknown_token_is_a_plain_404(client, db, provider):
    response = client.get("/portal/" + "x" * 43 + "/")
    assert response.status_code == 404
    assert pt("Link not found") in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_malformed_token_is_a_404_without_customer_query(client, provider, django_assert_num_queries):
    with django_assert_num_queries(1):  # the provider's name only
        response = client.get("/portal/a'b/")
    assert response.status_code == 404
    assert "Provedor Exemplo Ltda" in response.content.decode()


def test_revoked_token_no_longer_opens_the_portal(client, customer):
    old_url = url(customer)
    assert client.get(old_url).status_code == 200
    customer.portal_token = "new-token-" + "n" * 33
    customer.save()

    assert client.get(old_url).status_code == 404
    assert client.get(url(customer)).status_code == 200


def test_post_is_not_allowed(client, customer):
    assert client.post(url(customer)).status_code == 405


def test_rate_limit_per_address(client, customer, settings):
    settings.PORTAL_RATE_LIMIT_PER_MINUTE = 3
    for _ in range(3):
        assert client.get(url(customer)).status_code == 200

    limited = client.get(url(customer))
    assert limited.status_code == 429
    assert limited["Retry-After"] == "60"
    assert limited["Cache-Control"] == "no-store"
    # Unknown tokens count too: guessing is throttled as well.
    assert client.get("/portal/" + "y" * 43 + "/").status_code == 429
    # Another address has its own counter.
    assert client.get(url(customer), REMOTE_ADDR="10.0.0.2").status_code == 200


def test_redis_down_answers_a_readable_503_page(client, customer):
    closed_port = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
    }
    with override_settings(CACHES={"default": closed_port}):
        response = client.get(url(customer))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    body = unescape(response.content.decode())
    assert "Temporariamente indisponível" in body and "Tente novamente em alguns minutos" in body
    assert customer.name not in body


def test_rate_limit_window_resets_next_minute(client, customer, settings):
    settings.PORTAL_RATE_LIMIT_PER_MINUTE = 1
    assert client.get(url(customer)).status_code == 200
    assert client.get(url(customer)).status_code == 429
    with time_machine.travel(dt.datetime(2026, 12, 20, 15, 1, 5, tzinfo=dt.UTC), tick=False):
        assert client.get(url(customer)).status_code == 200


@pytest.mark.parametrize("n_charges", [1, 30])
def test_fixed_number_of_queries(client, customer, django_assert_num_queries, n_charges):
    carne = factories.CarneFactory(customer=customer, installments=24)
    for number in range(1, n_charges + 1):
        charge = issued(
            customer,
            due_date=dt.date(2026, 12, 1) + dt.timedelta(days=number),
            carne=carne if number % 2 else None,
            installment_number=number if number % 2 else None,
        )
        Payment.objects.create(
            charge=charge,
            gateway="juno",
            gateway_payment_id=f"p{number}",
            amount=Decimal("1.00"),
            paid_on=dt.date(2026, 12, 1),
            status="CONFIRMED",
        )
    # customer, provider, open charges (with account and carnê), payments (with charge)
    with django_assert_num_queries(4):
        response = client.get(url(customer))
    assert response.content.decode().count('class="card charge') == n_charges


def test_readable_without_javascript_copy_button_hidden_until_script_runs(client, customer):
    issued(customer)
    html = unescape(client.get(url(customer)).content.decode())
    assert '<button type="button" class="button copy" hidden' in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("0"), "R$\u00a00,00"),
        (Decimal("99.9"), "R$\u00a099,90"),
        (Decimal("1234.565"), "R$\u00a01.234,57"),
        (Decimal("1234567.8"), "R$\u00a01.234.567,80"),
        (Decimal("-5"), "-R$\u00a05,00"),
        ("not a number", ""),
    ],
)
def test_brl_filter(value, shown):
    from billing.templatetags.money import brl

    assert brl(value) == shown
