"""Throttling answers (HTTP 429 and "too many requests" messages) are retried, never refusals."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest
import responses

from gateways.base import GatewayRejected, GatewayUnavailable
from gateways.juno.adapter import JunoGateway
from gateways.mycontas.adapter import MycontasGateway
from gateways.simulator_base import THROTTLE_RETRY_AFTER_SECONDS
from tests.gateways.conftest import (
    MYCONTAS_CODE,
    MYCONTAS_PASSWORD,
    Recorder,
    charge_request,
    juno_config,
    mycontas_config,
)

JUNO_URL = "https://juno.test/boletofacil/integration/api/v1/"
MYCONTAS_URL = "https://mycontas.test/servicoweb"


def juno(recorder: Recorder | None = None) -> JunoGateway:
    return JunoGateway(juno_config(), base_url=JUNO_URL, recorder=recorder)


@responses.activate
def test_http_429_is_unavailable_unsent_and_says_when_to_come_back(recorder):
    responses.post(JUNO_URL + "issue-charge", status=429, headers={"Retry-After": "30"}, json={})
    with pytest.raises(GatewayUnavailable) as info:
        juno(recorder).issue(charge_request())
    error = info.value
    assert (error.throttled, error.maybe_sent, error.retry_after) == (True, False, 30.0)
    assert error.status_code == 429
    assert recorder.exchanges[0].outcome == "unavailable"


@responses.activate
@pytest.mark.parametrize("retry_after", ["Wed, 21 Oct 2015 07:28:00 GMT", "soon", "-5", ""])
def test_a_retry_after_we_cannot_use_leaves_it_to_the_backoff(retry_after):
    responses.post(JUNO_URL + "cancel-charge", status=429, headers={"Retry-After": retry_after}, body="")
    with pytest.raises(GatewayUnavailable) as info:
        juno().cancel("123")
    assert info.value.throttled and info.value.retry_after is None


@responses.activate
def test_a_retry_after_given_as_an_http_date_is_the_seconds_until_then():
    when = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90), usegmt=True)
    responses.post(JUNO_URL + "cancel-charge", status=429, headers={"Retry-After": when}, body="")
    with pytest.raises(GatewayUnavailable) as info:
        juno().cancel("123")
    assert 80 <= info.value.retry_after <= 91


@responses.activate
@pytest.mark.parametrize("status", [400, 200])
@pytest.mark.parametrize(
    "message",
    ["Limite de requisições excedido. Tente mais tarde.", "Too many requests", "Rate limit reached"],
)
def test_a_throttling_message_in_any_answer_is_not_a_refusal(status, message):
    responses.post(JUNO_URL + "list-charges", status=status, json={"success": False, "errorMessage": message})
    with pytest.raises(GatewayUnavailable) as info:
        juno().list_due(due_from=charge_request().due_date, due_to=charge_request().due_date)
    assert info.value.throttled and info.value.message == message


@responses.activate
def test_other_refusals_stay_refusals():
    refusal = {"success": False, "errorMessage": "Cobrança inválida"}
    responses.post(JUNO_URL + "cancel-charge", status=400, json=refusal)
    with pytest.raises(GatewayRejected):
        juno().cancel("123")


@responses.activate
def test_mycontas_429_and_throttling_page_are_unavailable():
    adapter = MycontasGateway(mycontas_config(), url=MYCONTAS_URL)
    responses.post(MYCONTAS_URL, status=429, body="")
    with pytest.raises(GatewayUnavailable) as info:
        adapter.issue(charge_request())
    assert info.value.throttled
    responses.replace(
        responses.POST,
        MYCONTAS_URL,
        body="<html><body><div class='alert erro'>Muitas requisições: aguarde</div></body></html>",
        content_type="text/html",
    )
    with pytest.raises(GatewayUnavailable) as info:
        adapter.issue(charge_request())
    assert info.value.throttled


def test_simulators_throttle_on_request(juno_sim, mycontas_sim, settings):
    juno_sim.faults.throttle_next = 1
    adapter = JunoGateway(juno_config(), base_url=settings.JUNO_BASE_URL)
    with pytest.raises(GatewayUnavailable) as info:
        adapter.issue(charge_request())
    assert (info.value.throttled, info.value.retry_after) == (True, THROTTLE_RETRY_AFTER_SECONDS)
    assert juno_sim.snapshot()["count"] == 0
    assert adapter.issue(charge_request()).charges
    mycontas_sim.add_account(MYCONTAS_CODE, MYCONTAS_PASSWORD)
    mycontas_sim.faults.throttle_next = 1
    with pytest.raises(GatewayUnavailable) as info:
        MycontasGateway(mycontas_config(), url=settings.MYCONTAS_URL).issue(charge_request())
    assert info.value.throttled and mycontas_sim.snapshot()["count"] == 0
