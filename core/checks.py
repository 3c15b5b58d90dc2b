"""System checks of this installation's configuration (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from core.addresses import is_local_url, url_host


@register(Tags.security, deploy=True)
def gateway_urls_are_public(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Production never talks to a simulator: every gateway service URL must be a public address."""
    if not getattr(settings, "PRODUCTION", False):
        return []
    errors: list[CheckMessage] = []
    for name in getattr(settings, "GATEWAY_URL_SETTINGS", []):
        url = str(getattr(settings, name, "") or "")
        if is_local_url(url):
            errors.append(
                Error(
                    f"{name} points at a loopback or private address ({url_host(url) or 'no host'}) "
                    "under production settings.",
                    hint=f"Unset {name} to use the real service, or set it to the gateway's public URL.",
                    id="cobranca.E001",
                )
            )
    return errors
