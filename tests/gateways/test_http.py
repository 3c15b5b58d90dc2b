"""The HTTP layer: one redacted exchange per call, truncation, a recorder that fails, classification."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError

from gateways.base import GatewayRejected, GatewayUnavailable
from gateways.http import (
    FormPoster,
    HttpAnswer,
    JsonClient,
    Redactor,
    classify_transport_error,
    json_dumps,
    mask,
    session_for,
)
from tests.gateways.conftest import JUNO_TOKEN, Recorder

URL = "https://gateway.test/endpoint"


def poster(recorder=None) -> FormPoster:
    return FormPoster(
        "juno", recorder=recorder, account_id=3, secret_fields=("token",), masked_fields=("paymentToken",)
    )


def echo(answer: HttpAnswer) -> str:
    return answer.text


@responses.activate
def test_body_is_truncated_and_secrets_scrubbed(settings, recorder):
    settings.GATEWAY_LOG_BODY_LIMIT = 40
    responses.post(URL, body=f"echo {JUNO_TOKEN} " + "x" * 100)
    poster(recorder).post("endpoint", URL, {"token": JUNO_TOKEN, "a": "1"}, interpret=echo, reference="R")
    (exchange,) = recorder.exchanges
    assert len(exchange.response_body) <= 40
    assert JUNO_TOKEN not in exchange.response_body
    assert exchange.request_params == {"token": "***", "a": "1"}
    assert (exchange.reference, exchange.account_id, exchange.method) == ("R", 3, "POST")
    assert exchange.duration_ms >= 0


@responses.activate
def test_a_failing_recorder_never_breaks_the_call(caplog):
    def broken(exchange):
        raise RuntimeError(f"database down while saving {JUNO_TOKEN}")

    responses.post(URL, body="fine")
    caplog.set_level(logging.INFO)
    assert poster(broken).post("endpoint", URL, {"token": JUNO_TOKEN}, interpret=echo) == "fine"
    assert "recorder failed" in caplog.text
    assert JUNO_TOKEN not in caplog.text


@responses.activate
def test_errors_are_recorded_then_raised(recorder):
    def refuse(answer: HttpAnswer) -> str:
        raise GatewayRejected(f"no: {JUNO_TOKEN}")

    responses.post(URL, body="{}")
    with pytest.raises(GatewayRejected) as info:
        poster(recorder).post("endpoint", URL, {"token": JUNO_TOKEN}, interpret=refuse)
    assert recorder.exchanges[0].error_message == "no: ***"
    assert info.value.message == str(info.value) == "no: ***"


@responses.activate
def test_a_parser_crash_becomes_answer_invalid(recorder):
    responses.post(URL, body="{}")
    with pytest.raises(Exception) as info:
        poster(recorder).post("endpoint", URL, {}, interpret=lambda answer: {}["missing"])
    assert type(info.value).__name__ == "GatewayAnswerInvalid"
    assert recorder.exchanges[0].outcome == "invalid"


@responses.activate
def test_new_connection_error_was_not_sent(recorder):
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused")
    responses.post(URL, body=requests.exceptions.ConnectionError(MaxRetryError(None, URL, reason)))
    with pytest.raises(GatewayUnavailable) as info:
        poster(recorder).post("endpoint", URL, {}, interpret=echo)
    assert info.value.maybe_sent is False


def test_unknown_transport_errors_count_as_maybe_sent():
    assert classify_transport_error(requests.exceptions.RequestException("odd")).maybe_sent is True


def test_masking_and_redaction():
    assert mask("ABCDEFGH1234") == "***1234"
    assert mask("abc") == "***"
    redactor = Redactor({"token": "t0k3n-value", "paymentToken": "PAYTOKEN9876"}, ["token"], ["paymentToken"])
    assert redactor.params({"token": "t0k3n-value", "paymentToken": "PAYTOKEN9876", "x": "t0k3n-value"}) == {
        "token": "***",
        "paymentToken": "***9876",
        "x": "***",
    }
    assert redactor.text("token t0k3n-value and PAYTOKEN9876") == "token *** and ***"


@responses.activate
def test_sessions_are_pooled_per_gateway_and_refuse_cookies():
    session = session_for("juno")
    assert session is session_for("juno")
    assert session is not session_for("mycontas")
    adapter = session.get_adapter("https://x.test/")
    assert adapter._pool_maxsize >= 32  # noqa: SLF001 - the pool size is the point of this test
    responses.post(URL, body="ok", headers={"Set-Cookie": "PHPSESSID=account-a; Path=/"})
    poster().post("endpoint", URL, {}, interpret=echo)
    assert len(session.cookies) == 0


def test_recorder_type_is_callable():
    assert callable(Recorder())


# --- JSON ----------------------------------------------------------------------------------------
def test_json_dumps_writes_decimals_exactly_and_refuses_floats():
    body = {"value": Decimal("89.90"), "fine": {"value": Decimal("2")}, "n": 3, "ok": True, "s": "ção"}
    assert json_dumps(body) == '{"value":89.90,"fine":{"value":2},"n":3,"ok":true,"s":"ção"}'
    assert json.loads(json_dumps(body), parse_float=Decimal)["value"] == Decimal("89.90")
    with pytest.raises(TypeError):
        json_dumps({"value": 89.9})
    with pytest.raises(ValueError):
        json_dumps({"value": Decimal("NaN")})


@responses.activate
def test_json_client_records_method_query_and_body_without_the_key(recorder):
    key = "$aact_prod_secret-key-0009"
    responses.delete(URL, json={"deleted": True, "echo": key})
    client = JsonClient(
        "asaas",
        recorder=recorder,
        account_id=4,
        headers={"access_token": key},
        secret_headers=("access_token",),
    )
    answer = client.request(
        "DELETE",
        "payments/delete",
        URL,
        query={"q": "1"},
        body={"v": Decimal("1.50")},
        interpret=lambda a: a.text,
    )
    assert key in answer  # the caller gets the answer as it came
    (exchange,) = recorder.exchanges
    assert (exchange.method, exchange.endpoint, exchange.account_id) == ("DELETE", "payments/delete", 4)
    assert exchange.request_params == {"query": {"q": "1"}, "body": {"v": "1.50"}}
    assert key not in exchange.response_body and key not in repr(exchange)
    request = responses.calls[0].request
    assert request.headers["access_token"] == key and request.body == b'{"v":1.50}'
