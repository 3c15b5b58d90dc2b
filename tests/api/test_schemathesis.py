"""Schemathesis against the live server: generated requests to the notification endpoints.

No answer may be a 5xx, and every answer must conform to the published schema (status code, content
type, body). Half the generated requests are aimed at real bank accounts so that the deeper paths
run too. The intake never asks the gateway before answering; the processing task is run in the
server's thread as soon as a notification is queued, with Juno's URLs pointing at a closed loopback
port (every token is "gateway unavailable": retried later) or at the local simulator (every token is
unknown: rejected), and Asaas' likewise at a closed port or its simulator. Asaas webhooks to the
Asaas account carry its real token half the time (in both modes), so that generated events get past
the token and are processed, and malformed ones with the right token are still refused.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from gateways.asaas import simulator as asaas_simulator
from tests import factories
from tests.billing import notifications_support as support

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
juno_sim = support.juno_sim
juno_down = support.juno_down
EXAMPLES = 40


TOKEN_HEADER = "asaas-access-token"
ASAAS_TOKEN = factories.AsaasAccountFactory.webhook_token


@pytest.fixture
def accounts(db):
    juno = factories.JunoAccountFactory()
    mycontas = factories.MycontasAccountFactory()
    asaas = factories.AsaasAccountFactory()
    factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=juno), state="issued", gateway_code="1"
    )
    factories.ChargeFactory(customer=factories.CustomerFactory(bank_account=mycontas), state="issuing")
    factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=asaas), state="issued", gateway_code="pay_1"
    )
    return {"juno": juno.public_id, "mycontas": mycontas.public_id, "asaas": asaas.public_id}


@pytest.fixture
def asaas_down(settings) -> None:
    settings.ASAAS_BASE_URL = settings.ASAAS_SANDBOX_BASE_URL = support.closed_port_url()


@pytest.fixture
def asaas_sim(settings):
    server, base_url = asaas_simulator.start_in_thread()
    settings.ASAAS_BASE_URL = settings.ASAAS_SANDBOX_BASE_URL = base_url + asaas_simulator.API_PREFIX
    yield server.app
    server.shutdown()


processing_inline = support.processing_inline


#: 429 (over an intake limit) joins the statuses schema-valid data may get.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "429"]
            }
        }
    }
)


def run_schemathesis(base_url: str, public_ids: dict[str, str]) -> int:
    schema = schemathesis.openapi.from_url(base_url + "/api/schema/?format=json", config=CONFIG)
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        # Mostly the operation's own account (the deeper paths), sometimes another gateway's or none.
        # (hypothesis leans to the first of sampled_from's elements).
        own = [public_id for gateway, public_id in public_ids.items() if f"/{gateway}/" in operation.path]
        candidates = [*own, None, *public_ids.values()]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = st.tuples(
                operation.as_strategy(generation_mode=mode),
                st.sampled_from(candidates),
                st.sampled_from([True, False]),  # the real token first: hypothesis leans to it
            )

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(drawn=strategy)
            def check(drawn) -> None:
                nonlocal calls
                case, public_id, real_token = drawn
                if public_id is not None and "public_id" in (case.path_parameters or {}):
                    case.path_parameters["public_id"] = public_id
                if real_token and case.path.startswith("/api/notifications/asaas/"):
                    case.headers = {**(case.headers or {}), TOKEN_HEADER: ASAAS_TOKEN}
                response = case.call_and_validate(base_url=base_url)
                calls += 1
                assert response.status_code < 500, (case.path, response.status_code, response.text)

            check()
    return calls


def test_no_server_errors_and_answers_match_the_schema_with_the_gateway_down(
    live_server, accounts, juno_down, asaas_down, processing_inline
):
    assert run_schemathesis(live_server.url, accounts) > 100


def test_no_server_errors_and_answers_match_the_schema_with_the_simulator(
    live_server, accounts, juno_sim, asaas_sim, processing_inline
):
    assert run_schemathesis(live_server.url, accounts) > 100
