"""The registry picks the adapter and its URL from settings at call time."""

from __future__ import annotations

import pytest

from gateways.base import AccountConfig
from gateways.juno.adapter import JunoGateway
from gateways.mycontas.adapter import MycontasGateway
from gateways.registry import get_gateway
from tests.gateways.conftest import Recorder, juno_config, mycontas_config


def test_juno_production_and_sandbox_urls_come_from_settings(settings):
    settings.JUNO_BASE_URL = "https://prod.test/api/v1"
    settings.JUNO_SANDBOX_BASE_URL = "https://sandbox.test/api/v1/"
    production = get_gateway(juno_config(sandbox=False))
    sandbox = get_gateway(juno_config(sandbox=True))
    assert isinstance(production, JunoGateway) and isinstance(sandbox, JunoGateway)
    assert production.base_url == "https://prod.test/api/v1/"
    assert sandbox.base_url == "https://sandbox.test/api/v1/"
    assert production.supports_lookup is True


def test_mycontas_url_and_recorder(settings):
    settings.MYCONTAS_URL = "https://mycontas.test/servicosweb/index.php"
    recorder = Recorder()
    adapter = get_gateway(mycontas_config(), recorder)
    assert isinstance(adapter, MycontasGateway)
    assert adapter.url == "https://mycontas.test/servicosweb/index.php"
    assert adapter.http.recorder is recorder
    assert adapter.supports_lookup is False


def test_unknown_gateway_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown gateway"):
        get_gateway(AccountConfig(gateway="pagseguro", sandbox=False))
