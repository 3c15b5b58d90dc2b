"""Adapters and simulators agree with the canonical examples in contract_examples.py."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
import responses

from gateways.brazil import is_valid_linha_digitavel
from gateways.juno import client as juno_client
from gateways.juno.adapter import JunoGateway
from gateways.juno.adapter import parse_notification as juno_parse_notification
from gateways.mycontas.adapter import issue_form
from gateways.mycontas.adapter import parse_notification as mycontas_parse_notification
from tests.gateways import contract_examples as ex

URL = "https://juno.test/api/v1/"


def _post(base: str, endpoint: str, params: dict[str, str]) -> requests.Response:
    return requests.post(base.rstrip("/") + "/" + endpoint, data=params, timeout=5)


# --- Juno: requests ------------------------------------------------------------------------------
def test_juno_adapter_builds_the_canonical_carne_request():
    assert juno_client.issue_params(ex.JUNO_CONFIG, ex.JUNO_CARNE_REQUEST) == ex.JUNO_CARNE_PARAMS


def test_juno_simulator_accepts_the_canonical_request_and_answers_in_the_canonical_shape(juno_sim, settings):
    answer = _post(settings.JUNO_BASE_URL, "issue-charge", ex.JUNO_CARNE_PARAMS)
    assert answer.status_code == 200
    body = answer.json()
    assert body["success"] is True
    charges = body["data"]["charges"]
    assert len(charges) == 3
    for charge in charges:
        assert charge.keys() >= ex.JUNO_CHARGE_KEYS
        assert charge["billetDetails"].keys() >= ex.JUNO_BILLET_KEYS
        assert isinstance(charge["code"], int)
        assert charge["reference"] == ex.JUNO_CARNE_REQUEST.reference
        assert "installmentLink" in charge
        assert is_valid_linha_digitavel(charge["payNumber"])
    due_dates = [dt.datetime.strptime(c["dueDate"], "%d/%m/%Y").date() for c in charges]
    assert due_dates == [dt.date(2099, 1, 10), dt.date(2099, 2, 10), dt.date(2099, 3, 10)]


def test_juno_simulator_errors_have_the_canonical_shape(juno_sim, settings):
    answer = _post(settings.JUNO_BASE_URL, "issue-charge", {**ex.JUNO_CARNE_PARAMS, "amount": "1.00"})
    assert answer.status_code == ex.JUNO_ERROR_STATUS
    assert answer.json().keys() == ex.JUNO_ERROR_RESPONSE.keys()
    assert answer.json()["success"] is False


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


def test_juno_simulator_payment_details_have_the_canonical_shape(juno_sim, settings):
    issued = _post(
        settings.JUNO_BASE_URL, "issue-charge", {**ex.JUNO_CARNE_PARAMS, "installments": "1"}
    ).json()
    code = issued["data"]["charges"][0]["code"]
    token = juno_sim.pay({"code": code, "notify": False})["paymentToken"]
    body = _post(
        settings.JUNO_BASE_URL, "fetch-payment-details", {"paymentToken": token, "responseType": "JSON"}
    )
    payment = body.json()["data"]["payment"]
    assert payment.keys() >= ex.JUNO_PAYMENT_KEYS
    assert payment["charge"].keys() == ex.JUNO_PAYMENT_RESPONSE["data"]["payment"]["charge"].keys()
    assert payment["date"] == dt.datetime.strptime(payment["date"], "%d/%m/%Y").strftime("%d/%m/%Y")


def test_juno_simulator_notifies_with_the_canonical_fields(juno_sim, settings, receiver):
    params = {**ex.JUNO_CARNE_PARAMS, "installments": "1", "notificationUrl": receiver.url}
    code = _post(settings.JUNO_BASE_URL, "issue-charge", params).json()["data"]["charges"][0]["code"]
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
