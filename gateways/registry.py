"""Maps a bank account's gateway choice to its adapter.

Billing calls :func:`get_gateway` per operation; settings are read at each call so that tests (and
a changed environment) point adapters at the simulators without a restart.
"""

from __future__ import annotations

from django.conf import settings

from gateways.base import ASAAS, JUNO, MYCONTAS, AccountConfig, DescriptionRules, ExchangeRecorder, Gateway


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


def _juno_rules() -> DescriptionRules:
    from gateways.juno.adapter import JunoGateway

    return JunoGateway.description_rules


def _mycontas_rules() -> DescriptionRules:
    from gateways.mycontas.adapter import MycontasGateway

    return MycontasGateway.description_rules


def _asaas_rules() -> DescriptionRules:
    from gateways.asaas.adapter import AsaasGateway

    return AsaasGateway.description_rules


_RULES = {JUNO: _juno_rules, MYCONTAS: _mycontas_rules, ASAAS: _asaas_rules}
#: For a gateway that declares nothing: no length limit known, tags expanded by billing, and none
#: in a carnê (whether it prints one description on every installment is not known).
UNDECLARED_RULES = DescriptionRules(carne_tags=False)


def description_rules(gateway: str) -> DescriptionRules:
    """What ``gateway`` prints of a charge's description, as its adapter declares (no config needed:
    billing checks a description when the charge is created, long before it is sent)."""
    rules = _RULES.get(gateway)
    return rules() if rules else UNDECLARED_RULES
