"""App configs of packages whose names the admin shows: ours in Portuguese, with the product's brand."""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.contrib.admin import options
from django.contrib.admin.apps import AdminConfig
from django.db import models
from django.utils.translation import gettext_lazy as _


class CobrancaAdminConfig(AdminConfig):
    """Django's admin with :class:`config.admin_site.CobrancaAdminSite` as ``admin.site``.

    Every admin form shows and accepts numbers the Brazilian way (79,90 and 0,033; 79.90 is still
    understood): Django's defaults for model fields are extended before the admins are registered,
    so every ModelAdmin, ours or a library's, gets localized number inputs without opting in.
    """

    default_site = "config.admin_site.CobrancaAdminSite"

    def ready(self) -> None:
        for field in (models.DecimalField, models.FloatField):
            options.FORMFIELD_FOR_DBFIELD_DEFAULTS.setdefault(field, {})["localize"] = True
        super().ready()


class AxesConfig(AxesAppConfig):
    """django-axes under a section name staff understand (its own is the bare "Axes")."""

    verbose_name = _("Login lockouts")
