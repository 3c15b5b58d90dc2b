"""Asaas end to end: issue with PIX, the portal's QR code, webhooks applied once and only with the token."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from html import unescape

import pytest

from billing.models import Charge, ChargeEvent, GatewayCustomer, GatewayLog, Notification, Payment
from billing.models import ChargeState as S
from billing.services.charges import charge_issue
from billing.services.notifications import notification_process
from core.dates import today
from gateways.asaas import simulator as asaas_simulator
from gateways.brazil import is_valid_linha_digitavel
from gateways.pix import is_valid_payload
from tests import factories
from tests.billing import notifications_support as support

pytestmark = pytest.mark.django_db
processing_inline = support.processing_inline

TOKEN = factories.AsaasAccountFactory.webhook_token
KEY = factories.AsaasAccountFactory.sandbox_token


@pytest.fixture
def sim(settings) -> Iterator[asaas_simulator.AsaasSimulator]:
    server, base_url = asaas_simulator.start_in_thread()
    settings.ASAAS_SANDBOX_BASE_URL = base_url + asaas_simulator.API_PREFIX
    settings.ASAAS_BASE_URL = base_url + asaas_simulator.API_PREFIX
    app = server.app
    assert isinstance(app, asaas_simulator.AsaasSimulator)
    yield app
    server.shutdown()


@pytest.fixture
def account():
    return factories.AsaasAccountFactory()


def issued_charge(account, customer=None, **fields) -> Charge:
    customer = customer or factories.CustomerFactory(bank_account=account)
    charge = factories.ChargeFactory(customer=customer, due_date=today() + dt.timedelta(days=10), **fields)
    charge = charge_issue(charge_id=charge.pk)
    assert charge.state == S.ISSUED, charge.error_message
    return charge


def webhook(client, account, body: dict, *, token: str | None = TOKEN):
    headers = {"HTTP_ASAAS_ACCESS_TOKEN": token} if token is not None else {}
    return client.post(
        f"/api/notifications/asaas/{account.public_id}/",
        data=json.dumps(body),
        content_type="application/json",
        **headers,
    )


def event(sim, charge: Charge, name: str, event_id: str) -> dict:
    payment = sim.payments[charge.gateway_code].as_json()
    return {"id": event_id, "event": name, "dateCreated": "2026-11-30 10:00:00", "payment": payment}


# --- issuing -------------------------------------------------------------------------------------
def test_an_asaas_charge_is_issued_with_linha_pix_and_the_customer_kept(sim, account):
    charge = issued_charge(account)
    assert charge.gateway_code.startswith("pay_")
    assert is_valid_linha_digitavel(charge.linha_digitavel) and is_valid_payload(charge.pix_payload)
    assert charge.pix_expires_at is not None
    known = GatewayCustomer.objects.get(customer=charge.customer, bank_account=account)
    assert known.sandbox is True and known.gateway_customer_id.startswith("cus_")

    second = issued_charge(account, customer=charge.customer, reference="T-SECOND")
    endpoints = list(GatewayLog.objects.filter(charge_id=second.pk).values_list("endpoint", flat=True))
    assert "customers" not in endpoints  # registered once, reused
    assert sim.payments[second.gateway_code].customer == known.gateway_customer_id
    assert sim.snapshot()["customers"] == 1


def test_the_portal_shows_the_qr_code_and_a_copy_button_next_to_the_linha(sim, account, client):
    charge = issued_charge(account)
    html = unescape(client.get(f"/portal/{charge.customer.portal_token}/").content.decode())
    assert 'class="pix-qr"' in html and "<svg" in html
    assert f'data-copy-value="{charge.pix_payload}"' in html
    assert "Copiar o código PIX" in html and "Copiar a linha digitável" in html  # the portal speaks pt-BR
    assert html.index("linha-value") < html.index("pix-qr")
    assert "http" not in html.split('class="pix-qr"', 1)[1].split("</svg>", 1)[0]  # drawn here, no service


# --- webhooks ------------------------------------------------------------------------------------
def test_a_pix_payment_webhook_sent_three_times_pays_once(sim, account, client, notification_queue):
    charge = issued_charge(account)
    sim.pay({"id": charge.gateway_code, "method": "PIX", "notify": False})
    body = event(sim, charge, "PAYMENT_RECEIVED", "evt_pix_1")
    answers = [webhook(client, account, body) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert notification_queue.run() == ["processed"] * 3
    charge.refresh_from_db()
    assert charge.state == S.PAID
    (payment,) = Payment.objects.filter(charge=charge)
    assert (payment.amount, payment.type, payment.status) == (Decimal("99.90"), "PIX", "CONFIRMED")
    assert ChargeEvent.objects.filter(charge=charge, to_state=S.PAID).count() == 1
    rows = Notification.objects.filter(gateway="asaas").order_by("pk")
    assert [n.status for n in rows] == ["processed"] * 3 and {n.event_id for n in rows} == {"evt_pix_1"}
    fetches = GatewayLog.objects.filter(endpoint="payments/get", gateway_code=charge.gateway_code)
    assert fetches.count() == 1  # the repeats were recognised without asking Asaas again


@pytest.mark.parametrize("token", ["wrong-token", None, ""])
def test_a_webhook_with_a_wrong_or_missing_token_changes_nothing(sim, account, client, token):
    charge = issued_charge(account)
    sim.pay({"id": charge.gateway_code, "method": "PIX", "notify": False})
    answer = webhook(client, account, event(sim, charge, "PAYMENT_RECEIVED", "evt_forged"), token=token)
    assert answer.status_code == 401
    (row,) = Notification.objects.filter(gateway="asaas")
    assert row.status == "rejected" and row.bank_account == account
    assert TOKEN not in json.dumps(row.headers) and (token or "#") not in json.dumps(row.headers)
    charge.refresh_from_db()
    assert charge.state == S.ISSUED and not Payment.objects.exists()
    assert not GatewayLog.objects.filter(endpoint="payments/get").exists()  # Asaas never asked
    assert notification_process(row.pk).outcome == "unauthorized"  # reprocessing keeps it out
    assert not Payment.objects.exists()


def test_the_token_of_an_account_without_one_is_never_right(sim, client):
    account = factories.AsaasAccountFactory(webhook_token="")
    charge = issued_charge(account)
    answer = webhook(client, account, event(sim, charge, "PAYMENT_RECEIVED", "evt_1"), token="")
    assert answer.status_code == 401


def test_events_out_of_order_end_where_asaas_stands(sim, account, client, notification_queue):
    charge = issued_charge(account)
    sim.pay({"id": charge.gateway_code, "method": "PIX", "notify": False})
    received = event(sim, charge, "PAYMENT_RECEIVED", "evt_a")
    sim.change({"id": charge.gateway_code, "notify": False}, "REFUNDED", "PAYMENT_REFUNDED")
    refunded = event(sim, charge, "PAYMENT_REFUNDED", "evt_b")
    assert webhook(client, account, refunded).status_code == 200  # the refund arrives first
    notification_queue.run()
    assert webhook(client, account, received).status_code == 200  # the late payment event
    notification_queue.run()
    charge.refresh_from_db()
    assert charge.state == S.REFUNDED
    assert Payment.objects.get(charge=charge).status == "CUSTOMER_PAID_BACK"


def test_overdue_and_other_events_are_kept_and_apply_nothing(sim, account, client, notification_queue):
    charge = issued_charge(account)
    for name, event_id in (("PAYMENT_OVERDUE", "evt_o"), ("PAYMENT_BANK_SLIP_VIEWED", "evt_v")):
        assert webhook(client, account, event(sim, charge, name, event_id)).status_code == 200
    assert notification_queue.run() == ["processed"] * 2
    charge.refresh_from_db()
    assert charge.state == S.ISSUED
    assert not GatewayLog.objects.filter(endpoint="payments/get").exists()


def test_a_deleted_payment_cancels_the_charge(sim, account, client, notification_queue):
    charge = issued_charge(account)
    sim.payments[charge.gateway_code].deleted = True  # deleted in Asaas' panel
    assert webhook(client, account, event(sim, charge, "PAYMENT_DELETED", "evt_d")).status_code == 200
    assert notification_queue.run() == ["processed"]
    charge.refresh_from_db()
    assert charge.state == S.CANCELLED


def test_a_webhook_that_is_not_json_is_invalid(sim, account, client):
    answer = client.post(
        f"/api/notifications/asaas/{account.public_id}/",
        data="paymentToken=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_ASAAS_ACCESS_TOKEN=TOKEN,
    )
    assert answer.status_code == 400
    assert webhook(client, account, {"event": "PAYMENT_RECEIVED"}).status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "evt_1", "event": "PAYMENT_RECEIVED", "payment": {"id": "pay_\x00"}}, "payment.id"),
        ({"id": "evt_\x00", "event": "PAYMENT_RECEIVED", "payment": {"id": "pay_1"}}, "id"),
        ({"id": "evt_1", "event": "PAYMENT_\x00", "payment": {"id": "pay_1"}}, "event"),
        ({"id": "evt_1", "event": "PAYMENT_RECEIVED", "payment": {"id": 17}}, "payment.id"),
        ({"id": "e" * 129, "event": "PAYMENT_RECEIVED", "payment": {"id": "pay_1"}}, "id"),
    ],
)
def test_a_webhook_field_no_column_can_hold_is_a_400_not_an_outage(account, client, body, field):
    answer = webhook(client, account, body)
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["errors"]
    assert Notification.objects.get().status == "invalid"


def test_a_webhook_without_an_event_id_is_taken_whatever_the_length_of_its_event(
    sim, account, client, notification_queue
):
    charge = issued_charge(account)
    body = event(sim, charge, "PAYMENT_" + "X" * 150, "")
    del body["id"]
    assert webhook(client, account, body).status_code == 200
    assert notification_queue.run() == ["processed"]  # an event that changes nothing
    assert len(Notification.objects.get().event_id) == 128


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("processing_inline")
def test_the_simulator_paying_by_boleto_and_pix_reaches_the_product(sim, live_server):
    account = factories.AsaasAccountFactory()
    sim.set_webhook(KEY, f"{live_server.url}/api/notifications/asaas/{account.public_id}/", TOKEN)
    first, second = issued_charge(account), issued_charge(account, reference="T-BOLETO")
    sim.pay({"id": first.gateway_code, "method": "PIX", "duplicate": True})
    sim.pay({"id": second.gateway_code, "method": "BOLETO"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = Notification.objects.filter(gateway="asaas")
        if rows.count() >= 4 and not rows.exclude(status="processed").exists():
            break
        time.sleep(0.1)
    statuses = list(Notification.objects.filter(gateway="asaas").values_list("status", flat=True))
    assert statuses == ["processed"] * 4
    for charge in (first, second):
        charge.refresh_from_db()
        assert charge.state == S.PAID and charge.payments.count() == 1


def test_the_demo_asaas_charge_issued_through_the_simulator_shows_its_qr_in_the_portal(
    sim, client, notification_queue
):
    from django.core.management import call_command

    from billing import demo

    call_command("load_demo")
    charge = Charge.objects.get(reference=demo.ASAAS_CHARGE_REFERENCE)
    charge = charge_issue(charge_id=charge.pk)
    assert charge.state == S.ISSUED and charge.bank_account.public_id == demo.ASAAS_PUBLIC_ID
    html = unescape(client.get(f"/portal/{charge.customer.portal_token}/").content.decode())
    assert 'class="pix-qr"' in html and charge.pix_payload in html
    sim.pay({"id": charge.gateway_code, "method": "PIX", "notify": False})
    body = event(sim, charge, "PAYMENT_RECEIVED", "evt_demo")
    for _ in range(3):
        answer = client.post(
            f"/api/notifications/asaas/{demo.ASAAS_PUBLIC_ID}/",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_ASAAS_ACCESS_TOKEN=demo.ASAAS_WEBHOOK_TOKEN,
        )
        assert answer.status_code == 200
    assert notification_queue.run() == ["processed"] * 3
    charge.refresh_from_db()
    assert charge.state == S.PAID and charge.payments.count() == 1


# --- the admin -----------------------------------------------------------------------------------
def test_the_admin_keeps_the_asaas_key_and_webhook_token_secret(client, admin_user):
    from django.urls import reverse

    account = factories.AsaasAccountFactory()
    client.force_login(admin_user)
    url = reverse("admin:providers_bankaccount_change", args=[account.pk])
    html = client.get(url).content.decode()
    assert TOKEN not in html and KEY not in html and TOKEN[-4:] in html
    assert (
        'name="webhook_token"' in html and 'name="billing_type"' in html and 'name="account_code"' not in html
    )
    form = {
        "name": account.name,
        "gateway": "asaas",
        "state": "SP",
        "active": "on",
        "token": "",
        "sandbox_token": "",
        "webhook_token": "",
        "billing_type": "UNDEFINED",
        "max_days_to_update": "29",
        "fine_percent": "2.00",
        "daily_interest_percent": "0.033",
        "days_to_write_off": "15",
        "next_remessa_number": "1",
        "document_kind": "10",
        "requests_per_second": "10",
    }
    assert client.post(url, form).status_code == 302
    account.refresh_from_db()
    assert (account.webhook_token, account.sandbox_token, account.billing_type) == (TOKEN, KEY, "UNDEFINED")
    add = client.post(reverse("admin:providers_bankaccount_add"), {**form, "name": "Nova Asaas"})
    assert add.status_code == 200
    text = unescape(add.content.decode())
    assert "precisa de uma chave de API" in text or "needs a production or a sandbox API key" in text
