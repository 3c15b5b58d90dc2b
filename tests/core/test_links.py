"""gateway_link_allowed: only https links of the gateway's own domains (or its configured service origin)."""

from __future__ import annotations

import pytest

from core.links import gateway_link_allowed, safe_gateway_link


@pytest.fixture(autouse=True)
def _gateways(settings):
    settings.GATEWAY_LINK_DOMAINS = {
        "juno": ["boletobancario.com", "juno.com.br"],
        "mycontas": ["mycontas.com.br"],
    }
    settings.GATEWAY_SERVICE_URL_SETTINGS = {
        "juno": ["JUNO_BASE_URL", "JUNO_SANDBOX_BASE_URL"],
        "mycontas": ["MYCONTAS_URL", "OTHER_MYCONTAS_URL"],
    }
    settings.JUNO_BASE_URL = "https://www.boletobancario.com/boletofacil/integration/api/v1/"
    settings.JUNO_SANDBOX_BASE_URL = "http://127.0.0.1:8101/api/"
    settings.MYCONTAS_URL = "http://127.0.0.1:8102/servicoweb"
    settings.OTHER_MYCONTAS_URL = "http://www.mycontas.com.br/servicoweb"


@pytest.mark.parametrize(
    ("gateway", "url"),
    [
        ("juno", "https://www.boletobancario.com/boletofacil/charge/boleto.pdf?token=abc"),
        ("juno", "https://sandbox.boletobancario.com/boletofacil/checkout/abc"),
        ("juno", "https://boletobancario.com/x"),
        ("juno", "https://pay.juno.com.br/installment/xyz"),
        ("juno", "https://WWW.BoletoBancario.com./x"),
        ("juno", "https://www.boletobancario.com:443/x"),
        ("juno", "http://127.0.0.1:8101/_sim/boleto/1"),  # the configured simulator's origin
        ("mycontas", "https://www.mycontas.com.br/cobranca/?id=9P8eyHrX3h"),
        ("mycontas", "http://127.0.0.1:8102/cobranca/?id=abc"),
    ],
)
def test_allowed(gateway, url):
    assert gateway_link_allowed(gateway, url)
    assert safe_gateway_link(gateway, url) == url


@pytest.mark.parametrize(
    ("gateway", "url"),
    [
        ("juno", ""),
        ("juno", "http://www.boletobancario.com/x"),  # not https
        ("mycontas", "http://www.mycontas.com.br/cobranca/?id=9P8eyHrX3h"),
        ("juno", "https://evil.example/boleto"),
        ("juno", "https://boletobancario.com.evil.example/x"),
        ("juno", "https://evilboletobancario.com/x"),
        ("juno", "https://www.boletobancario.com@evil.example/x"),
        ("juno", "https://user:pw@www.boletobancario.com/x"),
        ("juno", "https://www.boletobancario.com:8443/x"),
        ("juno", "javascript:alert(1)//www.boletobancario.com"),
        ("juno", "//www.boletobancario.com/x"),
        ("juno", "https:\\\\evil.example\\www.boletobancario.com"),
        ("juno", 'https://www.boletobancario.com/x" onmouseover="alert(1)'),
        ("juno", "https://www.boletobancario.com/\nx"),
        ("juno", "https://www.mycontas.com.br/x"),  # another gateway's domain
        ("mycontas", "https://www.boletobancario.com/x"),
        ("juno", "http://127.0.0.1:8102/cobranca/?id=abc"),  # Mycontas' simulator, not Juno's
        ("juno", "http://127.0.0.1:8101.evil/x"),
        ("juno", "https://[::1/x"),
        ("asaas", "https://www.boletobancario.com/x"),  # a gateway with no domains configured
        ("mycontas", "http://www.mycontas.com.br/servicoweb/x"),  # a public service origin is no exception
    ],
)
def test_refused(gateway, url):
    assert not gateway_link_allowed(gateway, url)
    assert safe_gateway_link(gateway, url) == ""


def test_domains_come_from_settings(settings):
    settings.GATEWAY_LINK_DOMAINS = {"juno": ["boletos.example"]}
    assert gateway_link_allowed("juno", "https://a.boletos.example/x")
    assert not gateway_link_allowed("juno", "https://pay.juno.com.br/x")


def test_default_settings_name_each_gateways_domains():
    from config import settings

    assert settings.GATEWAY_LINK_DOMAINS["juno"] == settings.JUNO_LINK_DOMAINS
    assert settings.GATEWAY_LINK_DOMAINS["mycontas"] == settings.MYCONTAS_LINK_DOMAINS
    assert settings.GATEWAY_SERVICE_URL_SETTINGS["mycontas"] == ["MYCONTAS_URL"]
    assert settings.GATEWAY_URL_SETTINGS == [
        "JUNO_BASE_URL",
        "JUNO_SANDBOX_BASE_URL",
        "MYCONTAS_URL",
        "ASAAS_BASE_URL",
        "ASAAS_SANDBOX_BASE_URL",
    ]


def test_a_simulator_moved_at_run_time_is_followed(settings):
    settings.JUNO_SANDBOX_BASE_URL = "http://127.0.0.1:45678/boletofacil/integration/api/v1/"
    assert gateway_link_allowed("juno", "http://127.0.0.1:45678/_sim/boleto/1")
    assert not gateway_link_allowed("juno", "http://127.0.0.1:8101/_sim/boleto/1")
