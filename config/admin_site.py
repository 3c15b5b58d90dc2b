"""The staff site: branded with the provider's name (the product's until a provider is set)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import SafeLookupsAdminMixin
from providers.models import Provider

PRODUCT_NAME = "Cobrança"


def provider_name() -> str:
    """The provider's name (one row is expected; the first one wins), or "" when none is set."""
    return Provider.objects.order_by("id").values_list("name", flat=True).first() or ""


class CobrancaAdminSite(admin.AdminSite):
    site_header = PRODUCT_NAME
    site_title = PRODUCT_NAME
    index_title = _("Billing desk")
    #: No "Ver o site" link: this installation has no public site of its own (the subscriber
    #: portal is reached only through each subscriber's private link).
    site_url = None

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        """Every changelist answers bad filter values with the "invalid filter" redirect, never a 500."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SafeLookupsAdminMixin):
            admin_class = type(
                admin_class.__name__,
                (SafeLookupsAdminMixin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        name = provider_name()
        if name:
            context["site_header"] = name
            context["site_title"] = f"{name} · {PRODUCT_NAME}"
        return context
