"""``python manage.py simulator_pay``: "simular pagamento" on a running simulator.

Juno: ``--code X`` (or ``--payment-token T --status S`` to change a payment). Asaas: ``--gateway
asaas --id pay_... --method PIX|BOLETO``. Asks the simulator's ``POST /_sim/pay``; the simulator
then notifies the charge's URL (Juno) or the account's webhook (Asaas).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Pay a charge on a running Juno or Asaas simulator, which then notifies the product."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--gateway", choices=("juno", "asaas"), default="juno")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=None, help="8101 for juno, 8103 for asaas")
        parser.add_argument("--code", help="juno: the charge code to pay")
        parser.add_argument("--id", dest="payment_id", help="asaas: the payment id (pay_...) to pay")
        parser.add_argument(
            "--method", choices=("PIX", "BOLETO"), default="PIX", help="asaas: how it is paid"
        )
        parser.add_argument("--payment-token", help="change this payment instead (e.g. to a refund status)")
        parser.add_argument("--amount", help="paid amount, e.g. 50.00 (default: the charge's)")
        parser.add_argument("--status", default=None, help="CONFIRMED (default), CUSTOMER_PAID_BACK, ...")
        parser.add_argument("--twice", action="store_true", help="send the notification twice")
        parser.add_argument("--delay-ms", type=int, default=0, help="wait before notifying")
        parser.add_argument("--no-notify", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        common = {
            "amount": options["amount"],
            "duplicate": options["twice"],
            "delay_ms": options["delay_ms"],
            "notify": not options["no_notify"],
        }
        if options["gateway"] == "asaas":
            if not options["payment_id"]:
                raise CommandError("Give --id (the Asaas payment id).")
            payload = {"id": options["payment_id"], "method": options["method"], **common}
            port = options["port"] or 8103
        else:
            if not options["code"] and not options["payment_token"]:
                raise CommandError("Give --code or --payment-token.")
            payload = {
                "code": options["code"],
                "payment_token": options["payment_token"],
                "status": options["status"],
                **common,
            }
            port = options["port"] or 8101
        url = f"http://{options['host']}:{port}/_sim/pay"
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
