"""Maps a bank account's gateway choice to its adapter.

Billing calls :func:`get_gateway` per operation; settings are read at each call so that tests (and
a changed environment) point adapters at the simulators without a restart.
"""

from __future__ import annotations

from django.conf import settings

from gateways.base import ASAAS, JUNO, MYCONTAS, AccountConfig, ExchangeRecorder, Gateway


def _juno(config: AccountConfig, recorder: ExchangeRecorder | None) -> Gateway:
    from gateways.juno.adapter import JunoGateway

    base_url = settings.JUNO_SANDBOX_BASE_URL if config.sandbox else settings.JUNO_BASE_URL
    return JunoGateway(config, base_url=base_url, recorder=recorder)


def _mycontas(config: AccountConfig, recorder: ExchangeRecorder | None) -> Gateway:
    from gateways.mycontas.adapter import MycontasGateway

    return MycontasGateway(config, url=settings.MYCONTAS_URL, recorder=recorder)


def _asaas(config: AccountConfig, recorder: ExchangeRecorder | None) -> Gateway:
    from gateways.asaas.adapter import AsaasGateway

    base_url = settings.ASAAS_SANDBOX_BASE_URL if config.sandbox else settings.ASAAS_BASE_URL
    return AsaasGateway(config, base_url=base_url, recorder=recorder)


_FACTORIES = {JUNO: _juno, MYCONTAS: _mycontas, ASAAS: _asaas}


def get_gateway(config: AccountConfig, recorder: ExchangeRecorder | None = None) -> Gateway:
    """The adapter for ``config.gateway``; an unknown name is a programming error (ValueError)."""
    try:
        factory = _FACTORIES[config.gateway]
    except KeyError:
        raise ValueError(
            f"Unknown gateway {config.gateway!r}; expected one of {sorted(_FACTORIES)}"
        ) from None
    return factory(config, recorder)
