"""``python manage.py simulator_pay --code X``: "simular pagamento" on a running Juno simulator.

Asks the simulator's ``POST /_sim/pay``; the simulator then notifies the charge's URL.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Pay a charge on a running Juno simulator, which then POSTs the payment notification."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8101)
        parser.add_argument("--code", help="the charge code to pay")
        parser.add_argument("--payment-token", help="change this payment instead (e.g. to a refund status)")
        parser.add_argument("--amount", help="paid amount, e.g. 50.00 (default: the charge's)")
        parser.add_argument("--status", default=None, help="CONFIRMED (default), CUSTOMER_PAID_BACK, ...")
        parser.add_argument("--twice", action="store_true", help="send the notification twice")
        parser.add_argument("--delay-ms", type=int, default=0, help="wait before notifying")
        parser.add_argument("--no-notify", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["code"] and not options["payment_token"]:
            raise CommandError("Give --code or --payment-token.")
        payload = {
            "code": options["code"],
            "payment_token": options["payment_token"],
            "amount": options["amount"],
            "status": options["status"],
            "duplicate": options["twice"],
            "delay_ms": options["delay_ms"],
            "notify": not options["no_notify"],
        }
        url = f"http://{options['host']}:{options['port']}/_sim/pay"
        request = urllib.request.Request(  # noqa: S310 - a local simulator
            url,
            data=json.dumps({k: v for k, v in payload.items() if v is not None}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                self.stdout.write(answer.read().decode())
        except urllib.error.HTTPError as exc:
            raise CommandError(f"The simulator refused: {exc.read().decode()}") from exc
        except OSError as exc:
            raise CommandError(f"No simulator at {url}: {exc}") from exc
