"""The Mycontas adapter: the form, rules 1–10 before sending, the HTML answer, the return POST."""

from __future__ import annotations

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
    IssueResult,
    NotificationInvalid,
    OperationUnsupported,
    RequestInvalid,
)
from gateways.mycontas import page, rules
from gateways.mycontas.adapter import (
    TEST_ACCOUNT_CODE,
    TEST_PASSWORD,
    MycontasGateway,
    check_form,
    issue_form,
    parse_notification,
    percent_integer,
)
from gateways.registry import get_gateway
from tests.gateways.conftest import (
    MYCONTAS_CODE,
    MYCONTAS_PASSWORD,
    assert_no_secret,
    charge_request,
    due_in,
    mycontas_config,
    payer,
)

URL = "https://mycontas.test/servicoweb"


@pytest.fixture(autouse=True)
def _english():
    """The rule checks are asserted against the English source text (the manual's rule names);
    the pt-BR wording of the same messages lives in locale/pt_BR."""
    with translation.override("en"):
        yield


def gateway(recorder=None, **config) -> MycontasGateway:
    adapter = get_gateway(mycontas_config(**config), recorder)
    assert isinstance(adapter, MycontasGateway)
    return adapter


def valid_form(**overrides: str) -> dict[str, str]:
    return {**issue_form(mycontas_config(), charge_request()), **overrides}


# --- against the simulator -----------------------------------------------------------------------
def test_issue_success_posts_the_return_before_the_page(mycontas_sim, receiver, recorder):
    mycontas_sim.add_account(MYCONTAS_CODE, MYCONTAS_PASSWORD, receiver.url)
    result = gateway(recorder).issue(charge_request(reference="T-MY-1"))
    (charge,) = result.charges  # the simulator's page shows the number
    (returned,) = receiver.posts
    assert charge.code == returned["cobrancaID"]
    assert charge.link == returned["txtUrl"]
    notification = parse_notification(returned)
    assert notification.charge_reference == "T-MY-1"
    assert notification.account_code == MYCONTAS_CODE
    assert notification.password == MYCONTAS_PASSWORD  # billing compares it; it is never logged
    (exchange,) = recorder.exchanges
    assert (exchange.endpoint, exchange.outcome, exchange.gateway_code) == ("servicoweb", "ok", charge.code)
    assert exchange.request_params["txtCod_senha"] == "***"
    assert_no_secret(recorder.exchanges)


def test_carne_success_waits_for_the_return(mycontas_sim, receiver):
    mycontas_sim.add_account(MYCONTAS_CODE, MYCONTAS_PASSWORD, receiver.url)
    result = gateway().issue(charge_request(installments=3, last_day_of_month=True))
    assert result.charges == ()
    (returned,) = receiver.posts
    assert (returned["txtParcelasCarne"], returned["txtUltimoDia"]) == ("3", "S")


def test_wrong_password_is_an_error_page(mycontas_sim, recorder, caplog):
    caplog.set_level(logging.DEBUG)
    mycontas_sim.add_account(MYCONTAS_CODE, "the-real-password", "")
    with pytest.raises(GatewayRejected, match="senha de cobrança inválidos"):
        gateway(recorder).issue(charge_request())
    assert recorder.exchanges[0].outcome == "rejected"
    assert mycontas_sim.snapshot()["count"] == 0
    assert_no_secret(recorder.exchanges, caplog.text)


def test_test_credentials_validate_and_register_nothing(mycontas_sim, receiver):
    mycontas_sim.add_account(TEST_ACCOUNT_CODE, TEST_PASSWORD, receiver.url)  # even with a return URL
    result = gateway(account_code=TEST_ACCOUNT_CODE, password=TEST_PASSWORD).issue(charge_request())
    assert result.charges == ()
    assert "nothing was registered" in result.message
    snapshot = mycontas_sim.snapshot()
    assert (snapshot["count"], snapshot["validated_only"]) == (0, 1)
    assert receiver.posts == []


def test_simulator_enforces_the_rules_the_adapter_checks(mycontas_sim):
    mycontas_sim.add_account(MYCONTAS_CODE, MYCONTAS_PASSWORD)
    answer = requests.post(mycontas_sim.base_url + "/servicoweb", data=valid_form(txtValor="0"), timeout=5)
    reading = page.read_page(answer.text)
    assert reading.kind == page.ERROR
    # The simulator answers from its own thread, in the default language (pt-BR).
    assert "Rule 3" in reading.message or "Regra 3" in reading.message


def test_simulated_faults(mycontas_sim, recorder):
    mycontas_sim.add_account(MYCONTAS_CODE, MYCONTAS_PASSWORD)
    mycontas_sim.faults.fail_rate = 1.0
    with pytest.raises(GatewayUnavailable) as failed:
        gateway(recorder).issue(charge_request())
    mycontas_sim.faults.fail_rate, mycontas_sim.faults.drop_rate = 0.0, 1.0
    with pytest.raises(GatewayUnavailable) as dropped:
        gateway(recorder).issue(charge_request(reference="T-DROPPED"))
    assert failed.value.maybe_sent and dropped.value.maybe_sent
    assert mycontas_sim.snapshot()["counts_by_reference"] == {"T-DROPPED": 1}
    assert [e.outcome for e in recorder.exchanges] == ["unavailable", "unavailable"]


# --- the form ------------------------------------------------------------------------------------
def test_form_formats():
    form = issue_form(
        mycontas_config(
            contra_apresentacao=True, fine_percent=Decimal("0"), daily_interest_percent=Decimal("0")
        ),
        charge_request(amount=Decimal("0.5"), installments=2, payer=payer(email="")),
    )
    assert form["txtValor"] == "50"
    assert form["rdContraApresentacao"] == "S"
    assert form["txtParcelasCarne"] == "2"
    assert "txtMulta" not in form and "txtJuros" not in form
    assert "txtEmail" not in form
    assert form["txtCep"] == "13560000" and form["txtCPF_CNPJ"] == "52998224725"
    assert form["txtEstado"] == "SP"


@pytest.mark.parametrize(
    ("percent", "encoded"),
    [("2.00", "200"), ("1.23", "123"), ("0.03", "3"), ("0.033", "3"), ("0.035", "4"), ("0.333", "33")],
)
def test_percent_integer_has_two_implied_places(percent, encoded):
    assert percent_integer(Decimal(percent)) == encoded


def test_email_only_when_the_account_passes_it():
    assert "txtEmail" not in issue_form(mycontas_config(pass_customer_email=False), charge_request())
    assert (
        issue_form(mycontas_config(pass_customer_email=True), charge_request())["txtEmail"]
        == "maria@example.com"
    )


# --- rules 1–10 before sending -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"txtCod_senha": ""}, "Rule 1"),
        ({"txtDescricao1": ""}, "Rule 1"),
        ({"txtCod_cliente": "short"}, "Rule 1"),
        ({"txtCPF_CNPJ": "12345678900"}, "Rules 2 and 10"),
        ({"txtValor": "0"}, "Rule 3"),
        ({"txtValor": "12.50"}, "Rule 3"),
        ({"rdValorSacado": "S"}, "Rule 3"),
        ({"txtDesconto": "100"}, "Rule 4"),
        ({"txtVencimento": due_in(0).isoformat()}, "Rule 5"),
        ({"txtVencimento": "10/01/2099"}, "Rule 5"),
        ({"txtUltimoDia": "X"}, "Rule 6"),
        ({"rdContraApresentacao": "S", "txtVencimento": ""}, "Rule 7"),
        ({"txtAntecedencia": "sete"}, "Rule 8"),
        ({"txtTipoRemessa": "2", "txtCep": ""}, "Rule 9"),
        ({"txtDescricao2": "x" * 81}, "80 characters"),
        ({"txtReferencia": "x" * 51}, "50 characters"),
    ],
)
def test_each_rule_is_refused_with_its_name(overrides, rule):
    with pytest.raises(RequestInvalid, match=rule):
        check_form(valid_form(**overrides))


def test_valid_forms_pass_every_rule():
    assert rules.violations(valid_form(), today=due_in(0)) == []
    assert rules.violations(valid_form(txtTipoRemessa="3"), today=due_in(0)) == []
    assert rules.violations(valid_form(rdValorSacado="S", txtValor="0"), today=due_in(0)) == []
    discount = valid_form(txtDesconto="100", txtTipoDesconto="R$", txtDiasDesconto="5")
    assert rules.violations(discount, today=due_in(0)) == []


def test_adapter_refuses_before_sending(recorder, mycontas_sim):
    with pytest.raises(RequestInvalid, match="Rule 5"):
        gateway(recorder).issue(charge_request(due_date=due_in(0)))
    with pytest.raises(RequestInvalid, match="5 description lines"):
        gateway(recorder).issue(charge_request(description_lines=tuple("abcdef")))
    with pytest.raises(RequestInvalid, match="Rule 3"):
        gateway(recorder).issue(charge_request(amount=Decimal("0")))
    assert recorder.exchanges == []
    assert mycontas_sim.requests_seen == 0


# --- odd answers ---------------------------------------------------------------------------------
@responses.activate
@pytest.mark.parametrize(
    ("html", "kind", "error"),
    [
        ("<html><body><p>Cobrança registrada com sucesso.</p></body></html>", "ok", None),
        (
            "<html><body><a href='http://www.mycontas.com.br/cobranca/?id=9P8eyHrX3h'>ver</a></body></html>",
            "ok",
            None,
        ),
        ("<html><body><div id='erro'>CPF inválido</div></body></html>", "rejected", GatewayRejected),
        ("<html><body>Erro: campo txtValor obrigatório</body></html>", "rejected", GatewayRejected),
        ("<html><body>Bem-vindo</body></html>", "invalid", GatewayAnswerInvalid),
    ],
)
def test_pages_are_classified(html, kind, error, recorder):
    responses.post(URL, body=html, content_type="text/html")
    adapter = MycontasGateway(mycontas_config(), url=URL, recorder=recorder)
    if error:
        with pytest.raises(error):
            adapter.issue(charge_request())
    else:
        assert isinstance(adapter.issue(charge_request()), IssueResult)
    assert recorder.exchanges[0].outcome == kind


@responses.activate
def test_error_page_message_is_extracted_and_secret_free(recorder):
    body = f"<html><body><div class='alert erro'>Senha {MYCONTAS_PASSWORD} inválida</div><p>rodapé</p></body>"
    responses.post(URL, body=body, content_type="text/html")
    with pytest.raises(GatewayRejected) as info:
        MycontasGateway(mycontas_config(), url=URL, recorder=recorder).issue(charge_request())
    assert "rodapé" not in info.value.message
    assert MYCONTAS_PASSWORD not in info.value.message + info.value.raw + str(info.value)
    assert_no_secret(recorder.exchanges)


def test_page_reveals_number_and_url():
    reading = page.read_page(
        "<html><body><h1>Sucesso</h1><input type='hidden' name='cobrancaID' value='4321'>"
        "<a href='http://www.mycontas.com.br/cobranca/?id=AbC123'>boleto</a><br><p>ok</p></body></html>"
    )
    assert (reading.kind, reading.charge_number) == (page.SUCCESS, "4321")
    assert reading.charge_url == "http://www.mycontas.com.br/cobranca/?id=AbC123"


@responses.activate
def test_http_404_is_rejected():
    responses.post(URL, status=404, body="not found")
    with pytest.raises(GatewayRejected):
        MycontasGateway(mycontas_config(), url=URL).issue(charge_request())


@responses.activate
def test_redirect_to_the_charge_page_is_followed():
    charge_url = "https://mycontas.test/cobranca/?id=Zz9"
    responses.post(URL, status=302, headers={"Location": charge_url})
    responses.get(charge_url, body="<html><body>Linha digitável: 1234</body></html>")
    assert isinstance(MycontasGateway(mycontas_config(), url=URL).issue(charge_request()), IssueResult)


def test_connect_error_is_not_sent(settings):
    settings.MYCONTAS_URL = "http://127.0.0.1:9/servicoweb"
    with pytest.raises(GatewayUnavailable) as info:
        gateway().issue(charge_request())
    assert info.value.maybe_sent is False


# --- what Mycontas does not offer, and the return POST -------------------------------------------
def test_unsupported_operations():
    adapter = gateway()
    assert adapter.supports_lookup is False
    with pytest.raises(OperationUnsupported, match="Mycontas panel"):
        adapter.cancel("1234")
    with pytest.raises(OperationUnsupported):
        adapter.find_charges(reference="T", due_from=due_in(0), due_to=due_in(1))
    with pytest.raises(OperationUnsupported):
        adapter.list_paid_charges(paid_from=due_in(0), paid_to=due_in(1))
    with pytest.raises(OperationUnsupported):
        adapter.fetch_payment("x")


def test_return_accepts_txt_numero():
    parsed = gateway().parse_notification(
        {"txtNumero": "77", "txtReferencia": "T-1", "txtCod_cliente": MYCONTAS_CODE, "txtCod_senha": "x"}
    )
    assert parsed.charge_number == "77"
    assert parsed.charge_url == ""


def test_return_without_number_or_credentials_is_invalid():
    with pytest.raises(NotificationInvalid) as info:
        gateway().parse_notification({"txtReferencia": "T-1"})
    assert set(info.value.errors) == {"cobrancaID", "txtCod_cliente", "txtCod_senha"}
