"""Adapters and simulators agree with the canonical examples in contract_examples.py.

The Juno simulator's tests, and the adapter's tests against it, run in every simulator mode
(strict, lenient, and each strictness on its own): what the adapter reads must not depend on
which optional fields, byte-order marks or formats the service happens to use.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
import requests
import responses

from gateways.asaas import client as asaas_client
from gateways.asaas.adapter import AsaasGateway
from gateways.asaas.adapter import parse_notification as asaas_parse_notification
from gateways.base import LookupOutcome, NotificationEvent
from gateways.brazil import is_valid_linha_digitavel
from gateways.http import json_dumps
from gateways.juno import client as juno_client
from gateways.juno import simulator as juno_simulator
from gateways.juno.adapter import JunoGateway
from gateways.juno.adapter import parse_notification as juno_parse_notification
from gateways.mycontas.adapter import issue_form
from gateways.mycontas.adapter import parse_notification as mycontas_parse_notification
from gateways.pix import is_valid_payload as is_valid_pix_payload
from tests.gateways import contract_examples as ex
from tests.gateways.conftest import charge_request, due_in, juno_config, sim_json

URL = "https://juno.test/api/v1/"
EVERY_MODE = pytest.mark.parametrize("juno_mode", sorted(juno_simulator.MODES))


def _post(base: str, endpoint: str, params: dict[str, str]) -> requests.Response:
    return requests.post(base.rstrip("/") + "/" + endpoint, data=params, timeout=5)


# --- Juno: requests ------------------------------------------------------------------------------
def test_juno_adapter_builds_the_canonical_carne_request():
    assert juno_client.issue_params(ex.JUNO_CONFIG, ex.JUNO_CARNE_REQUEST) == ex.JUNO_CARNE_PARAMS


@EVERY_MODE
def test_juno_simulator_accepts_the_canonical_request_and_answers_in_the_canonical_shape(juno_sim, settings):
    mode = juno_sim.mode
    answer = _post(settings.JUNO_BASE_URL, "issue-charge", ex.JUNO_CARNE_PARAMS)
    assert answer.status_code == 200
    assert answer.content.startswith(juno_simulator.BOM) is mode.bom
    body = sim_json(answer)
    assert body["success"] is True
    charges = body["data"]["charges"]
    assert len(charges) == 3
    for charge in charges:
        assert charge.keys() >= ex.JUNO_CHARGE_KEYS - ex.JUNO_OPTIONAL_CHARGE_KEYS
        assert not (charge.keys() & ex.JUNO_OPTIONAL_CHARGE_KEYS) if mode.sparse else True
        if not mode.sparse:
            assert charge.keys() >= ex.JUNO_CHARGE_KEYS | {"installmentLink"}
            assert charge["billetDetails"].keys() >= ex.JUNO_BILLET_KEYS
            assert charge["reference"] == ex.JUNO_CARNE_REQUEST.reference
        assert isinstance(charge["code"], int)
        assert is_valid_linha_digitavel(charge["payNumber"])
        assert (" " in charge["payNumber"] and "." in charge["payNumber"]) is mode.formatted_pay_number
    due_dates = [dt.datetime.strptime(c["dueDate"], "%d/%m/%Y").date() for c in charges]
    assert due_dates == [dt.date(2099, 1, 10), dt.date(2099, 2, 10), dt.date(2099, 3, 10)]


@EVERY_MODE
def test_juno_simulator_errors_have_the_canonical_shape(juno_sim, settings):
    answer = _post(settings.JUNO_BASE_URL, "issue-charge", {**ex.JUNO_CARNE_PARAMS, "amount": "1.00"})
    assert answer.status_code == ex.JUNO_ERROR_STATUS
    assert sim_json(answer).keys() == ex.JUNO_ERROR_RESPONSE.keys()
    assert sim_json(answer)["success"] is False


@EVERY_MODE
def test_juno_simulator_minimum_amount_per_mode(juno_sim, settings):
    answer = _post(settings.JUNO_BASE_URL, "issue-charge", {**ex.JUNO_CARNE_PARAMS, "amount": "2.40"})
    if juno_sim.mode.min_amount > juno_simulator.LENIENT_MIN_AMOUNT:
        assert answer.status_code == 400
        assert "R$ 2,50" in sim_json(answer)["errorMessage"]
    else:
        assert answer.status_code == 200


@EVERY_MODE
def test_juno_simulator_listing_without_a_begin_date_per_mode(juno_sim, settings):
    params = {"token": ex.JUNO_CONFIG.token, "responseType": "JSON", "endDueDate": "10/01/2099"}
    answer = _post(settings.JUNO_BASE_URL, "list-charges", params)
    if juno_sim.mode.require_begin_date:
        assert answer.status_code == 400
        assert sim_json(answer)["errorMessage"] == juno_simulator.NO_BEGIN_DATE
    else:
        assert answer.status_code == 200


# --- Juno: the adapter against the simulator, in every mode --------------------------------------
def _juno(settings) -> JunoGateway:
    return JunoGateway(juno_config(), base_url=settings.JUNO_BASE_URL)


@EVERY_MODE
def test_juno_adapter_issues_a_carne_in_every_mode(juno_sim, settings):
    charges = _juno(settings).issue(charge_request(reference="C-EVERY", installments=3)).charges
    assert [c.due_date for c in charges] == sorted(c.due_date for c in charges)
    assert len({c.code for c in charges}) == 3
    for charge in charges:
        assert is_valid_linha_digitavel(charge.linha_digitavel) and len(charge.linha_digitavel) == 47
        assert charge.link
        assert charge.amount == ex.JUNO_AMOUNT_OF_CHARGE_REQUEST
        assert bool(charge.reference) is not juno_sim.mode.sparse
        assert bool(charge.installment_link) is not juno_sim.mode.sparse


@EVERY_MODE
def test_juno_adapter_look_up_finds_a_charge_in_every_mode(juno_sim, settings):
    request = charge_request(reference="T-LOST")
    issued = _juno(settings).issue(request).charges
    result = _juno(settings).look_up(request, due_dates=(request.due_date,))
    assert result.outcome == LookupOutcome.FOUND
    assert [c.code for c in result.charges] == [c.code for c in issued]
    assert result.matched_by == ("fields" if juno_sim.mode.sparse else "reference")


@EVERY_MODE
def test_juno_adapter_look_up_never_proves_absence_it_cannot_see(juno_sim, settings):
    """Someone else's charge in the window: proof of absence only when references are listed."""
    _juno(settings).issue(charge_request(reference="T-OTHER", amount=ex.JUNO_OTHER_AMOUNT))
    request = charge_request(reference="T-NEVER-SENT")
    result = _juno(settings).look_up(request, due_dates=(request.due_date,))
    expected = LookupOutcome.CANDIDATES if juno_sim.mode.sparse else LookupOutcome.PROVED_ABSENT
    assert result.outcome == expected
    assert result.candidates == ()  # the other charge carries another amount: not a candidate
    assert result.examined == 1


@EVERY_MODE
def test_juno_adapter_reads_payments_paid_listings_and_cancels_in_every_mode(juno_sim, settings):
    code = _juno(settings).issue(charge_request(reference="T-PAY")).charges[0].code
    token = juno_sim.pay({"code": code, "notify": False})["paymentToken"]
    payment = _juno(settings).fetch_payment(token)
    assert (payment.status, payment.charge_code) == ("CONFIRMED", code)
    paid = _juno(settings).list_paid_charges(paid_from=due_in(-1), paid_to=due_in(1))
    assert [c.code for c in paid] == [code]
    other = _juno(settings).issue(charge_request(reference="T-CANCEL")).charges[0].code
    _juno(settings).cancel(other)
    listing = _juno(settings).list_due(due_from=due_in(0), due_to=due_in(30))
    assert listing.complete
    assert {c.code: c.cancelled for c in listing.charges} == {code: False, other: True}


# --- Juno: answers -------------------------------------------------------------------------------
@responses.activate
def test_juno_adapter_reads_the_canonical_issue_answer():
    carne = ex.JUNO_CARNE_REQUEST
    single = type(carne)(**{**carne.__dict__, "installments": 1})
    responses.post(URL + "issue-charge", json=ex.JUNO_ISSUE_RESPONSE)
    result = JunoGateway(ex.JUNO_CONFIG, base_url=URL).issue(single)
    (charge,) = result.charges
    for name, value in ex.JUNO_ISSUE_EXPECTED.items():
        assert getattr(charge, name) == value, name
    assert is_valid_linha_digitavel(charge.linha_digitavel)
    assert charge.installment_link.endswith("/installment/xyz")


@responses.activate
def test_juno_adapter_reads_the_canonical_payment_answer():
    responses.post(URL + "fetch-payment-details", json=ex.JUNO_PAYMENT_RESPONSE)
    payment = JunoGateway(ex.JUNO_CONFIG, base_url=URL).fetch_payment(
        ex.JUNO_NOTIFICATION_FORM["paymentToken"]
    )
    for name, value in ex.JUNO_PAYMENT_EXPECTED.items():
        assert getattr(payment, name) == value, name


@EVERY_MODE
def test_juno_simulator_payment_details_have_the_canonical_shape(juno_sim, settings):
    issued = sim_json(
        _post(settings.JUNO_BASE_URL, "issue-charge", {**ex.JUNO_CARNE_PARAMS, "installments": "1"})
    )
    code = issued["data"]["charges"][0]["code"]
    token = juno_sim.pay({"code": code, "notify": False})["paymentToken"]
    body = _post(
        settings.JUNO_BASE_URL, "fetch-payment-details", {"paymentToken": token, "responseType": "JSON"}
    )
    payment = sim_json(body)["data"]["payment"]
    assert payment.keys() >= ex.JUNO_PAYMENT_KEYS
    canonical = ex.JUNO_PAYMENT_RESPONSE["data"]["payment"]["charge"].keys()
    assert payment["charge"].keys() == (canonical - {"reference"} if juno_sim.mode.sparse else canonical)
    assert payment["date"] == dt.datetime.strptime(payment["date"], "%d/%m/%Y").strftime("%d/%m/%Y")


def test_juno_simulator_notifies_with_the_canonical_fields(juno_sim, settings, receiver):
    params = {**ex.JUNO_CARNE_PARAMS, "installments": "1", "notificationUrl": receiver.url}
    code = sim_json(_post(settings.JUNO_BASE_URL, "issue-charge", params))["data"]["charges"][0]["code"]
    juno_sim.pay({"code": code})
    (form,) = receiver.wait(1)
    assert form.keys() == ex.JUNO_NOTIFICATION_FORM.keys()
    assert form["chargeCode"] == str(code)
    assert juno_parse_notification(form).payment_token == form["paymentToken"]


def test_juno_adapter_reads_the_canonical_notification():
    notification = juno_parse_notification(ex.JUNO_NOTIFICATION_FORM)
    assert notification.payment_token == ex.JUNO_NOTIFICATION_FORM["paymentToken"]
    assert notification.charge_code == "10012345"
    assert notification.charge_reference == "C-00AA11BB22CC33DD"


# --- Mycontas ------------------------------------------------------------------------------------
def test_mycontas_adapter_builds_the_canonical_form():
    assert issue_form(ex.MYCONTAS_CONFIG, ex.MYCONTAS_REQUEST) == ex.MYCONTAS_FORM


@pytest.mark.parametrize("path", ["/servicoweb", "/servicosweb/index.php"])
def test_mycontas_simulator_accepts_the_canonical_form_and_returns_it(mycontas_sim, receiver, path):
    mycontas_sim.add_account(
        ex.MYCONTAS_FORM["txtCod_cliente"], ex.MYCONTAS_FORM["txtCod_senha"], receiver.url
    )
    answer = requests.post(mycontas_sim.base_url + path, data=ex.MYCONTAS_FORM, timeout=5)
    assert answer.status_code == 200
    assert "sucesso" in answer.text
    (returned,) = receiver.posts  # synchronous: it arrived before the page
    assert ex.MYCONTAS_RETURN_FORM.keys() <= returned.keys()
    assert returned["txtReferencia"] == ex.MYCONTAS_FORM["txtReferencia"]
    notification = mycontas_parse_notification(returned)
    assert notification.charge_number == returned["cobrancaID"]
    assert notification.charge_url.startswith(mycontas_sim.base_url + "/cobranca/?id=")


def test_mycontas_adapter_reads_the_canonical_return():
    notification = mycontas_parse_notification(ex.MYCONTAS_RETURN_FORM)
    assert notification.charge_number == "1234"
    assert notification.charge_url == "http://www.mycontas.com.br/cobranca/?id=9P8eyHrX3h"
    assert notification.charge_reference == "T-00AA11BB22CC33DD"
    assert notification.account_code == "KyU3Gp18fgU3TDFyidr9"
    assert notification.password == "senha-de-cobranca-exemplo"


# --- Asaas ---------------------------------------------------------------------------------------
ASAAS_URL = "https://asaas.test/v3/"


def _asaas(sim, method: str, path: str, body: object = None, key: str = ex.ASAAS_CONFIG.token):
    headers = {"access_token": key, "User-Agent": "contract-test"}
    data = json_dumps(body) if body is not None else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    return requests.request(method, sim.api_url + path, data=data, headers=headers, timeout=5)


def _asaas_customer(sim) -> str:
    answer = _asaas(sim, "POST", "customers", ex.ASAAS_CUSTOMER_BODY)
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def test_asaas_adapter_builds_the_canonical_customer_and_payments():
    assert asaas_client.customer_payload(ex.ASAAS_CONFIG, ex.PAYER) == ex.ASAAS_CUSTOMER_BODY
    carne = asaas_client.payment_payload(ex.ASAAS_CONFIG, ex.ASAAS_CARNE_REQUEST, ex.ASAAS_CUSTOMER_ID)
    assert carne == ex.ASAAS_CARNE_BODY
    titulo = asaas_client.payment_payload(ex.ASAAS_CONFIG, ex.ASAAS_TITULO_REQUEST, ex.ASAAS_CUSTOMER_ID)
    assert titulo == ex.ASAAS_TITULO_BODY
    wire = json_dumps(carne)
    for fragment in ex.ASAAS_CARNE_JSON_FRAGMENTS:
        assert fragment in wire


def test_asaas_simulator_accepts_the_canonical_requests_and_answers_in_the_canonical_shape(asaas_sim):
    customer = _asaas_customer(asaas_sim)
    answer = _asaas(asaas_sim, "POST", "payments", {**ex.ASAAS_CARNE_BODY, "customer": customer})
    assert answer.status_code == 200, answer.text
    first = answer.json()
    assert first.keys() >= ex.ASAAS_PAYMENT_KEYS
    assert isinstance(first["value"], float) and first["installment"]
    listed = _asaas(asaas_sim, "GET", f"payments?installment={first['installment']}&limit=100").json()
    assert listed.keys() == ex.ASAAS_LIST_KEYS
    assert [p["installmentNumber"] for p in listed["data"]] == [1, 2, 3]
    assert [p["dueDate"] for p in listed["data"]] == ["2099-01-10", "2099-02-10", "2099-03-10"]
    assert {p["externalReference"] for p in listed["data"]} == {"C-00AA11BB22CC33DD"}
    assert listed["data"][0]["fine"] == {"value": 2.0, "type": "PERCENTAGE"}
    assert listed["data"][0]["interest"]["value"] == 0.99
    ident = _asaas(asaas_sim, "GET", f"payments/{first['id']}/identificationField").json()
    assert ident.keys() == ex.ASAAS_IDENTIFICATION_RESPONSE.keys()
    assert is_valid_linha_digitavel(ident["identificationField"])
    pix = _asaas(asaas_sim, "GET", f"payments/{first['id']}/pixQrCode").json()
    assert pix.keys() == ex.ASAAS_PIX_RESPONSE.keys()
    assert is_valid_pix_payload(pix["payload"])
    titulo = _asaas(asaas_sim, "POST", "payments", {**ex.ASAAS_TITULO_BODY, "customer": customer})
    assert titulo.status_code == 200 and titulo.json()["installment"] is None


def test_asaas_simulator_errors_have_the_canonical_shape(asaas_sim):
    customer = _asaas_customer(asaas_sim)
    body = {**ex.ASAAS_TITULO_BODY, "customer": customer, "dueDate": "2000-01-01"}
    answer = _asaas(asaas_sim, "POST", "payments", body)
    assert answer.status_code == ex.ASAAS_ERROR_STATUS
    assert answer.json().keys() == ex.ASAAS_ERROR_RESPONSE.keys()
    (error,) = answer.json()["errors"]
    assert error.keys() == ex.ASAAS_ERROR_RESPONSE["errors"][0].keys()
    assert error["code"] == "invalid_dueDate"


@responses.activate
def test_asaas_adapter_reads_the_canonical_issue_answers():
    payer = replace(ex.PAYER, gateway_customer_id=ex.ASAAS_CUSTOMER_ID)
    responses.post(ASAAS_URL + "payments", json=ex.ASAAS_PAYMENT_RESPONSE)
    responses.get(
        ASAAS_URL + "payments/pay_080225913252/identificationField", json=ex.ASAAS_IDENTIFICATION_RESPONSE
    )
    responses.get(ASAAS_URL + "payments/pay_080225913252/pixQrCode", json=ex.ASAAS_PIX_RESPONSE)
    result = AsaasGateway(ex.ASAAS_CONFIG, base_url=ASAAS_URL).issue(
        replace(ex.ASAAS_TITULO_REQUEST, payer=payer)
    )
    (charge,) = result.charges
    for name, value in ex.ASAAS_ISSUE_EXPECTED.items():
        assert getattr(charge, name) == value, name
    assert charge.pix_expires_at == dt.datetime(2100, 1, 10, 23, 59, 59, tzinfo=ZoneInfo("America/Sao_Paulo"))
    assert result.customer_id == ex.ASAAS_CUSTOMER_ID
    assert is_valid_linha_digitavel(charge.linha_digitavel) and is_valid_pix_payload(charge.pix_payload)


@responses.activate
def test_asaas_adapter_reads_the_canonical_payment_answer():
    responses.get(ASAAS_URL + "payments/pay_080225913252", json=ex.ASAAS_PAID_RESPONSE)
    payment = AsaasGateway(ex.ASAAS_CONFIG, base_url=ASAAS_URL).fetch_payment("pay_080225913252")
    for name, value in ex.ASAAS_PAYMENT_EXPECTED.items():
        assert getattr(payment, name) == value, name


def test_asaas_simulator_payment_has_the_canonical_shape(asaas_sim):
    customer = _asaas_customer(asaas_sim)
    code = _asaas(asaas_sim, "POST", "payments", {**ex.ASAAS_TITULO_BODY, "customer": customer}).json()["id"]
    asaas_sim.pay({"id": code, "method": "PIX", "notify": False})
    payment = _asaas(asaas_sim, "GET", f"payments/{code}").json()
    assert payment.keys() >= ex.ASAAS_PAYMENT_KEYS
    assert {k: payment[k] for k in ("status", "billingType")} == {"status": "RECEIVED", "billingType": "PIX"}
    assert dt.date.fromisoformat(payment["clientPaymentDate"])


def test_asaas_simulator_sends_the_canonical_webhook(asaas_sim, receiver):
    asaas_sim.set_webhook(ex.ASAAS_CONFIG.token, receiver.url, ex.ASAAS_CONFIG.webhook_token)
    customer = _asaas_customer(asaas_sim)
    code = _asaas(asaas_sim, "POST", "payments", {**ex.ASAAS_TITULO_BODY, "customer": customer}).json()["id"]
    asaas_sim.pay({"id": code, "method": "PIX"})
    receiver.wait(1)
    ((body, headers),) = receiver.json_posts
    assert body.keys() == ex.ASAAS_WEBHOOK_KEYS
    assert body["payment"].keys() >= ex.ASAAS_PAYMENT_KEYS
    lowered = {name.lower(): value for name, value in headers.items()}
    assert lowered[ex.ASAAS_WEBHOOK_HEADER] == ex.ASAAS_CONFIG.webhook_token
    notification = asaas_parse_notification(body)
    assert (notification.payment_token, notification.event) == (code, NotificationEvent.PAID)
    assert notification.charge_reference == ex.ASAAS_TITULO_REQUEST.reference


def test_asaas_adapter_reads_the_canonical_webhook():
    notification = asaas_parse_notification(ex.ASAAS_WEBHOOK_BODY)
    assert notification.event_id == ex.ASAAS_WEBHOOK_BODY["id"]
    assert notification.event == NotificationEvent.PAID
    assert notification.gateway_event == "PAYMENT_RECEIVED"
    assert notification.payment_token == notification.charge_code == "pay_080225913252"
    assert notification.charge_reference == "T-00AA11BB22CC33DD"
