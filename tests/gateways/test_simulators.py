"""The simulators themselves: validation, control routes, faults, notifications, commands."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.core.management import call_command

from gateways.brazil import digits
from gateways.juno import simulator as juno_simulator
from gateways.juno.adapter import JunoGateway
from tests.gateways import contract_examples as ex
from tests.gateways.conftest import charge_request, juno_config, sim_json

ROOT = Path(__file__).resolve().parents[2]


def issue(settings, **overrides: str) -> requests.Response:
    params = {**ex.JUNO_CARNE_PARAMS, "installments": "1", **overrides}
    return requests.post(settings.JUNO_BASE_URL + "issue-charge", data=params, timeout=5)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"token": ""}, "Token"),
        ({"amount": "2.49"}, "2,50"),
        ({"amount": "1000000.01"}, "2,50"),
        ({"amount": "abc"}, "amount"),
        ({"maxOverdueDays": "30"}, "maxOverdueDays"),
        ({"installments": "25"}, "installments"),
        ({"installments": "0"}, "installments"),
        ({"payerCpfCnpj": "12345678900"}, "CPF/CNPJ"),
        ({"payerName": ""}, "Nome"),
        ({"description": ""}, "description"),
        ({"description": "1\n2\n3\n4\n5"}, "description"),
        ({"dueDate": "2099-01-10"}, "dueDate"),
        ({"dueDate": "01/01/2000"}, "vencimento"),
        ({"fine": "20.01"}, "fine"),
    ],
)
def test_juno_simulator_validates_like_the_contract(juno_sim, settings, overrides, fragment):
    answer = issue(settings, **overrides)
    assert answer.status_code == 400
    body = sim_json(answer)
    assert body["success"] is False
    assert fragment in body["errorMessage"]
    assert juno_sim.snapshot()["count"] == 0


def test_juno_simulator_accepts_the_extremes(juno_sim, settings):
    assert issue(settings, amount="2.50", maxOverdueDays="29", installments="24").status_code == 200
    assert issue(settings, amount="1000000.00", maxOverdueDays="0", payerCpfCnpj="11.222.333/0001-81").ok
    assert juno_sim.snapshot()["count"] == 25


def test_control_routes_over_http(juno_sim, settings):
    base = juno_sim.base_url
    faults = requests.post(base + "/_sim/faults", json={"latency_ms": 5, "fail_rate": 0.25}, timeout=5).json()
    assert (faults["latency_ms"], faults["fail_rate"], faults["drop_rate"]) == (5, 0.25, 0.0)
    requests.post(base + "/_sim/faults", json={"fail_rate": 0}, timeout=5)
    issue(settings, reference="R-1")
    issue(settings, reference="R-1")
    snapshot = requests.get(base + "/_sim/charges", timeout=5).json()
    assert snapshot["counts_by_reference"] == {"R-1": 2}
    assert snapshot["duplicates"] == ["R-1"]
    code = snapshot["charges"][0]["code"]
    paid = requests.post(base + "/_sim/pay", json={"code": code, "notify": False}, timeout=5).json()
    assert paid["payment"]["status"] == "CONFIRMED" and len(paid["paymentToken"]) == 32
    assert requests.post(base + "/_sim/pay", json={"code": 1}, timeout=5).status_code == 400
    requests.post(base + "/_sim/reset", timeout=5)
    assert requests.get(base + "/_sim/charges", timeout=5).json()["count"] == 0
    assert requests.get(base + "/_sim/faults", timeout=5).json()["latency_ms"] == 0


def test_latency_is_per_request_not_a_global_lock(juno_sim):
    juno_sim.faults.latency_ms = 300
    adapter = JunoGateway(juno_config(), base_url=juno_sim.base_url + juno_simulator.API_PREFIX)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(lambda i: adapter.issue(charge_request(reference=f"T-{i}")), range(32)))
    elapsed = time.monotonic() - started
    assert len({r.charges[0].code for r in results}) == 32
    assert elapsed < 3.0, elapsed  # serialised it would take 9.6 s


def test_notifications_retry_until_200(juno_sim, settings, receiver):
    receiver.status = 500
    code = sim_json(issue(settings, notificationUrl=receiver.url))["data"]["charges"][0]["code"]
    juno_sim.pay({"code": code})
    assert len(receiver.wait(juno_simulator.NOTIFY_ATTEMPTS)) == juno_simulator.NOTIFY_ATTEMPTS
    time.sleep(0.1)
    assert [n["status"] for n in juno_sim.notifications] == [500] * juno_simulator.NOTIFY_ATTEMPTS


def test_duplicate_notifications_and_refund_after_payment(juno_sim, settings, receiver):
    code = sim_json(issue(settings, notificationUrl=receiver.url))["data"]["charges"][0]["code"]
    token = juno_sim.pay({"code": code, "duplicate": True})["paymentToken"]
    assert [p["paymentToken"] for p in receiver.wait(2)] == [token, token]
    juno_sim.pay({"payment_token": token, "status": "CUSTOMER_PAID_BACK"})
    assert len(receiver.wait(3)) == 3
    payment = JunoGateway(juno_config(), base_url=settings.JUNO_BASE_URL).fetch_payment(token)
    assert payment.status == "CUSTOMER_PAID_BACK"


def test_cancel_of_a_paid_charge_is_refused(juno_sim, settings):
    code = sim_json(issue(settings))["data"]["charges"][0]["code"]
    juno_sim.pay({"code": code, "notify": False})
    answer = requests.post(
        settings.JUNO_BASE_URL + "cancel-charge",
        data={"token": ex.JUNO_CARNE_PARAMS["token"], "code": code},
        timeout=5,
    )
    assert answer.status_code == 400


def test_mycontas_accounts_over_http(mycontas_sim, receiver):
    base = mycontas_sim.base_url
    assert requests.post(base + "/_sim/accounts", json={"code": "x"}, timeout=5).status_code == 400
    account = {"code": ex.MYCONTAS_FORM["txtCod_cliente"], "password": ex.MYCONTAS_FORM["txtCod_senha"]}
    requests.post(base + "/_sim/accounts", json={**account, "return_url": receiver.url}, timeout=5)
    assert requests.post(base + "/servicoweb", data=ex.MYCONTAS_FORM, timeout=5).ok
    assert requests.get(base + "/_sim/returns", timeout=5).json()["returns"][0]["status"] == 200
    charges = requests.get(base + "/_sim/charges", timeout=5).json()
    assert charges["count"] == 1
    assert "txtCod_senha" not in json.dumps(charges)  # the simulator keeps no password in its state


def test_simulator_pay_command(juno_sim, settings, capsys):
    code = sim_json(issue(settings))["data"]["charges"][0]["code"]
    port = juno_sim.base_url.rsplit(":", 1)[1]
    call_command("simulator_pay", "--port", port, "--code", str(code), "--no-notify")
    assert json.loads(capsys.readouterr().out)["payment"]["status"] == "CONFIRMED"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_runsimulator_runs_as_a_process():
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "runsimulator", "juno", "--port", str(port), "--latency-ms", "1"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                faults = requests.get(base + "/_sim/faults", timeout=1).json()
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("the simulator did not start")
        assert faults["latency_ms"] == 1
        adapter = JunoGateway(juno_config(), base_url=base + juno_simulator.API_PREFIX)
        assert adapter.issue(charge_request()).charges[0].code
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_next_n_faults_are_deterministic(juno_sim, settings):
    requests.post(juno_sim.base_url + "/_sim/faults", json={"fail_next": 1, "drop_next": 1}, timeout=5)
    assert issue(settings, reference="F-1").status_code == 500
    with pytest.raises(requests.ConnectionError):
        issue(settings, reference="F-2")
    assert issue(settings, reference="F-3").ok
    assert juno_sim.snapshot()["counts_by_reference"] == {"F-2": 1, "F-3": 1}


def test_runsimulator_account_option():
    from gateways.management.commands.runsimulator import add_account, build_app
    from gateways.mycontas.simulator import MycontasSimulator
    from gateways.simulator_base import Faults

    app = build_app("mycontas", Faults())
    add_account(app, "KyU3Gp18fgU3TDFyidr9:secret:http://127.0.0.1:8000/api/notifications/mycontas/x/")
    assert isinstance(app, MycontasSimulator)
    account = app.accounts["KyU3Gp18fgU3TDFyidr9"]
    assert (account.password, account.return_url) == (
        "secret",
        "http://127.0.0.1:8000/api/notifications/mycontas/x/",
    )


def test_boleto_page_offers_a_simulated_payment(juno_sim, settings):
    charge = sim_json(issue(settings))["data"]["charges"][0]
    page = requests.get(charge["link"], timeout=5)
    assert digits(charge["payNumber"]) in page.text and "Simular pagamento" in page.text
    paid = requests.post(
        juno_sim.base_url + "/_sim/pay", data={"code": charge["code"], "notify": "false"}, timeout=5
    )
    assert paid.json()["payment"]["status"] == "CONFIRMED"
