from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GatewaysConfig(AppConfig):
    """Gateway adapters and simulators. Holds no model: gateways never know the database."""

    name = "gateways"
    verbose_name = _("Gateways")
