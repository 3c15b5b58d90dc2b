"""``python manage.py radius_sync``: write every customer's current group into FreeRADIUS's radusergroup."""

from __future__ import annotations

from typing import Any

import psycopg
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from radius import services


class Command(BaseCommand):
    help = _("Write every customer's RADIUS group (plan or blocked) into RADIUS_DATABASE_URL.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not services.enabled():
            raise CommandError(_("RADIUS_DATABASE_URL is not set."))
        try:
            written = services.radius_sync_all()
        except (psycopg.Error, ValueError) as exc:
            raise CommandError(_("RADIUS database: %(error)s") % {"error": exc}) from None
        self.stdout.write(_("%(count)d group rows written.") % {"count": written})
