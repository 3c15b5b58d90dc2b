"""Simulators on loopback, a recorder that keeps exchanges, and a tiny receiver for inbound POSTs."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gateways.asaas import simulator as asaas_simulator
from gateways.base import AccountConfig, ChargeRequest, Exchange, Payer
from gateways.juno import simulator as juno_simulator
from gateways.mycontas import simulator as mycontas_simulator
from gateways.mycontas.adapter import today as sao_paulo_today

JUNO_TOKEN = "juno-production-token-0001"
JUNO_SANDBOX_TOKEN = "juno-sandbox-token-0002"
MYCONTAS_CODE = "KyU3Gp18fgU3TDFyidr9"
MYCONTAS_PASSWORD = "mycontas-secret-0003"
ASAAS_KEY = "$aact_prod_asaas-api-key-0004"
ASAAS_WEBHOOK_TOKEN = "asaas-webhook-token-0005"
SECRETS = (JUNO_TOKEN, JUNO_SANDBOX_TOKEN, MYCONTAS_PASSWORD, ASAAS_KEY, ASAAS_WEBHOOK_TOKEN)
PAYER_CPF = "52998224725"


class Recorder:
    """An ExchangeRecorder that keeps what it is given."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def __call__(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def juno_mode() -> str:
    """The simulator's strictness; a test parametrizes ``juno_mode`` to run in other modes."""
    return juno_simulator.DEFAULT_MODE


@pytest.fixture
def juno_sim(settings, juno_mode: str) -> Iterator[juno_simulator.JunoSimulator]:
    """A Juno simulator (strict unless ``juno_mode`` says otherwise); both base URLs point at it."""
    server, base_url = juno_simulator.start_in_thread(mode=juno_mode)
    settings.JUNO_BASE_URL = base_url + juno_simulator.API_PREFIX
    settings.JUNO_SANDBOX_BASE_URL = base_url + juno_simulator.API_PREFIX
    app = server.app
    assert isinstance(app, juno_simulator.JunoSimulator)
    yield app
    server.shutdown()


@pytest.fixture
def mycontas_sim(settings) -> Iterator[mycontas_simulator.MycontasSimulator]:
    server, base_url = mycontas_simulator.start_in_thread()
    settings.MYCONTAS_URL = base_url + "/servicoweb"
    app = server.app
    assert isinstance(app, mycontas_simulator.MycontasSimulator)
    yield app
    server.shutdown()


@pytest.fixture
def asaas_sim() -> Iterator[asaas_simulator.AsaasSimulator]:
    """An Asaas simulator; ``asaas_sim.api_url`` is the adapter's base URL."""
    server, base_url = asaas_simulator.start_in_thread()
    app = server.app
    assert isinstance(app, asaas_simulator.AsaasSimulator)
    app.api_url = base_url + asaas_simulator.API_PREFIX  # type: ignore[attr-defined]
    yield app
    server.shutdown()


class Receiver:
    """Collects form POSTs (notifications, Mycontas returns) and answers with ``status``."""

    def __init__(self) -> None:
        self.posts: list[dict[str, str]] = []  # every POST (a JSON one as {}, see json_posts)
        self.json_posts: list[tuple[dict[str, object], dict[str, str]]] = []  # (body, headers)
        self.status = 200
        self.arrived = threading.Event()
        self.url = ""

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, str]]:
        deadline = dt.datetime.now() + dt.timedelta(seconds=timeout)
        while len(self.posts) < count and dt.datetime.now() < deadline:
            self.arrived.wait(0.05)
        return self.posts


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    received = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                received.json_posts.append((json.loads(body), dict(self.headers.items())))
                received.posts.append({})
            else:
                received.posts.append(dict(urllib.parse.parse_qsl(body, keep_blank_values=True)))
            received.arrived.set()
            self.send_response(received.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    received.url = f"http://127.0.0.1:{server.server_address[1]}/notify/"
    yield received
    server.shutdown()
    server.server_close()


def sim_json(answer: Any) -> Any:
    """A simulator's JSON answer, byte-order mark or not (``requests`` refuses a BOM in ``.json()``)."""
    return json.loads(answer.content.decode("utf-8-sig"))


# --- builders ------------------------------------------------------------------------------------
def juno_config(**overrides: object) -> AccountConfig:
    values: dict[str, object] = {
        "gateway": "juno",
        "sandbox": False,
        "token": JUNO_TOKEN,
        "notification_url": "http://127.0.0.1:9/api/notifications/juno/abc/",
        "max_overdue_days": 10,
        "fine_percent": Decimal("2.00"),
        "daily_interest_percent": Decimal("0.033"),
        "account_id": 7,
    }
    values.update(overrides)
    return AccountConfig(**values)  # type: ignore[arg-type]


def mycontas_config(**overrides: object) -> AccountConfig:
    values: dict[str, object] = {
        "gateway": "mycontas",
        "sandbox": False,
        "account_code": MYCONTAS_CODE,
        "password": MYCONTAS_PASSWORD,
        "max_overdue_days": 10,
        "fine_percent": Decimal("2.00"),
        "daily_interest_percent": Decimal("0.03"),
        "account_id": 8,
    }
    values.update(overrides)
    return AccountConfig(**values)  # type: ignore[arg-type]


def asaas_config(**overrides: object) -> AccountConfig:
    values: dict[str, object] = {
        "gateway": "asaas",
        "sandbox": False,
        "token": ASAAS_KEY,
        "webhook_token": ASAAS_WEBHOOK_TOKEN,
        "billing_type": "BOLETO",
        "max_overdue_days": 10,
        "fine_percent": Decimal("2.00"),
        "daily_interest_percent": Decimal("0.033"),
        "account_id": 9,
    }
    values.update(overrides)
    return AccountConfig(**values)  # type: ignore[arg-type]


def payer(**overrides: object) -> Payer:
    values: dict[str, object] = {
        "name": "Maria da Silva",
        "document": "529.982.247-25",
        "email": "maria@example.com",
        "phone": "(16) 3333-4444",
        "street": "Rua do Rio",
        "number": "127",
        "complement": "casa 2",
        "neighborhood": "Jardim das Vilas",
        "city": "São Carlos",
        "state": "sp",
        "postcode": "13560-000",
    }
    values.update(overrides)
    return Payer(**values)  # type: ignore[arg-type]


def due_in(days: int) -> dt.date:
    return sao_paulo_today() + dt.timedelta(days=days)


def charge_request(**overrides: object) -> ChargeRequest:
    values: dict[str, object] = {
        "reference": "T-0123456789ABCDEF",
        "amount": Decimal("50.00"),
        "due_date": due_in(10),
        "description_lines": ("Internet 100 Mb", "Mensalidade 11/2026"),
        "payer": payer(),
    }
    values.update(overrides)
    return ChargeRequest(**values)  # type: ignore[arg-type]


def assert_no_secret(exchanges: list[Exchange], text: str = "") -> None:
    """No secret in any exchange field that is stored or shown, nor in ``text`` (captured logs)."""
    for exchange in exchanges:
        stored = " ".join(
            [
                exchange.url,
                repr(dict(exchange.request_params)),
                exchange.response_body,
                exchange.error_message,
            ]
        )
        for secret in SECRETS:
            assert secret not in stored, (secret, exchange)
    for secret in SECRETS:
        assert secret not in text
