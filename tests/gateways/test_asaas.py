"""The Asaas adapter against its simulator (and, for shapes the simulator never produces, ``responses``)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import replace
from decimal import Decimal

import pytest
import requests
import responses
from django.utils import translation

from gateways.asaas import client
from gateways.asaas.adapter import AsaasGateway, parse_notification, token_matches
from gateways.base import (
    GatewayAnswerInvalid,
    GatewayRejected,
    GatewayUnavailable,
    NotificationEvent,
    NotificationInvalid,
    PaymentDetails,
    RequestInvalid,
)
from gateways.brazil import is_valid_linha_digitavel
from gateways.pix import is_valid_payload
from tests.gateways import contract_examples as ex
from tests.gateways.conftest import (
    ASAAS_KEY,
    ASAAS_WEBHOOK_TOKEN,
    PAYER_CPF,
    asaas_config,
    assert_no_secret,
    charge_request,
    due_in,
    payer,
)

URL = "https://asaas.test/v3/"


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in their English source; one test checks the pt-BR catalogue."""
    with translation.override("en"):
        yield


def gateway(sim, recorder=None, **config) -> AsaasGateway:
    return AsaasGateway(asaas_config(**config), base_url=sim.api_url, recorder=recorder)


def mocked(recorder=None, **config) -> AsaasGateway:
    return AsaasGateway(asaas_config(**config), base_url=URL, recorder=recorder)


def known_payer():
    return payer(gateway_customer_id="cus_000000000001")


# --- issue ---------------------------------------------------------------------------------------
def test_issue_titulo_registers_the_customer_once_and_fetches_linha_and_pix(asaas_sim, recorder):
    adapter = gateway(asaas_sim, recorder)
    result = adapter.issue(charge_request())
    (charge,) = result.charges
    assert charge.code.startswith("pay_") and charge.reference == "T-0123456789ABCDEF"
    assert charge.due_date == due_in(10)
    assert is_valid_linha_digitavel(charge.linha_digitavel) and len(charge.barcode) == 44
    assert is_valid_payload(charge.pix_payload) and charge.pix_image
    assert charge.pix_expires_at is not None and charge.pix_expires_at.tzinfo is not None
    assert charge.link.endswith(f"/_sim/boleto/{charge.code}")
    assert result.customer_id.startswith("cus_")
    assert [e.endpoint for e in recorder.exchanges] == [
        "customers",
        "customers",
        "payments",
        "payments/identificationField",
        "payments/pixQrCode",
    ]
    assert [e.method for e in recorder.exchanges] == ["GET", "POST", "POST", "GET", "GET"]
    again = adapter.issue(charge_request(reference="T-SECOND"))  # billing lost the id: found by CPF
    assert again.customer_id == result.customer_id
    assert asaas_sim.snapshot()["customers"] == 1


def test_a_known_customer_id_is_used_without_a_customer_call(asaas_sim, recorder):
    customer_id = gateway(asaas_sim).issue(charge_request(reference="T-FIRST")).customer_id
    recorder.exchanges.clear()
    result = gateway(asaas_sim, recorder).issue(
        charge_request(reference="T-NEXT", payer=payer(gateway_customer_id=customer_id))
    )
    assert result.customer_id == customer_id
    assert "customers" not in {e.endpoint for e in recorder.exchanges}
    (payment,) = [c for c in asaas_sim.snapshot()["charges"] if c["externalReference"] == "T-NEXT"]
    assert payment["customer"] == customer_id


def test_issue_carne_of_three_is_an_installment_plan(asaas_sim):
    result = gateway(asaas_sim).issue(charge_request(installments=3, amount=Decimal("89.90")))
    codes = [c.code for c in result.charges]
    assert len(set(codes)) == 3
    assert [c.due_date for c in result.charges] == sorted(c.due_date for c in result.charges)
    assert all(is_valid_linha_digitavel(c.linha_digitavel) for c in result.charges)
    assert len({c.pix_payload for c in result.charges}) == 3
    assert asaas_sim.snapshot()["counts_by_reference"] == {"T-0123456789ABCDEF": 1}
    state = {c["id"]: c for c in asaas_sim.snapshot()["charges"]}
    assert [state[code]["installmentNumber"] for code in codes] == [1, 2, 3]
    assert {state[code]["value"] for code in codes} == {89.9}


def test_fine_interest_and_late_window_in_asaas_units(asaas_sim):
    (charge,) = gateway(asaas_sim, daily_interest_percent=Decimal("0.033")).issue(charge_request()).charges
    state = next(c for c in asaas_sim.snapshot()["charges"] if c["id"] == charge.code)
    assert state["fine"] == {"value": 2.0, "type": "PERCENTAGE"}
    assert state["interest"] == {"value": 0.99, "type": "PERCENTAGE"}  # a month


def test_payment_payload_choices():
    config = asaas_config(fine_percent=Decimal("0"), daily_interest_percent=Decimal("0"), max_overdue_days=0)
    body = client.payment_payload(config, charge_request(), "cus_1")
    assert "fine" not in body and "interest" not in body
    assert "daysAfterDueDateToRegistrationCancellation" not in body
    contra = client.payment_payload(asaas_config(contra_apresentacao=True), charge_request(), "cus_1")
    assert "daysAfterDueDateToRegistrationCancellation" not in contra
    undefined = client.payment_payload(asaas_config(billing_type="UNDEFINED"), charge_request(), "cus_1")
    assert undefined["billingType"] == "UNDEFINED"
    assert (
        client.payment_payload(asaas_config(billing_type=""), charge_request(), "c")["billingType"]
        == "BOLETO"
    )


def test_customer_payload_passes_email_and_notifications_only_when_the_account_says_so():
    quiet = client.customer_payload(asaas_config(pass_customer_email=False), payer())
    assert quiet["notificationDisabled"] is True and "email" not in quiet
    loud = client.customer_payload(asaas_config(pass_customer_email=True), payer(secondary_email="b@x.com"))
    assert loud["notificationDisabled"] is False
    assert (loud["email"], loud["additionalEmails"]) == ("maria@example.com", "b@x.com")
    assert (
        client.customer_payload(asaas_config(), payer(phone="(16) 99876-5432"))["mobilePhone"]
        == "16998765432"
    )
    assert client.customer_payload(asaas_config(), payer(phone="+55 16 3333-4444"))["phone"] == "1633334444"


@pytest.mark.parametrize(
    ("config", "request_overrides", "fragment"),
    [
        ({"billing_type": "PIX"}, {}, "BOLETO or UNDEFINED"),
        ({"token": ""}, {}, "API key"),
        ({}, {"description_lines": ("x" * 501,)}, "500"),
        ({}, {"installments": 25}, "24"),
        ({}, {"payer": payer(document="123.456.789-00")}, "CPF"),
        ({}, {"payer": payer(name=" ")}, "name"),
        ({}, {"amount": Decimal("0.00")}, "above zero"),
        ({}, {"reference": " "}, "reference"),
    ],
)
def test_requests_asaas_would_refuse_are_refused_before_sending(
    asaas_sim, recorder, config, request_overrides, fragment
):
    with pytest.raises(RequestInvalid) as info:
        gateway(asaas_sim, recorder, **config).issue(charge_request(**request_overrides))
    assert fragment in info.value.message
    assert recorder.exchanges == []
    assert asaas_sim.snapshot()["customers"] == 0


def test_simulator_refusals_come_back_verbatim(asaas_sim, recorder):
    with pytest.raises(GatewayRejected) as info:
        gateway(asaas_sim, recorder).issue(charge_request(amount=Decimal("4.99")))
    assert info.value.message == "O valor da cobrança deve ser de no mínimo R$ 5,00."
    assert info.value.status_code == 400
    assert recorder.exchanges[-1].outcome == "rejected"


# --- failures around issuing ---------------------------------------------------------------------
def test_a_failure_before_the_payment_call_leaves_no_charge(asaas_sim):
    asaas_sim.faults.fail_next = 1  # the customer look-up
    with pytest.raises(GatewayUnavailable) as info:
        gateway(asaas_sim).issue(charge_request())
    assert info.value.maybe_sent is False
    assert asaas_sim.snapshot()["count"] == 0


def test_a_dropped_payment_answer_is_maybe_sent_and_the_look_up_adopts_it(asaas_sim):
    adapter = gateway(asaas_sim)
    customer = adapter.issue(charge_request(reference="T-WARMUP")).customer_id
    asaas_sim.faults.drop_next = 1  # the payment POST is processed, its answer lost
    request = charge_request(reference="T-LOST", payer=payer(gateway_customer_id=customer))
    with pytest.raises(GatewayUnavailable) as info:
        adapter.issue(request)
    assert info.value.maybe_sent is True
    (found,) = adapter.find_charges(reference="T-LOST", due_from=due_in(0), due_to=due_in(20))
    assert found.reference == "T-LOST" and is_valid_linha_digitavel(found.linha_digitavel)
    assert is_valid_payload(found.pix_payload)


@responses.activate
def test_a_failed_detail_read_after_creation_says_the_charge_may_exist():
    responses.post(URL + "payments", json=ex.ASAAS_PAYMENT_RESPONSE)
    responses.get(URL + "payments/pay_080225913252/identificationField", status=502)
    with pytest.raises(GatewayUnavailable) as info:
        mocked().issue(charge_request(payer=known_payer()))
    assert info.value.maybe_sent is True


@responses.activate
def test_a_rate_limited_detail_read_after_creation_is_still_maybe_sent():
    responses.post(URL + "payments", json=ex.ASAAS_PAYMENT_RESPONSE)
    responses.get(URL + "payments/pay_080225913252/identificationField", status=429)
    with pytest.raises(GatewayUnavailable) as info:
        mocked().issue(charge_request(payer=known_payer()))
    assert info.value.maybe_sent is True


@responses.activate
def test_a_refused_read_after_creation_is_invalid_not_rejected():
    planned = {**ex.ASAAS_PAYMENT_RESPONSE, "installment": "plan-1", "installmentNumber": 1}
    responses.post(URL + "payments", json=planned)
    responses.get(URL + "payments", status=401, json={})
    with pytest.raises(GatewayAnswerInvalid) as info:
        mocked().issue(charge_request(installments=2, payer=known_payer()))
    assert "pay_080225913252" in info.value.message


@responses.activate
def test_no_boleto_or_no_pix_for_a_payment_leaves_those_fields_empty():
    responses.post(URL + "payments", json=ex.ASAAS_PAYMENT_RESPONSE)
    responses.get(URL + "payments/pay_080225913252/identificationField", status=404, json={"errors": []})
    responses.get(URL + "payments/pay_080225913252/pixQrCode", status=400, json=ex.ASAAS_ERROR_RESPONSE)
    (charge,) = mocked().issue(charge_request(payer=known_payer())).charges
    assert (charge.linha_digitavel, charge.pix_payload, charge.our_number) == ("", "", "6453")


@responses.activate
def test_a_carne_answer_without_its_plan_or_with_too_few_installments_is_invalid():
    responses.post(URL + "payments", json=ex.ASAAS_PAYMENT_RESPONSE)  # no installment id
    with pytest.raises(GatewayAnswerInvalid):
        mocked().issue(charge_request(installments=2, payer=known_payer()))
    planned = {**ex.ASAAS_PAYMENT_RESPONSE, "installment": "plan-1", "installmentNumber": 1}
    responses.post(URL + "payments", json=planned)
    responses.get(URL + "payments", json={"object": "list", "hasMore": False, "data": [planned]})
    with pytest.raises(GatewayAnswerInvalid) as info:
        mocked().issue(charge_request(installments=2, payer=known_payer()))
    assert "1 payments for 2" in info.value.message


# --- errors --------------------------------------------------------------------------------------
@responses.activate
@pytest.mark.parametrize(
    ("status", "body", "error", "fragment"),
    [
        (400, ex.ASAAS_ERROR_RESPONSE, GatewayRejected, "The due date cannot be earlier than today"),
        (401, None, GatewayRejected, "API key"),
        (403, None, GatewayRejected, "HTTP 403"),
        (404, None, GatewayRejected, "HTTP 404"),
        (429, None, GatewayUnavailable, "429"),
        (500, None, GatewayUnavailable, "500"),
        (503, None, GatewayUnavailable, "503"),
    ],
)
def test_errors_are_classified(status, body, error, fragment, recorder):
    responses.get(URL + "payments/pay_1", status=status, json=body, headers={"RateLimit-Reset": "30"})
    with pytest.raises(error) as info:
        mocked(recorder).fetch_payment("pay_1")
    assert fragment in info.value.message
    assert info.value.status_code == status
    if isinstance(info.value, GatewayUnavailable):
        assert info.value.maybe_sent is (status != 429)
        assert info.value.retry_after == (30 if status == 429 else None)
    assert recorder.exchanges[-1].outcome == ("unavailable" if status in (429, 500, 503) else "rejected")


@responses.activate
def test_several_errors_are_joined_and_codes_stand_in_for_missing_descriptions():
    body = {"errors": [{"code": "invalid_value", "description": "O valor é inválido"}, {"code": "invalid_x"}]}
    responses.get(URL + "payments/pay_1", status=400, json=body)
    with pytest.raises(GatewayRejected) as info:
        mocked().fetch_payment("pay_1")
    assert info.value.message == "O valor é inválido; invalid_x"


@responses.activate
@pytest.mark.parametrize("body", ["<html>oops</html>", "[1, 2]", ""])
def test_unreadable_success_answers_are_invalid(body):
    responses.get(URL + "payments/pay_1", body=body, status=200)
    with pytest.raises(GatewayAnswerInvalid):
        mocked().fetch_payment("pay_1")


@responses.activate
def test_a_redirect_is_invalid():
    responses.get(URL + "payments/pay_1", status=302, headers={"Location": "https://elsewhere.test/"})
    with pytest.raises(GatewayAnswerInvalid):
        mocked().fetch_payment("pay_1")


def test_connection_refused_is_not_sent(recorder):
    adapter = AsaasGateway(asaas_config(), base_url="http://127.0.0.1:9/v3/", recorder=recorder)
    with pytest.raises(GatewayUnavailable) as info:
        adapter.issue(charge_request(payer=known_payer()))
    assert info.value.maybe_sent is False


# --- cancel, payments, look-ups ------------------------------------------------------------------
def test_cancel_deletes_and_a_repeated_cancel_is_done(asaas_sim, recorder):
    adapter = gateway(asaas_sim, recorder)
    (charge,) = adapter.issue(charge_request()).charges
    adapter.cancel(charge.code)
    assert next(c for c in asaas_sim.snapshot()["charges"] if c["id"] == charge.code)["deleted"] is True
    adapter.cancel(charge.code)  # the first answer was lost: 404, then a read shows it deleted
    assert [e.endpoint for e in recorder.exchanges[-2:]] == ["payments/delete", "payments/get"]
    assert adapter.find_charges(reference=charge.reference, due_from=due_in(0), due_to=due_in(30)) == []


def test_cancel_of_a_paid_or_unknown_payment_is_refused(asaas_sim):
    adapter = gateway(asaas_sim)
    (charge,) = adapter.issue(charge_request()).charges
    asaas_sim.pay({"id": charge.code, "method": "PIX", "notify": False})
    with pytest.raises(GatewayRejected) as paid:
        adapter.cancel(charge.code)
    assert "recebida" in paid.value.message
    with pytest.raises(GatewayRejected) as unknown:
        adapter.cancel("pay_doesnotexist")
    assert unknown.value.status_code == 404


def test_another_keys_payments_are_invisible(asaas_sim):
    (charge,) = gateway(asaas_sim).issue(charge_request()).charges
    other = gateway(asaas_sim, token="$aact_prod_other-account-key")
    assert other.find_charges(reference=charge.reference, due_from=due_in(0), due_to=due_in(30)) == []
    with pytest.raises(GatewayRejected):
        other.cancel(charge.code)
    with pytest.raises(GatewayRejected):
        other.fetch_payment(charge.code)


@pytest.mark.parametrize(("method", "gateway_type"), [("PIX", "PIX"), ("BOLETO", "BOLETO")])
def test_fetch_payment_after_a_simulated_payment(asaas_sim, method, gateway_type):
    adapter = gateway(asaas_sim)
    (charge,) = adapter.issue(charge_request(amount=Decimal("50.00"))).charges
    asaas_sim.pay({"id": charge.code, "method": method, "notify": False})
    payment = adapter.fetch_payment(charge.code)
    assert (payment.status, payment.gateway_status) == (PaymentDetails.CONFIRMED, "RECEIVED")
    assert (payment.amount, payment.fee, payment.type) == (Decimal("50.00"), Decimal("1.99"), gateway_type)
    assert (payment.charge_code, payment.charge_reference) == (charge.code, "T-0123456789ABCDEF")
    assert payment.date == dt.datetime.now(client.SAO_PAULO).date()
    asaas_sim.change({"id": charge.code, "notify": False}, "REFUNDED", "PAYMENT_REFUNDED")
    refunded = adapter.fetch_payment(charge.code)
    assert refunded.status in PaymentDetails.REFUND_STATUSES and refunded.gateway_status == "REFUNDED"


def test_an_unpaid_payment_is_neither_confirmed_nor_refunded(asaas_sim):
    adapter = gateway(asaas_sim)
    (charge,) = adapter.issue(charge_request()).charges
    pending = adapter.fetch_payment(charge.code)
    assert pending.status == "PENDING" and pending.date is None
    assert not client.is_settled(pending)


def test_find_charges_proves_absence_and_finds_a_whole_carne(asaas_sim):
    adapter = gateway(asaas_sim)
    assert adapter.find_charges(reference="C-NOTHING", due_from=due_in(0), due_to=due_in(90)) == []
    issued = adapter.issue(charge_request(reference="C-CARNE", installments=3)).charges
    found = adapter.find_charges(reference="C-CARNE", due_from=due_in(9), due_to=due_in(11))
    assert [c.code for c in found] == [c.code for c in issued]  # the window does not hide installments
    assert all(c.linha_digitavel and c.pix_payload for c in found)


@responses.activate
def test_find_charges_reads_every_page_and_whole_plans():
    first = {**ex.ASAAS_PAYMENT_RESPONSE, "id": "pay_1", "installment": "plan-9", "installmentNumber": 1}
    page_one = [first] + [{**ex.ASAAS_PAYMENT_RESPONSE, "id": f"pay_x{i}"} for i in range(99)]
    second = {**ex.ASAAS_PAYMENT_RESPONSE, "id": "pay_2", "installment": "plan-9", "installmentNumber": 2}
    responses.get(URL + "payments", json={"hasMore": True, "data": page_one})
    responses.get(
        URL + "payments", json={"hasMore": False, "data": [{**ex.ASAAS_PAYMENT_RESPONSE, "id": "pay_last"}]}
    )
    responses.get(URL + "payments", json={"hasMore": False, "data": [first, second]})
    adapter = mocked()
    adapter._with_details = lambda payment, reference="": client.parse_charge(payment)  # type: ignore[method-assign]
    found = adapter.find_charges(
        reference="T-00AA11BB22CC33DD", due_from=dt.date(2099, 1, 1), due_to=dt.date(2099, 2, 1)
    )
    assert len(found) == 102
    assert {"pay_1", "pay_2", "pay_last"} <= {c.code for c in found}
    queries = [call.request.url for call in responses.calls]
    assert "offset=100" in queries[1] and "installment=plan-9" in queries[2]


@responses.activate
def test_a_list_that_says_more_but_sends_nothing_is_invalid():
    responses.get(URL + "payments", json={"hasMore": True, "data": []})
    with pytest.raises(GatewayAnswerInvalid):
        mocked().find_charges(reference="T", due_from=dt.date(2099, 1, 1), due_to=dt.date(2099, 1, 2))


def test_window_listing_and_paid_listing(asaas_sim):
    adapter = gateway(asaas_sim)
    paid, unpaid = (adapter.issue(charge_request(reference=r)).charges[0] for r in ("T-PAID", "T-OPEN"))
    asaas_sim.pay({"id": paid.code, "method": "PIX", "notify": False})
    window = adapter.find_charges(reference=None, due_from=due_in(0), due_to=due_in(20))
    assert {c.code for c in window} == {paid.code, unpaid.code}
    today = dt.datetime.now(client.SAO_PAULO).date()
    (listed,) = adapter.list_paid_charges(paid_from=today, paid_to=today)
    assert listed.code == paid.code and listed.payments[0].status == PaymentDetails.CONFIRMED


# --- the wire ------------------------------------------------------------------------------------
@responses.activate
def test_requests_carry_the_key_header_json_and_no_get_body():
    responses.post(URL + "payments", json=ex.ASAAS_PAYMENT_RESPONSE)
    responses.get(
        URL + "payments/pay_080225913252/identificationField", json=ex.ASAAS_IDENTIFICATION_RESPONSE
    )
    responses.get(URL + "payments/pay_080225913252/pixQrCode", json=ex.ASAAS_PIX_RESPONSE)
    mocked().issue(charge_request(payer=known_payer(), amount=Decimal("89.90")))
    post, *gets = (call.request for call in responses.calls)
    assert post.headers["access_token"] == ASAAS_KEY and post.headers["User-Agent"] == client.USER_AGENT
    assert post.headers["Content-Type"] == "application/json"
    assert b'"value":89.90' in post.body
    assert json.loads(post.body)["customer"] == "cus_000000000001"
    assert all(get.body is None for get in gets)


@responses.activate
def test_no_secret_in_exchanges_errors_or_logs(recorder, caplog):
    caplog.set_level(logging.DEBUG)
    responses.get(
        URL + "payments/pay_1",
        status=400,
        json={"errors": [{"code": "x", "description": f"bad {ASAAS_KEY}"}]},
    )
    with pytest.raises(GatewayRejected) as info:
        mocked(recorder).fetch_payment("pay_1")
    assert ASAAS_KEY not in info.value.message and ASAAS_KEY not in info.value.raw
    assert_no_secret(recorder.exchanges, caplog.text)


def test_no_secret_in_exchanges_of_a_whole_issue(asaas_sim, recorder, caplog):
    caplog.set_level(logging.DEBUG)
    gateway(asaas_sim, recorder).issue(charge_request(installments=2))
    assert len(recorder.exchanges) == 8  # 2 customer calls, payment, plan, 2 × (linha, PIX)
    assert_no_secret(recorder.exchanges, caplog.text)
    assert all(e.account_id == 9 for e in recorder.exchanges)
    body = recorder.exchanges[2].request_params["body"]
    assert body["installmentValue"] == "50.00" and body["externalReference"] == "T-0123456789ABCDEF"


# --- webhooks ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ("PAYMENT_RECEIVED", NotificationEvent.PAID),
        ("PAYMENT_CONFIRMED", NotificationEvent.PAID),
        ("PAYMENT_REFUNDED", NotificationEvent.REFUNDED),
        ("PAYMENT_PARTIALLY_REFUNDED", NotificationEvent.REFUNDED),
        ("PAYMENT_DELETED", NotificationEvent.DELETED),
        ("PAYMENT_OVERDUE", NotificationEvent.OVERDUE),
        ("PAYMENT_CREATED", NotificationEvent.OTHER),
        ("PAYMENT_BANK_SLIP_VIEWED", NotificationEvent.OTHER),
    ],
)
def test_webhook_events_are_named_in_the_interfaces_words(event, kind):
    notification = parse_notification({**ex.ASAAS_WEBHOOK_BODY, "event": event})
    assert (notification.event, notification.gateway_event) == (kind, event)


def test_a_webhook_without_an_event_id_is_keyed_by_event_and_payment():
    body = {key: value for key, value in ex.ASAAS_WEBHOOK_BODY.items() if key != "id"}
    assert parse_notification(body).event_id == "PAYMENT_RECEIVED:pay_080225913252"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payment": {"id": "pay_1"}}, "event"),
        ({"event": "PAYMENT_RECEIVED"}, "payment.id"),
        ({"event": "PAYMENT_RECEIVED", "payment": {"id": ""}}, "payment.id"),
        ({"event": "PAYMENT_RECEIVED", "payment": "pay_1"}, "payment.id"),
        ({"event": 7, "payment": {"id": "pay_1"}}, "event"),
        ({"event": "PAYMENT_RECEIVED", "payment": {"id": 1}}, "payment.id"),
        (
            {"event": "PAYMENT_RECEIVED", "payment": {"id": "pay_1", "externalReference": 5}},
            "payment.externalReference",
        ),
        ({"id": ["evt_1"], "event": "PAYMENT_RECEIVED", "payment": {"id": "pay_1"}}, "id"),
    ],
)
def test_a_webhook_without_event_or_payment_is_invalid(body, field):
    with pytest.raises(NotificationInvalid) as info:
        parse_notification(body)
    assert field in info.value.errors


def test_the_webhook_token_is_compared_whole():
    assert token_matches(ASAAS_WEBHOOK_TOKEN, ASAAS_WEBHOOK_TOKEN)
    assert not token_matches(ASAAS_WEBHOOK_TOKEN[:-1], ASAAS_WEBHOOK_TOKEN)
    assert not token_matches(ASAAS_WEBHOOK_TOKEN + "x", ASAAS_WEBHOOK_TOKEN)
    assert not token_matches(None, ASAAS_WEBHOOK_TOKEN)
    assert not token_matches("", "")  # an account without a token accepts no webhook
    assert AsaasGateway(asaas_config(), base_url=URL).token_matches(ASAAS_WEBHOOK_TOKEN)
    assert not AsaasGateway(asaas_config(webhook_token=""), base_url=URL).token_matches("")


def test_a_payment_id_with_odd_characters_stays_in_its_path(asaas_sim):
    with pytest.raises(GatewayRejected) as info:
        gateway(asaas_sim).fetch_payment("../customers")
    assert info.value.status_code == 404


def test_payer_cpf_is_sent_as_digits(asaas_sim):
    gateway(asaas_sim).issue(charge_request())
    (customer,) = requests.get(
        asaas_sim.api_url + "customers",
        headers={"access_token": ASAAS_KEY},
        timeout=5,
    ).json()["data"]
    assert customer["cpfCnpj"] == PAYER_CPF


def test_a_known_customer_skips_the_cpf_check():
    request = charge_request(payer=replace(known_payer(), document=""))
    client.check_request(request)  # billing knows the customer: nothing to register


def test_messages_are_translated_for_staff(asaas_sim):
    with translation.override("pt-br"), pytest.raises(RequestInvalid) as info:
        gateway(asaas_sim).issue(charge_request(installments=30))
    assert info.value.message == "Um carnê enviado ao Asaas tem de 1 a 24 parcelas."


def test_look_up_proves_absence_by_reference_or_finds_the_charge(asaas_sim):
    from gateways.base import LookupOutcome, LookupResult

    adapter = gateway(asaas_sim)
    request = charge_request(reference="T-LOOK", installments=2)
    absent = adapter.look_up(request, due_dates=(request.due_date,))
    assert (absent.outcome, absent.complete) == (LookupOutcome.PROVED_ABSENT, True)
    issued = adapter.issue(request).charges
    found = adapter.look_up(request, due_dates=(request.due_date,))
    assert (found.outcome, found.matched_by) == (LookupOutcome.FOUND, LookupResult.REFERENCE)
    assert [c.code for c in found.charges] == [c.code for c in issued]
    assert all(c.linha_digitavel and c.pix_payload for c in found.charges)


def test_list_due_reads_the_window_with_amounts_and_statuses(asaas_sim):
    adapter = gateway(asaas_sim)
    paid, open_ = (adapter.issue(charge_request(reference=r)).charges[0] for r in ("T-P", "T-O"))
    asaas_sim.pay({"id": paid.code, "method": "PIX", "notify": False})
    listing = adapter.list_due(due_from=due_in(0), due_to=due_in(20))
    by_code = {c.code: c for c in listing.charges}
    assert listing.complete and set(by_code) == {paid.code, open_.code}
    assert (by_code[paid.code].status, by_code[open_.code].status) == ("RECEIVED", "PENDING")
    assert by_code[open_.code].amount == Decimal("50.00") and not by_code[open_.code].cancelled
