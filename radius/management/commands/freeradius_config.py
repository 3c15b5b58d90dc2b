"""``python manage.py freeradius_config --dir DIR [--port 1812] [--secret S] [--schema]``.

Writes a FreeRADIUS configuration that authenticates against ``RADIUS_DATABASE_URL`` (see
radius.freeradius) and, with ``--schema``, creates FreeRADIUS's standard tables in that database
when they are missing. Then start the server with ``freeradius -d DIR`` (``-X`` to watch it).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from radius import freeradius


class Command(BaseCommand):
    help = _("Write a FreeRADIUS configuration that reads users and groups from RADIUS_DATABASE_URL.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", required=True, help=_("Directory to write the configuration into."))
        parser.add_argument("--port", type=int, default=1812, help=_("Authentication port (UDP)."))
        parser.add_argument("--address", default="127.0.0.1", help=_("Address to listen on."))
        parser.add_argument(
            "--secret-env",
            default="RADIUS_SECRET",
            help=_("Environment variable holding the shared secret of the RADIUS client."),
        )
        parser.add_argument(
            "--schema", action="store_true", help=_("Create FreeRADIUS's tables when they are missing.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = settings.RADIUS_DATABASE_URL
        if not url:
            raise CommandError(_("RADIUS_DATABASE_URL is not set."))
        secret = os.environ.get(options["secret_env"], "")
        if not secret:
            raise CommandError(
                _("Set the client's shared secret in %(name)s.") % {"name": options["secret_env"]}
            )
        if options["schema"]:
            try:
                created = freeradius.ensure_schema(url)
            except (psycopg.Error, ValueError) as exc:
                raise CommandError(_("RADIUS database: %(error)s") % {"error": exc}) from None
            self.stdout.write(_("FreeRADIUS tables created.") if created else _("FreeRADIUS tables present."))
        path = freeradius.write_config(
            Path(options["dir"]),
            port=options["port"],
            secret=secret,
            database_url=url,
            address=options["address"],
        )
        daemon = freeradius.executable()
        if daemon:
            check = subprocess.run(  # noqa: S603 - our own config file, no shell
                [daemon, "-C", "-d", str(path.parent)], capture_output=True, text=True, check=False
            )
            if check.returncode != 0:
                raise CommandError(check.stdout[-2000:] + check.stderr[-2000:])
        self.stdout.write(_("FreeRADIUS configuration written to %(path)s") % {"path": path})
