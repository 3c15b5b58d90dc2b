"""``{{ charge.link|allowed_link:charge.bank_account.gateway }}``: the link when the gateway may give
it (core.links.gateway_link_allowed), else an empty string, so templates render it only then."""

from __future__ import annotations

from django import template

from core.links import safe_gateway_link

register = template.Library()


@register.filter
def allowed_link(url: str | None, gateway: str | None) -> str:
    return safe_gateway_link(gateway or "", url or "")
