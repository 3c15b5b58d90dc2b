"""``python manage.py runsimulator juno|mycontas|asaas --port N``: a gateway simulator as a process.

For the demo and benchmarks; tests start simulators in a thread instead. Stops on Ctrl-C.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gateways.simulator_base import Faults, SimulatorApp, SimulatorServer

DEFAULT_PORTS = {"juno": 8101, "mycontas": 8102, "asaas": 8103}


def build_app(name: str, faults: Faults, *, mode: str = "", page_size: int = 0) -> SimulatorApp:
    if name == "juno":
        from gateways.juno.simulator import DEFAULT_MODE, JunoSimulator

        try:
            return JunoSimulator(faults, mode=mode or DEFAULT_MODE, page_size=page_size)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    if mode or page_size:
        raise CommandError("--mode and --page-size are for the juno simulator only.")
    if name == "asaas":
        from gateways.asaas.simulator import AsaasSimulator

        return AsaasSimulator(faults)
    from gateways.mycontas.simulator import MycontasSimulator

    return MycontasSimulator(faults)


def add_account(app: SimulatorApp, spec: str) -> None:
    """``CODE:PASSWORD[:RETURN_URL]`` (the URL may itself contain colons)."""
    from gateways.mycontas.simulator import MycontasSimulator

    if not isinstance(app, MycontasSimulator):
        raise CommandError("--account is for the mycontas simulator only.")
    code, _, rest = spec.partition(":")
    password, _, return_url = rest.partition(":")
    if not code or not password:
        raise CommandError("--account needs CODE:PASSWORD[:RETURN_URL].")
    app.add_account(code, password, return_url)


def add_webhook(app: SimulatorApp, spec: str) -> None:
    """``API_KEY:WEBHOOK_TOKEN:URL`` (the URL may itself contain colons; the token may be empty)."""
    from gateways.asaas.simulator import AsaasSimulator

    if not isinstance(app, AsaasSimulator):
        raise CommandError("--webhook is for the asaas simulator only.")
    key, _, rest = spec.partition(":")
    token, _, url = rest.partition(":")
    if not key or not url.startswith(("http://", "https://")):
        raise CommandError("--webhook needs API_KEY:WEBHOOK_TOKEN:URL.")
    app.set_webhook(key, url, token)


class Command(BaseCommand):
    help = "Run a local simulator of a payment gateway (never in production)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("gateway", choices=sorted(DEFAULT_PORTS))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, default=None, help="8101 for juno, 8102 for mycontas, 8103 for asaas"
        )
        parser.add_argument("--latency-ms", type=int, default=0, help="added to every gateway request")
        parser.add_argument("--fail-rate", type=float, default=0.0, help="share of HTTP 500 answers, 0..1")
        parser.add_argument(
            "--drop-rate", type=float, default=0.0, help="share of requests processed but left unanswered"
        )
        parser.add_argument("--duplicate-notifications", action="store_true")
        parser.add_argument("--notification-delay-ms", type=int, default=0)
        parser.add_argument(
            "--mode",
            default="",
            help="juno only: strict (default: as the real service answers), lenient, bom, sparse, "
            "formatted, minimum or dates",
        )
        parser.add_argument(
            "--page-size", type=int, default=0, help="juno only: split list-charges answers into pages"
        )
        parser.add_argument(
            "--account",
            action="append",
            default=[],
            metavar="CODE:PASSWORD[:RETURN_URL]",
            help="mycontas only: an account the simulator accepts (repeatable)",
        )
        parser.add_argument(
            "--webhook",
            action="append",
            default=[],
            metavar="API_KEY:WEBHOOK_TOKEN:URL",
            help="asaas only: where that account's payment events are POSTed (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        faults = Faults(
            latency_ms=options["latency_ms"],
            fail_rate=options["fail_rate"],
            drop_rate=options["drop_rate"],
            duplicate_notifications=options["duplicate_notifications"],
            notification_delay_ms=options["notification_delay_ms"],
        )
        name = options["gateway"]
        port = options["port"] if options["port"] is not None else DEFAULT_PORTS[name]
        app = build_app(name, faults, mode=options["mode"], page_size=options["page_size"])
        for account in options["account"]:
            add_account(app, account)
        for webhook in options["webhook"]:
            add_webhook(app, webhook)
        server = SimulatorServer((options["host"], port), app)
        mode = getattr(app, "mode", None)
        shown = f"mode {mode.name}, " if mode is not None else ""
        self.stdout.write(f"{name} simulator on {app.base_url} ({shown}{faults}); Ctrl-C to stop")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
