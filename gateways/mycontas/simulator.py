"""A local Mycontas servicoweb for tests, the demo and benchmarks. Never used in production.

``POST /servicoweb`` (and ``/servicosweb/index.php``, the manual's other URL) validates the form
with the manual's rules 1–10 and the account's credentials. The manual's test credentials
(``1234567890ABCDEFGHIJ`` / ``teste123``) validate everything and register nothing. Other accounts
are added with ``POST /_sim/accounts`` ``{code, password, return_url}``; a registered charge is
POSTed back to the account's return URL (every parameter plus ``txtUrl``, ``cobrancaID`` and
``txtReferencia``) *before* the HTML page is answered, as the manual says.

Control: ``POST /_sim/faults``, ``GET /_sim/charges``, ``GET /_sim/returns``, ``POST /_sim/reset``.
"""

from __future__ import annotations

import html
import secrets
import string
from collections import Counter
from dataclasses import dataclass
from typing import Any

from core.dates import today
from gateways.mycontas import rules
from gateways.mycontas.adapter import TEST_ACCOUNT_CODE, TEST_PASSWORD
from gateways.simulator_base import Faults, Request, Response, SimulatorApp, SimulatorServer, post_form
from gateways.simulator_base import start_in_thread as _start

SERVICE_PATHS = ("/servicoweb", "/servicoweb/", "/servicosweb/index.php", "/servicosweb/")
_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass
class Account:
    code: str
    password: str
    return_url: str = ""


def error_page(message: str) -> Response:
    return Response.html(
        "<html><head><title>Mycontas</title></head><body>"
        f'<div class="mensagem erro"><h2>Erro</h2><p>{html.escape(message)}</p></div>'
        "</body></html>"
    )


def success_page(number: int | None, url: str) -> Response:
    link = f'<p><a href="{html.escape(url)}">{html.escape(url)}</a></p>' if url else ""
    numbered = f"<p>Cobrança nº {number}</p>" if number is not None else ""
    return Response.html(
        "<html><head><title>Mycontas</title></head><body>"
        f'<div class="mensagem sucesso"><h2>Cobrança registrada com sucesso</h2>{numbered}{link}</div>'
        "</body></html>"
    )


class MycontasSimulator(SimulatorApp):
    name = "mycontas"

    def __init__(self, faults: Faults | None = None, *, seed: int | None = None) -> None:
        super().__init__(faults, seed=seed)
        self.reset_state()

    def reset_state(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.charges: list[dict[str, Any]] = []
        self.returns: list[dict[str, Any]] = []
        self.validated_only = 0
        self.next_number = 1001

    def reset(self) -> None:
        super().reset()
        self.reset_state()

    def add_account(self, code: str, password: str, return_url: str = "") -> None:
        with self.lock:
            self.accounts[code] = Account(code, password, return_url)

    # --- the service -----------------------------------------------------------------------------
    def route(self, request: Request) -> Response:
        if request.path.startswith("/cobranca"):
            return Response.html("<html><body><h1>Cobrança Mycontas (simulador)</h1></body></html>")
        if request.path not in SERVICE_PATHS:
            return Response.html("<html><body>Página não encontrada</body></html>", 404)
        if request.method != "POST":
            return error_page("Utilize o método POST.")
        form = request.form
        problems = rules.violations(form, today=today())
        if problems:
            return error_page(" ".join(problems))
        if form["txtCod_cliente"] == TEST_ACCOUNT_CODE and form["txtCod_senha"] == TEST_PASSWORD:
            with self.lock:
                self.validated_only += 1
            return success_page(None, "")
        with self.lock:
            account = self.accounts.get(form["txtCod_cliente"])
        if account is None or not secrets.compare_digest(account.password, form["txtCod_senha"]):
            return error_page("Código do cliente ou senha de cobrança inválidos.")
        number, url = self._register(account, form)
        if account.return_url:
            self._post_return(account, form, number, url)
        return success_page(number, url)

    def _register(self, account: Account, form: dict[str, str]) -> tuple[int, str]:
        token = "".join(self.random.choice(_ID_ALPHABET) for _ in range(10))
        url = f"{self.base_url}/cobranca/?id={token}"
        with self.lock:
            number = self.next_number
            self.next_number += 1
            safe = {k: v for k, v in form.items() if k != "txtCod_senha"}
            self.charges.append({"cobrancaID": number, "txtUrl": url, "account": account.code, "form": safe})
        return number, url

    def _post_return(self, account: Account, form: dict[str, str], number: int, url: str) -> None:
        """The return POST goes out before the page, synchronously; its failure does not undo the charge."""
        payload = {
            **form,
            "txtUrl": url,
            "cobrancaID": str(number),
            "txtReferencia": form.get("txtReferencia", ""),
        }
        status = post_form(account.return_url, payload)
        with self.lock:
            self.returns.append({"url": account.return_url, "cobrancaID": number, "status": status})

    # --- control ---------------------------------------------------------------------------------
    def control(self, request: Request, action: str) -> Response:
        if action == "accounts" and request.method == "POST":
            data = request.json()
            if not data.get("code") or not data.get("password"):
                return Response.json({"error": "code and password are required"}, 400)
            self.add_account(str(data["code"]), str(data["password"]), str(data.get("return_url") or ""))
            return Response.json({"ok": True})
        if action == "charges":
            return Response.json(self.snapshot())
        if action == "returns":
            with self.lock:
                return Response.json({"returns": list(self.returns)})
        return super().control(request, action)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            charges = list(self.charges)
            validated_only = self.validated_only
        counts = Counter(c["form"].get("txtReferencia", "") for c in charges)
        return {
            "count": len(charges),
            "charges": charges,
            "counts_by_reference": dict(counts),
            "duplicates": sorted(ref for ref, n in counts.items() if n > 1),
            "validated_only": validated_only,
            "requests_seen": self.requests_seen,
        }


def start_in_thread(
    port: int = 0, *, host: str = "127.0.0.1", seed: int | None = None, **faults: Any
) -> tuple[SimulatorServer, str]:
    """A running simulator: ``(server, base_url)``; the service URL is ``base_url + "/servicoweb"``."""
    return _start(MycontasSimulator(Faults(**faults), seed=seed), host=host, port=port)
