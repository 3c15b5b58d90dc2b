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


def _juno_class() -> type:
    from gateways.juno.adapter import JunoGateway

    return JunoGateway


def _mycontas_class() -> type:
    from gateways.mycontas.adapter import MycontasGateway

    return MycontasGateway


def _asaas_class() -> type:
    from gateways.asaas.adapter import AsaasGateway

    return AsaasGateway


#: The adapter classes, for what they declare without an account (options, description rules).
_CLASSES = {JUNO: _juno_class, MYCONTAS: _mycontas_class, ASAAS: _asaas_class}
#: For a gateway that declares nothing: no length limit known, tags expanded by billing, and none
#: in a carnê (whether it prints one description on every installment is not known).
UNDECLARED_RULES = DescriptionRules(carne_tags=False)


def _declared(gateway: str, name: str, default: object) -> object:
    factory = _CLASSES.get(gateway)
    return getattr(factory(), name, default) if factory else default


def description_rules(gateway: str) -> DescriptionRules:
    """What ``gateway`` prints of a charge's description, as its adapter declares (no config needed:
    billing checks a description when the charge is created, long before it is sent)."""
    rules = _declared(gateway, "description_rules", UNDECLARED_RULES)
    return rules if isinstance(rules, DescriptionRules) else UNDECLARED_RULES


def offers_month_end_carnes(gateway: str) -> bool:
    """Whether ``gateway`` can put a carnê's later installments on each month's last day."""
    return _declared(gateway, "month_end_carnes", False) is True


def offers_contra_apresentacao(gateway: str) -> bool:
    """Whether ``gateway`` can issue a boleto with no payment deadline (contra-apresentação)."""
    return _declared(gateway, "contra_apresentacao", False) is True


def supports_listing(gateway: str) -> bool:
    """Whether ``gateway`` can list its charges (and so be reconciled and looked up)."""
    return _declared(gateway, "supports_lookup", False) is True
