"""Reads of the provider's settings."""

from __future__ import annotations

from providers.models import Provider


def provider_settings() -> Provider:
    """The provider's row (one is expected), or an unsaved one holding the defaults when none exists.

    The collection cycle reads its figures (days before the due date to bill, block after, trust
    unblock days, RADIUS groups) from here, so a fresh installation works with the documented defaults.
    """
    return Provider.objects.order_by("pk").first() or Provider(name="")


def current_provider() -> Provider | None:
    """The ISP (one row expected): its name heads the portal, the printed boleto and every reminder."""
    return Provider.objects.order_by("id").first()
