"""The Asaas simulator itself: strictness, webhooks as Asaas sends them, control routes, commands."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError

from gateways.asaas.adapter import AsaasGateway
from gateways.asaas.simulator import NOTIFY_ATTEMPTS, AsaasSimulator
from gateways.http import json_dumps
from gateways.simulator_base import Faults
from tests.gateways import contract_examples as ex
from tests.gateways.conftest import ASAAS_KEY, ASAAS_WEBHOOK_TOKEN, asaas_config, charge_request

HEADERS = {"access_token": ASAAS_KEY, "User-Agent": "simulator-test"}


def call(sim, method: str, path: str, body: object = None, **headers: str) -> requests.Response:
    data = json_dumps(body) if body is not None else None
    sent = {**HEADERS, **headers}
    if data is not None:
        sent.setdefault("Content-Type", "application/json")
    return requests.request(method, sim.api_url + path, data=data, headers=sent, timeout=5)


def customer(sim) -> str:
    return call(sim, "POST", "customers", ex.ASAAS_CUSTOMER_BODY).json()["id"]


def issue(sim, **overrides: object) -> dict:
    body = {**ex.ASAAS_TITULO_BODY, "customer": customer(sim), **overrides}
    answer = call(sim, "POST", "payments", body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def error_code(answer: requests.Response) -> str:
    return answer.json()["errors"][0]["code"]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"value": "1234.56"}, "invalid_value"),  # a string is not a number
        ({"value": Decimal("4.99")}, "invalid_value"),
        ({"value": Decimal("10.001")}, "invalid_value"),
        ({"dueDate": "10/01/2099"}, "invalid_dueDate"),
        ({"dueDate": "2000-01-01"}, "invalid_dueDate"),
        ({"billingType": "CREDIT_CARD"}, "invalid_billingType"),
        ({"description": "x" * 501}, "invalid_description"),
        ({"fine": {"value": -1}}, "invalid_fine"),
        ({"fine": {"value": 2, "type": "WHATEVER"}}, "invalid_fine"),
        ({"interest": {"value": "1"}}, "invalid_interest"),
        ({"customer": "cus_unknown"}, "not_found"),
        ({"installmentCount": 2}, "invalid_value"),  # a carnê takes installmentValue, not value
        (
            {"daysAfterDueDateToRegistrationCancellation": -1},
            "invalid_daysAfterDueDateToRegistrationCancellation",
        ),
    ],
)
def test_payments_are_validated_like_the_contract(asaas_sim, overrides, code):
    body = {**ex.ASAAS_TITULO_BODY, "customer": customer(asaas_sim), **overrides}
    answer = call(asaas_sim, "POST", "payments", body)
    assert answer.status_code in (400, 404)
    assert error_code(answer) == code
    assert asaas_sim.snapshot()["count"] == 0


def test_customers_are_validated(asaas_sim):
    assert error_code(call(asaas_sim, "POST", "customers", {"name": "X", "cpfCnpj": "12345678900"})) == (
        "invalid_cpfCnpj"
    )
    assert error_code(call(asaas_sim, "POST", "customers", {"cpfCnpj": "52998224725"})) == "invalid_name"


def test_the_key_the_body_of_a_get_and_json_are_enforced(asaas_sim):
    assert call(asaas_sim, "GET", "payments", access_token="").status_code == 401
    with_body = requests.request(
        "GET", asaas_sim.api_url + "payments", data=b'{"a": 1}', headers=HEADERS, timeout=5
    )
    assert with_body.status_code == 403
    form = requests.post(asaas_sim.api_url + "customers", data={"name": "x"}, headers=HEADERS, timeout=5)
    assert error_code(form) == "invalid_content_type"
    assert call(asaas_sim, "GET", "payments?limit=101").status_code == 400
    assert call(asaas_sim, "GET", "nothing/here").status_code == 404


def test_installment_plans_split_a_total_and_keep_each_month(asaas_sim):
    first = issue(asaas_sim, value=None, installmentCount=3, totalValue=100, dueDate="2099-01-31")
    listed = call(asaas_sim, "GET", f"payments?installment={first['installment']}&limit=10").json()["data"]
    assert [p["value"] for p in listed] == [33.33, 33.33, 33.34]
    assert [p["dueDate"] for p in listed] == ["2099-01-31", "2099-02-28", "2099-03-31"]


def test_lists_are_paged(asaas_sim):
    cus = customer(asaas_sim)
    for index in range(3):
        call(
            asaas_sim,
            "POST",
            "payments",
            {**ex.ASAAS_TITULO_BODY, "customer": cus, "externalReference": f"R{index}"},
        )
    page = call(asaas_sim, "GET", "payments?limit=2&offset=0").json()
    assert (page["hasMore"], page["totalCount"], len(page["data"])) == (True, 3, 2)
    rest = call(asaas_sim, "GET", "payments?limit=2&offset=2").json()
    assert (rest["hasMore"], [p["externalReference"] for p in rest["data"]]) == (False, ["R2"])


def test_deleted_payments_leave_lists_but_stay_readable(asaas_sim):
    payment = issue(asaas_sim)
    assert call(asaas_sim, "DELETE", f"payments/{payment['id']}").json() == {
        "deleted": True,
        "id": payment["id"],
    }
    assert call(asaas_sim, "GET", "payments").json()["totalCount"] == 0
    assert call(asaas_sim, "GET", f"payments/{payment['id']}").json()["deleted"] is True
    assert call(asaas_sim, "DELETE", f"payments/{payment['id']}").status_code == 404
    assert call(asaas_sim, "GET", f"payments/{payment['id']}/identificationField").status_code == 404


def test_a_pix_only_payment_has_no_boleto(asaas_sim):
    payment = issue(asaas_sim, billingType="PIX")
    assert call(asaas_sim, "GET", f"payments/{payment['id']}/identificationField").status_code == 400
    assert call(asaas_sim, "GET", f"payments/{payment['id']}/pixQrCode").ok


# --- webhooks ------------------------------------------------------------------------------------
def test_pix_payment_sends_one_received_event_with_the_token(asaas_sim, receiver):
    asaas_sim.set_webhook(ASAAS_KEY, receiver.url, ASAAS_WEBHOOK_TOKEN)
    payment = issue(asaas_sim)  # PAYMENT_CREATED is not among the events listened to
    asaas_sim.pay({"id": payment["id"], "method": "PIX"})
    receiver.wait(1)
    time.sleep(0.2)
    ((body, headers),) = receiver.json_posts
    assert body["event"] == "PAYMENT_RECEIVED" and body["payment"]["status"] == "RECEIVED"
    assert body["id"].startswith("evt_")
    assert {k.lower(): v for k, v in headers.items()}["asaas-access-token"] == ASAAS_WEBHOOK_TOKEN


def test_boleto_payment_sends_confirmed_then_received_in_order(asaas_sim, receiver):
    asaas_sim.set_webhook(ASAAS_KEY, receiver.url, ASAAS_WEBHOOK_TOKEN)
    payment = issue(asaas_sim)
    asaas_sim.pay({"id": payment["id"], "method": "BOLETO"})
    receiver.wait(2)
    events = [body["event"] for body, _headers in receiver.json_posts]
    assert events == ["PAYMENT_CONFIRMED", "PAYMENT_RECEIVED"]
    assert receiver.json_posts[0][0]["payment"]["status"] == "CONFIRMED"


def test_duplicates_repeat_the_same_event_id_and_retries_wait_for_200(asaas_sim, receiver):
    asaas_sim.set_webhook(ASAAS_KEY, receiver.url, ASAAS_WEBHOOK_TOKEN)
    payment = issue(asaas_sim)
    asaas_sim.pay({"id": payment["id"], "method": "PIX", "duplicate": True})
    receiver.wait(2)
    assert len({body["id"] for body, _ in receiver.json_posts}) == 1 and len(receiver.json_posts) == 2
    receiver.status = 500
    call(asaas_sim, "DELETE", f"payments/{issue(asaas_sim, externalReference='R-DEL')['id']}")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        deleted = [n for n in asaas_sim.notifications if n["event"] == "PAYMENT_DELETED"]
        if len(deleted) >= NOTIFY_ATTEMPTS:
            break
        time.sleep(0.05)
    assert [n["status"] for n in deleted] == [500] * NOTIFY_ATTEMPTS


def test_refund_and_overdue_events(asaas_sim, receiver):
    asaas_sim.set_webhook(ASAAS_KEY, receiver.url, "")
    payment = issue(asaas_sim)
    asaas_sim.change({"id": payment["id"]}, "OVERDUE", "PAYMENT_OVERDUE")
    asaas_sim.pay({"id": payment["id"], "method": "PIX"})
    asaas_sim.change({"id": payment["id"]}, "REFUNDED", "PAYMENT_REFUNDED")
    receiver.wait(3)
    assert [body["event"] for body, _ in receiver.json_posts] == [
        "PAYMENT_OVERDUE",
        "PAYMENT_RECEIVED",
        "PAYMENT_REFUNDED",
    ]
    assert all("asaas-access-token" not in {k.lower() for k in h} for _, h in receiver.json_posts)


def test_another_accounts_webhook_hears_nothing(asaas_sim, receiver):
    asaas_sim.set_webhook("$aact_prod_someone-else", receiver.url, "x")
    asaas_sim.pay({"id": issue(asaas_sim)["id"], "method": "PIX"})
    time.sleep(0.3)
    assert receiver.json_posts == []


# --- control routes, pages, faults ---------------------------------------------------------------
def test_control_routes_over_http(asaas_sim, receiver):
    base = asaas_sim.base_url
    hook = {"access_token": ASAAS_KEY, "url": receiver.url, "auth_token": ASAAS_WEBHOOK_TOKEN}
    assert requests.post(base + "/_sim/webhook", json=hook, timeout=5).ok
    assert requests.post(base + "/_sim/webhook", json={"url": receiver.url}, timeout=5).status_code == 400
    payment = issue(asaas_sim, externalReference="R-1")
    issue(asaas_sim, externalReference="R-1")
    snapshot = requests.get(base + "/_sim/charges", timeout=5).json()
    assert snapshot["duplicates"] == ["R-1"] and snapshot["duplicate_customers"] == ["52998224725"]
    paid = requests.post(base + "/_sim/pay", json={"id": payment["id"], "method": "BOLETO"}, timeout=5)
    assert paid.json()["status"] == "RECEIVED"
    assert requests.post(base + "/_sim/pay", json={"id": payment["id"]}, timeout=5).status_code == 400
    assert requests.post(base + "/_sim/pay", json={"id": "pay_x"}, timeout=5).status_code == 404
    receiver.wait(2)
    # The simulator logs a delivery once the receiver has answered it: wait for the log too.
    deadline = time.monotonic() + 5
    while len(logged := requests.get(base + "/_sim/notifications", timeout=5).json()["notifications"]) < 2:
        assert time.monotonic() < deadline, logged
        time.sleep(0.05)
    assert len(logged) == 2
    assert (
        requests.post(base + "/_sim/refund", json={"id": payment["id"]}, timeout=5).json()["status"]
        == "REFUNDED"
    )
    requests.post(base + "/_sim/reset", timeout=5)
    assert requests.get(base + "/_sim/charges", timeout=5).json()["count"] == 0


def test_boleto_page_has_pix_and_boleto_buttons(asaas_sim):
    payment = issue(asaas_sim)
    page = requests.get(payment["bankSlipUrl"], timeout=5).text
    line = call(asaas_sim, "GET", f"payments/{payment['id']}/identificationField").json()[
        "identificationField"
    ]
    assert line in page and "Pagar com PIX (simulado)" in page and "Pagar boleto (simulado)" in page
    invoice = requests.get(payment["invoiceUrl"], timeout=5).text
    assert "PIX copia e cola" in invoice
    paid = requests.post(
        asaas_sim.base_url + "/_sim/pay", data={"id": payment["id"], "method": "PIX"}, timeout=5
    )
    assert paid.json()["billingType"] == "PIX"


def test_faults_apply_to_the_api(asaas_sim):
    asaas_sim.faults.fail_next = 1
    assert call(asaas_sim, "GET", "payments").status_code == 500
    asaas_sim.faults.drop_next = 1
    with pytest.raises(requests.ConnectionError):
        call(asaas_sim, "POST", "customers", ex.ASAAS_CUSTOMER_BODY)
    assert asaas_sim.snapshot()["customers"] == 1  # processed, then left unanswered


def test_simulator_pay_command(asaas_sim, capsys):
    payment = issue(asaas_sim)
    port = asaas_sim.base_url.rsplit(":", 1)[1]
    call_command(
        "simulator_pay", "--gateway", "asaas", "--port", port, "--id", payment["id"], "--method", "BOLETO"
    )
    out = json.loads(capsys.readouterr().out)
    assert (out["status"], out["billingType"]) == ("RECEIVED", "BOLETO")
    with pytest.raises(CommandError):
        call_command("simulator_pay", "--gateway", "asaas", "--port", port)


def test_runsimulator_webhook_option():
    from gateways.management.commands.runsimulator import add_account, add_webhook, build_app

    app = build_app("asaas", Faults())
    assert isinstance(app, AsaasSimulator)
    add_webhook(app, "$aact_hmlg_key:the-token:http://127.0.0.1:8000/api/notifications/asaas/abc/")
    hook = app.webhooks["$aact_hmlg_key"]
    assert (hook.url, hook.auth_token) == ("http://127.0.0.1:8000/api/notifications/asaas/abc/", "the-token")
    with pytest.raises(CommandError):
        add_webhook(app, "key-without-url")
    with pytest.raises(CommandError):
        add_account(app, "CODE:PASS")
    with pytest.raises(CommandError):
        add_webhook(build_app("juno", Faults()), "k:t:http://x/")


def test_the_adapter_works_against_a_simulator_with_latency(asaas_sim):
    asaas_sim.faults.latency_ms = 20
    adapter = AsaasGateway(asaas_config(), base_url=asaas_sim.api_url)
    assert len(adapter.issue(charge_request(installments=2)).charges) == 2
