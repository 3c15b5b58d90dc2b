"""Which links a gateway gives us may be stored and shown: :func:`gateway_link_allowed`.

A gateway's answers and notifications carry links (Juno's ``link``, ``checkoutUrl`` and
``installmentLink``, Mycontas' ``txtUrl``) that staff and subscribers click. A forged notification or a
compromised answer could point them anywhere, so a link is kept and rendered only when it is an
``https`` URL on one of the gateway's own domains (``JUNO_LINK_DOMAINS``, ``MYCONTAS_LINK_DOMAINS``,
gathered in ``settings.GATEWAY_LINK_DOMAINS``), or when it lies on the origin of one of the gateway's
configured service URLs that is itself loopback or private (the settings named in
``settings.GATEWAY_SERVICE_URL_SETTINGS``: the local simulators of development; production refuses
to start with such a gateway URL).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from core.addresses import is_local_url

_FORBIDDEN_CHARACTERS = frozenset(" \t\r\n\\\"'<>`")


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, parts.hostname, port or default


def gateway_link_allowed(gateway: str, url: str) -> bool:
    """True when ``url``, given by ``gateway`` ("juno", "mycontas", ...), may be stored and shown as a link.

    Allowed: ``https://`` on one of the gateway's domains or a subdomain of one (default port, no user
    name or password in it), or the exact origin of one of the gateway's configured service URLs when
    that URL is loopback or private (a simulator).
    Anything else (another host, ``http``, ``javascript:``, credentials, a gateway we do not know) is
    refused: callers keep such a value only as text for staff to read.
    """
    if not url or len(url) > 2000 or any(c in _FORBIDDEN_CHARACTERS or ord(c) < 32 for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return False
    origin = _origin(url)
    if origin is None:
        return False
    for name in settings.GATEWAY_SERVICE_URL_SETTINGS.get(gateway, ()):
        service_url = str(getattr(settings, name, "") or "")
        if is_local_url(service_url) and _origin(service_url) == origin:
            return True
    scheme, host, port = origin
    if scheme != "https" or port != 443:
        return False
    host = host.rstrip(".").lower()
    return any(
        host == domain or host.endswith("." + domain)
        for domain in (d.strip().lower().lstrip(".") for d in settings.GATEWAY_LINK_DOMAINS.get(gateway, ()))
        if domain
    )


def safe_gateway_link(gateway: str, url: str) -> str:
    """``url`` when :func:`gateway_link_allowed`, else an empty string (nothing to render)."""
    return url if gateway_link_allowed(gateway, url) else ""


def gateway_link_html(gateway: str, url: str) -> SafeString | str:
    """For staff pages: a link that opens in a new tab when allowed; otherwise the value as plain
    text with the reason it is not a link (staff see what the gateway sent, nobody can click it)."""
    if not url:
        return "-"
    if gateway_link_allowed(gateway, url):
        return format_html('<a href="{0}" target="_blank" rel="noopener noreferrer">{0}</a>', url)
    return format_html(
        '<span class="cobranca-refused-link">{}</span> ({})',
        url,
        _("not an https address of the gateway's own domains: not shown as a link"),
    )
