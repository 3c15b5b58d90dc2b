"""The Juno adapter over real HTTP against the simulator, and against `responses` for odd shapes."""

from __future__ import annotations

import codecs
import datetime as dt
import json
import logging
from decimal import Decimal

import pytest
import requests
import responses
from django.utils import translation

from gateways.base import (
    GatewayAnswerInvalid,
    GatewayRejected,
    GatewayUnavailable,
    LookupOutcome,
    NotificationInvalid,
    RequestInvalid,
)
from gateways.brazil import is_valid_linha_digitavel
from gateways.juno import client
from gateways.juno.adapter import JunoGateway
from gateways.registry import get_gateway
from tests.gateways.conftest import (
    JUNO_SANDBOX_TOKEN,
    JUNO_TOKEN,
    assert_no_secret,
    charge_request,
    due_in,
    juno_config,
    payer,
)

URL = "https://juno.test/boletofacil/integration/api/v1/"


def gateway(recorder=None, **config) -> JunoGateway:
    adapter = get_gateway(juno_config(**config), recorder)
    assert isinstance(adapter, JunoGateway)
    return adapter


# --- against the simulator -----------------------------------------------------------------------
@pytest.mark.parametrize("juno_mode", ["lenient"])  # reads the optional fields strict mode omits
def test_issue_titulo(juno_sim, recorder):
    result = gateway(recorder).issue(charge_request())
    (charge,) = result.charges
    assert result.message == ""
    assert charge.code.isdigit()
    assert charge.reference == "T-0123456789ABCDEF"
    assert charge.due_date == due_in(10)
    assert charge.link and charge.checkout_url and not charge.installment_link
    assert is_valid_linha_digitavel(charge.linha_digitavel)
    assert len(charge.barcode) == 44
    (exchange,) = recorder.exchanges
    assert (exchange.endpoint, exchange.outcome, exchange.status_code) == ("issue-charge", "ok", 200)
    assert exchange.gateway_code == charge.code
    assert exchange.reference == "T-0123456789ABCDEF"
    assert exchange.account_id == 7
    assert exchange.request_params["token"] == "***"
    assert exchange.request_params["amount"] == "50.00"


@pytest.mark.parametrize("juno_mode", ["lenient"])  # reads the optional fields strict mode omits
def test_issue_carne_of_three_gives_three_codes(juno_sim):
    result = gateway().issue(charge_request(reference="C-1", installments=3))
    codes = [c.code for c in result.charges]
    assert len(set(codes)) == 3
    assert [c.due_date for c in result.charges] == sorted(c.due_date for c in result.charges)
    assert all(c.installment_link == result.charges[0].installment_link != "" for c in result.charges)
    assert juno_sim.snapshot()["counts_by_reference"] == {"C-1": 1}


def test_sandbox_config_uses_the_sandbox_url(settings, juno_sim, recorder):
    settings.JUNO_BASE_URL = "http://127.0.0.1:9/never/"
    gateway(recorder, sandbox=True, token=JUNO_SANDBOX_TOKEN).issue(charge_request())
    assert recorder.exchanges[0].url.startswith(settings.JUNO_SANDBOX_BASE_URL)


def test_cancel_and_cancel_of_another_tokens_charge(juno_sim):
    code = gateway().issue(charge_request()).charges[0].code
    with pytest.raises(GatewayRejected, match="Cobrança inválida"):
        gateway(token="another-token-9999").cancel(code)
    gateway().cancel(code)
    assert next(c for c in juno_sim.snapshot()["charges"] if str(c["code"]) == code)["status"] == "CANCELLED"


def test_fetch_payment_after_simulated_payment(juno_sim, recorder):
    charge = gateway().issue(charge_request()).charges[0]
    token = juno_sim.pay({"code": charge.code, "notify": False})["paymentToken"]
    payment = gateway(recorder).fetch_payment(token)
    assert payment.status == "CONFIRMED"
    assert payment.amount == Decimal("50.00")
    assert payment.fee == Decimal("1.49")
    assert payment.charge_code == charge.code
    assert payment.charge_reference == charge.reference
    assert payment.date is not None
    (exchange,) = recorder.exchanges
    assert "token" not in exchange.request_params  # fetch-payment-details takes no account token
    assert exchange.gateway_code == charge.code
    assert exchange.request_params["paymentToken"] == "***" + token[-4:]
    assert token not in exchange.response_body + exchange.url


def test_fetch_payment_with_unknown_token_is_rejected(juno_sim):
    with pytest.raises(GatewayRejected, match="Token de pagamento inválido"):
        gateway().fetch_payment("UNKNOWN-TOKEN")


@pytest.mark.parametrize("juno_mode", ["lenient"])  # reads the optional fields strict mode omits
def test_find_charges_by_reference_sees_only_this_tokens_charges(juno_sim):
    gateway().issue(charge_request(reference="T-A"))
    gateway().issue(charge_request(reference="T-B"))
    gateway(token="someone-else-token").issue(charge_request(reference="T-A"))
    found = gateway().find_charges(reference="T-A", due_from=due_in(9), due_to=due_in(11))
    assert [c.reference for c in found] == ["T-A"]
    assert gateway().find_charges(reference="T-A", due_from=due_in(20), due_to=due_in(30)) == []
    assert len(gateway().find_charges(reference=None, due_from=due_in(0), due_to=due_in(30))) == 2


def test_list_paid_charges(juno_sim):
    paid, unpaid = (gateway().issue(charge_request(reference=r)).charges[0] for r in ("T-P", "T-U"))
    juno_sim.pay({"code": paid.code, "notify": False})
    found = gateway().list_paid_charges(paid_from=due_in(-1), paid_to=due_in(1))
    assert [c.code for c in found] == [paid.code]
    assert found[0].payments[0].status == "CONFIRMED"
    assert unpaid.code not in {c.code for c in found}


def test_simulator_refusals_come_back_verbatim(juno_sim, recorder):
    with pytest.raises(GatewayRejected) as info:
        gateway(recorder).issue(charge_request(amount=Decimal("1.00")))
    assert "2,50" in info.value.message
    assert info.value.status_code == 400
    assert recorder.exchanges[0].outcome == "rejected"
    assert recorder.exchanges[0].error_class == "GatewayRejected"


def test_simulated_500_is_unavailable_maybe_sent(juno_sim, recorder):
    juno_sim.faults.fail_rate = 1.0
    with pytest.raises(GatewayUnavailable) as info:
        gateway(recorder).issue(charge_request())
    assert info.value.maybe_sent is True
    assert recorder.exchanges[0].outcome == "unavailable"
    assert juno_sim.snapshot()["count"] == 0  # a 500 happens before anything is created


def test_dropped_answer_is_maybe_sent_and_the_charge_exists(juno_sim, recorder):
    juno_sim.faults.drop_rate = 1.0
    with pytest.raises(GatewayUnavailable) as info:
        gateway(recorder).issue(charge_request(reference="T-DROP"))
    assert info.value.maybe_sent is True
    juno_sim.faults.drop_rate = 0.0
    request = charge_request(reference="T-DROP")
    found = gateway().look_up(request, due_dates=(request.due_date,))
    assert found.outcome == LookupOutcome.FOUND  # strict mode lists no reference: found by its fields
    assert (found.matched_by, len(found.charges)) == ("fields", 1)
    assert recorder.exchanges[0].status_code is None


def test_read_timeout_is_maybe_sent(juno_sim, settings, recorder):
    juno_sim.faults.latency_ms = 600
    settings.GATEWAY_READ_TIMEOUT = 0.2
    with pytest.raises(GatewayUnavailable) as info:
        gateway(recorder).issue(charge_request())
    assert info.value.maybe_sent is True
    assert recorder.exchanges[0].outcome == "unavailable"


def test_connection_refused_is_not_sent(settings, recorder):
    settings.JUNO_BASE_URL = "http://127.0.0.1:9/boletofacil/integration/api/v1/"
    with pytest.raises(GatewayUnavailable) as info:
        gateway(recorder).issue(charge_request())
    assert info.value.maybe_sent is False
    assert recorder.exchanges[0].error_class == "GatewayUnavailable"


def test_no_secret_in_exchanges_or_logs(juno_sim, recorder, caplog):
    caplog.set_level(logging.DEBUG)
    adapter = gateway(recorder)
    charge = adapter.issue(charge_request()).charges[0]
    token = juno_sim.pay({"code": charge.code, "notify": False})["paymentToken"]
    adapter.fetch_payment(token)
    adapter.find_charges(reference=None, due_from=due_in(0), due_to=due_in(30))
    adapter.list_paid_charges(paid_from=due_in(-1), paid_to=due_in(1))
    with pytest.raises(GatewayRejected):
        adapter.cancel("999")
    sandbox = gateway(recorder, sandbox=True, token=JUNO_SANDBOX_TOKEN)
    sandbox.find_charges(reference=None, due_from=due_in(0), due_to=due_in(1))
    assert [e.endpoint for e in recorder.exchanges] == [
        "issue-charge",
        "fetch-payment-details",
        "list-charges",
        "list-charges",
        "cancel-charge",
        "list-charges",
    ]
    assert_no_secret(recorder.exchanges, caplog.text)
    assert all(token not in repr(e) for e in recorder.exchanges)
    assert token not in caplog.text


# --- request building ----------------------------------------------------------------------------
def test_issue_params_rates_and_email():
    params = client.issue_params(
        juno_config(daily_interest_percent=Decimal("0.9"), fine_percent=Decimal("25")),
        charge_request(payer=payer(name="X" * 80)),
    )
    assert params["interest"] == "20.00"  # 0.9 × 30 = 27, clamped to the API's 20
    assert params["fine"] == "20.00"
    assert params["maxOverdueDays"] == "10"
    assert "payerEmail" not in params and params["notifyPayer"] == "false"
    assert len(params["payerName"]) == 60
    assert params["payerCpfCnpj"] == "52998224725"
    assert params["notificationUrl"] == juno_config().notification_url
    assert params["paymentTypes"] == "BOLETO"
    assert params["billingAddressState"] == "SP"


def test_options_juno_cannot_honour_are_refused_before_sending(recorder):
    """Juno v1 has neither a contra-apresentação nor a "last day of the month" parameter: sending
    as if it had would print due dates and deadlines the boleto does not keep."""
    with translation.override("en"):
        with pytest.raises(RequestInvalid, match="contra-apresentação"):
            gateway(recorder, contra_apresentacao=True).issue(charge_request())
        with pytest.raises(RequestInvalid, match="last day of the month"):
            gateway(recorder).issue(charge_request(installments=3, last_day_of_month=True))
    assert recorder.exchanges == []  # nothing was sent
    assert client.issue_params(juno_config(), charge_request(last_day_of_month=True))  # a título: moot


def test_issue_params_clamps_overdue_days_and_passes_email_when_asked():
    params = client.issue_params(juno_config(max_overdue_days=45, pass_customer_email=True), charge_request())
    assert params["maxOverdueDays"] == "29"
    assert params["payerEmail"] == "maria@example.com"
    assert params["notifyPayer"] == "true"
    assert params["interest"] == "0.99"


@pytest.mark.parametrize(
    ("lines", "message", "message_pt"),
    [
        (("a", "b", "c", "d", "e"), "at most 4 description lines", "no máximo 4 linhas de descrição"),
        (("x" * 401,), "at most 400 description characters", "no máximo 400 caracteres de descrição"),
        ((), "needs a description", "exige uma descrição"),
    ],
)
def test_description_limits_are_refused_before_sending(lines, message, message_pt, recorder):
    # English source text or its pt-BR translation, whichever language is active.
    with pytest.raises(RequestInvalid, match=f"{message}|{message_pt}"):
        gateway(recorder).issue(charge_request(description_lines=lines))
    assert recorder.exchanges == []


def test_description_lines_joined_by_newlines():
    assert client.description(("one", "two", "", "")) == "one\ntwo"


# --- odd answers (responses) ---------------------------------------------------------------------
@responses.activate
def test_bom_and_numeric_codes_are_tolerated():
    body = {"success": True, "data": {"charges": [{"code": 123456789, "dueDate": "10/01/2099"}]}}
    responses.post(URL + "issue-charge", body=codecs.BOM_UTF8 + json.dumps(body).encode())
    (charge,) = JunoGateway(juno_config(), base_url=URL).issue(charge_request()).charges
    assert charge.code == "123456789"
    assert charge.link == "" and charge.linha_digitavel == "" and charge.reference == ""


@responses.activate
def test_data_null_on_cancel_is_success():
    responses.post(URL + "cancel-charge", json={"success": True, "data": None})
    JunoGateway(juno_config(), base_url=URL).cancel("123")


@responses.activate
def test_issue_answer_without_charges_is_invalid():
    responses.post(URL + "issue-charge", json={"success": True, "data": None})
    with pytest.raises(GatewayAnswerInvalid):
        JunoGateway(juno_config(), base_url=URL).issue(charge_request())


@responses.activate
@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_non_200_error_message_is_rejected_verbatim(status, recorder):
    responses.post(
        URL + "issue-charge", status=status, json={"success": False, "errorMessage": "Token inválido"}
    )
    with pytest.raises(GatewayRejected) as info:
        JunoGateway(juno_config(), base_url=URL, recorder=recorder).issue(charge_request())
    assert info.value.message == "Token inválido"
    assert info.value.status_code == status
    assert recorder.exchanges[0].error_message == "Token inválido"


@responses.activate
def test_success_false_with_200_is_rejected():
    responses.post(URL + "cancel-charge", json={"success": False, "errorMessage": "Cobrança já cancelada"})
    with pytest.raises(GatewayRejected, match="Cobrança já cancelada"):
        JunoGateway(juno_config(), base_url=URL).cancel("1")


@responses.activate
@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_unavailable(status):
    responses.post(URL + "issue-charge", status=status, body="<html>Bad gateway</html>")
    with pytest.raises(GatewayUnavailable) as info:
        JunoGateway(juno_config(), base_url=URL).issue(charge_request())
    assert info.value.maybe_sent is True


@responses.activate
@pytest.mark.parametrize("body", ["<html>oops</html>", '{"success": tru', "[1, 2]", ""])
def test_malformed_answers_are_invalid(body, recorder):
    responses.post(URL + "issue-charge", body=body)
    with pytest.raises(GatewayAnswerInvalid):
        JunoGateway(juno_config(), base_url=URL, recorder=recorder).issue(charge_request())
    assert recorder.exchanges[0].outcome == "invalid"


@responses.activate
def test_charge_with_broken_amount_in_payment_is_invalid():
    body = {"success": True, "data": {"payment": {"id": 1, "amount": "abc"}}}
    responses.post(URL + "fetch-payment-details", json=body)
    with pytest.raises(GatewayAnswerInvalid):
        JunoGateway(juno_config(), base_url=URL).fetch_payment("tok1")


@responses.activate
@pytest.mark.parametrize(
    ("error", "maybe_sent"),
    [
        (requests.exceptions.ConnectTimeout("connect timed out"), False),
        (requests.exceptions.ReadTimeout("read timed out"), True),
        (requests.exceptions.ConnectionError("Connection reset by peer"), True),
        (requests.exceptions.ChunkedEncodingError("broken body"), True),
    ],
)
def test_transport_errors_say_whether_the_request_may_have_left(error, maybe_sent, recorder):
    responses.post(URL + "issue-charge", body=error)
    with pytest.raises(GatewayUnavailable) as info:
        JunoGateway(juno_config(), base_url=URL, recorder=recorder).issue(charge_request())
    assert info.value.maybe_sent is maybe_sent
    assert recorder.exchanges[0].outcome == "unavailable"


@responses.activate
def test_list_charges_with_payments_and_dates():
    body = {
        "success": True,
        "data": {
            "charges": [
                {"code": 2, "reference": "R", "dueDate": "10/02/2099", "payments": [{"id": 9, "amount": 10}]},
                {"code": 1, "reference": "R", "dueDate": "10/01/2099"},
            ]
        },
    }
    responses.post(URL + "list-charges", json=body)
    found = JunoGateway(juno_config(), base_url=URL).find_charges(
        reference="R", due_from=dt.date(2099, 1, 1), due_to=dt.date(2099, 3, 1)
    )
    assert [c.code for c in found] == ["1", "2"]
    assert found[1].payments[0].payment_id == "9"
    sent = dict(x.split("=") for x in responses.calls[0].request.body.split("&"))
    assert (sent["beginDueDate"], sent["endDueDate"]) == ("01%2F01%2F2099", "01%2F03%2F2099")


# --- notifications -------------------------------------------------------------------------------
def test_notification_without_payment_token_is_invalid():
    with pytest.raises(NotificationInvalid) as info:
        gateway().parse_notification({"chargeCode": "1", "paymentToken": "  "})
    assert "paymentToken" in info.value.errors


def test_notification_parsed():
    parsed = gateway().parse_notification(
        {"paymentToken": "abc", "chargeCode": "12", "chargeReference": "T-1"}
    )
    assert (parsed.payment_token, parsed.charge_code, parsed.charge_reference) == ("abc", "12", "T-1")
    assert JUNO_TOKEN not in repr(parsed)


@responses.activate
def test_fewer_charges_than_installments_is_invalid(recorder):
    body = {"success": True, "data": {"charges": [{"code": 1, "dueDate": "10/01/2099"}]}}
    responses.post(URL + "issue-charge", json=body)
    with pytest.raises(GatewayAnswerInvalid, match="1 charges for 3 installments"):
        JunoGateway(juno_config(), base_url=URL, recorder=recorder).issue(charge_request(installments=3))
    assert recorder.exchanges[0].outcome == "invalid"
