"""A local Boleto Fácil (API v1) for tests, the demo and benchmarks. Never used in production.

Same paths and wire format as the real API (``/boletofacil/integration/api/v1/<endpoint>``), the
the same validation as the real service (see docs/gateways.md), state per token, and control routes:

- ``POST /_sim/pay`` ``{code, amount?, status?, payment_token?, notify?, duplicate?, delay_ms?}``:
  a payment (``CONFIRMED`` by default) with a random ``paymentToken``, notified to the charge's
  ``notificationUrl`` in the background; with ``payment_token`` it changes that payment's status
  (e.g. ``CUSTOMER_PAID_BACK``) and notifies again.
- ``POST /_sim/faults`` ``{latency_ms, fail_rate, drop_rate, duplicate_notifications,
  notification_delay_ms, fail_next, drop_next, throttle_next}``, ``GET /_sim/charges``,
  ``GET /_sim/notifications``, ``POST /_sim/reset``.
- ``GET|POST /_sim/mode`` ``{mode, page_size}``: how close to the real service it answers (below).

Modes (:data:`MODES`): ``strict``, the default, answers as the SDK fixtures show the service does:
bodies start with a UTF-8 byte-order mark; the optional ``reference``, ``checkoutUrl``,
``billetDetails`` and ``installmentLink`` are absent; ``payNumber`` is formatted with dots and
spaces; amounts below R$ 2,50 are refused; ``list-charges`` without a begin date is refused.
``lenient`` does none of that; ``bom``, ``sparse``, ``formatted``, ``minimum`` and ``dates`` do
one each, so that a test can tell which strictness an adapter copes with. ``page_size`` > 0 splits
``list-charges`` answers into pages (``hasMore``, ``page``), which API v1 does not document.

Run ``python manage.py runsimulator juno --port 8101`` or :func:`start_in_thread` in tests.
"""

from __future__ import annotations

import calendar
import datetime as dt
import html
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from core.dates import today
from core.documents import digits, is_valid_document
from gateways.brazil import barcode, linha_digitavel
from gateways.simulator_base import (
    Faults,
    Request,
    Response,
    SimulatorApp,
    SimulatorServer,
    post_form,
)
from gateways.simulator_base import start_in_thread as _start

API_PREFIX = "/boletofacil/integration/api/v1/"
DATE_FORMAT = "%d/%m/%Y"
LENIENT_MIN_AMOUNT, STRICT_MIN_AMOUNT = Decimal("2.30"), Decimal("2.50")
MAX_AMOUNT = Decimal("1000000.00")
BOM = "\ufeff".encode()
#: The answer the SDKs' fixtures show for a listing with no begin date (HTTP 400).
NO_BEGIN_DATE = "Favor informar a data de início de vencimento ou de pagamento"
BANK = "422"  # the bank code printed on simulated boletos (Safra, one of Juno's registrars)
NOTIFY_ATTEMPTS = 3


class Invalid(Exception):
    """A validation failure: answered as 400 ``{"success": false, "errorMessage": ...}``."""


@dataclass(frozen=True)
class Mode:
    """How strictly the simulator answers; :data:`MODES` names the useful combinations."""

    name: str
    bom: bool = False  # every answer starts with a UTF-8 byte-order mark
    sparse: bool = False  # reference, checkoutUrl, billetDetails and installmentLink absent
    formatted_pay_number: bool = False  # "42290.00007 00000.000000 ..." rather than 47 digits
    min_amount: Decimal = LENIENT_MIN_AMOUNT
    require_begin_date: bool = False  # list-charges needs beginDueDate or beginPaymentDate


MODES: dict[str, Mode] = {
    mode.name: mode
    for mode in (
        Mode("strict", True, True, True, STRICT_MIN_AMOUNT, True),
        Mode("lenient"),
        Mode("bom", bom=True),
        Mode("sparse", sparse=True),
        Mode("formatted", formatted_pay_number=True),
        Mode("minimum", min_amount=STRICT_MIN_AMOUNT),
        Mode("dates", require_begin_date=True),
    )
}
DEFAULT_MODE = "strict"


def mode_named(name: str) -> Mode:
    try:
        return MODES[name]
    except KeyError:
        raise ValueError(f"unknown Juno simulator mode {name!r}; one of {sorted(MODES)}") from None


def formatted_line(line: str) -> str:
    """A 47-digit linha digitável as printed: ``AAAAA.AAAAA BBBBB.BBBBBB CCCCC.CCCCCC D EEEE...``."""
    return (
        f"{line[0:5]}.{line[5:10]} {line[10:15]}.{line[15:21]} "
        f"{line[21:26]}.{line[26:32]} {line[32]} {line[33:47]}"
    )


@dataclass
class SimPayment:
    token: str
    id: int
    charge_code: int
    amount: Decimal
    date: dt.date
    fee: Decimal
    status: str = "CONFIRMED"
    type: str = "BOLETO"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "amount": float(self.amount),
            "date": self.date.strftime(DATE_FORMAT),
            "fee": float(self.fee),
            "type": self.type,
            "status": self.status,
        }


@dataclass
class SimCharge:
    code: int
    token: str
    reference: str
    amount: Decimal
    due_date: dt.date
    description: str
    payer_name: str
    payer_document: str
    notification_url: str
    installment: int
    installments: int
    carne_code: int
    base_url: str
    status: str = "ACTIVE"
    payments: list[SimPayment] = field(default_factory=list)

    @property
    def barcode(self) -> str:
        free_field = f"{self.code:025d}"[-25:]
        return barcode(bank=BANK, due_date=self.due_date, amount=self.amount, free_field=free_field)

    def as_json(self, *, with_payments: bool = False, mode: Mode = MODES["lenient"]) -> dict[str, Any]:
        code = self.barcode
        line = linha_digitavel(code)
        data: dict[str, Any] = {
            "code": self.code,
            "dueDate": self.due_date.strftime(DATE_FORMAT),
            "link": f"{self.base_url}/_sim/boleto/{self.code}",
            "payNumber": formatted_line(line) if mode.formatted_pay_number else line,
            "amount": float(self.amount),
            "status": self.status,
        }
        if not mode.sparse:
            data["reference"] = self.reference
            data["checkoutUrl"] = f"{self.base_url}/_sim/checkout/{self.code}"
            data["billetDetails"] = {
                "bankAccount": "0655/46480-8",
                "ourNumber": f"{self.code:011d}",
                "barcodeNumber": code,
                "portfolio": "9",
            }
            if self.installments > 1:
                data["installmentLink"] = f"{self.base_url}/_sim/carne/{self.carne_code}"
        if with_payments:  # a listing: what the charge was issued to, and its payments
            data["payer"] = {"name": self.payer_name, "cpfCnpj": self.payer_document}
            data["payments"] = [p.as_json() for p in self.payments]
        return data


def _ok(data: Any) -> Response:
    return Response.json({"success": True, "data": data})


def _with_bom(response: Response) -> Response:
    return Response(response.status, BOM + response.body, response.content_type, response.headers)


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, DATE_FORMAT).date()
    except ValueError:
        raise Invalid(f"Parâmetro {name} inválido: use o formato dd/MM/yyyy") from None


def _optional_date(form: dict[str, str], name: str) -> dt.date | None:
    return _date(form[name], name) if form.get(name) else None


def _decimal(value: str, name: str) -> Decimal:
    try:
        return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_DOWN)  # the API truncates
    except InvalidOperation:
        raise Invalid(f"Parâmetro {name} inválido") from None


def _int(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise Invalid(f"Parâmetro {name} inválido") from None
    if not low <= number <= high:
        raise Invalid(f"Parâmetro {name} deve estar entre {low} e {high}")
    return number


def _rate(form: dict[str, str], name: str) -> Decimal:
    value = _decimal(form.get(name) or "0", name)
    if not Decimal(0) <= value <= Decimal(20):
        raise Invalid(f"Parâmetro {name} deve estar entre 0.00 e 20.00")
    return value


class JunoSimulator(SimulatorApp):
    name = "juno"

    def __init__(
        self,
        faults: Faults | None = None,
        *,
        seed: int | None = None,
        mode: str = DEFAULT_MODE,
        page_size: int = 0,
    ) -> None:
        super().__init__(faults, seed=seed)
        self.mode = mode_named(mode)
        self.page_size = page_size
        self.reset_state()

    def reset_state(self) -> None:
        self.charges: dict[int, SimCharge] = {}
        self.payments: dict[str, SimPayment] = {}
        self.notifications: list[dict[str, Any]] = []
        self.next_code = 10_000_001 + self.random.randrange(1000) * 10_000
        self.next_payment_id = 5_000_001

    def reset(self) -> None:
        """Forget charges, payments and faults; the mode stays what it was started with."""
        super().reset()
        self.reset_state()

    # --- API routes ------------------------------------------------------------------------------
    def route(self, request: Request) -> Response:
        if not request.path.startswith(API_PREFIX):
            return self._page(request)
        endpoint = request.path[len(API_PREFIX) :].strip("/")
        handler = {
            "issue-charge": self.issue_charge,
            "cancel-charge": self.cancel_charge,
            "fetch-payment-details": self.fetch_payment_details,
            "list-charges": self.list_charges,
            "fetch-balance": self.fetch_balance,
        }.get(endpoint)
        if handler is None:
            return Response.json({"success": False, "errorMessage": "Recurso não encontrado"}, 404)
        try:
            response = handler(request.form)
        except Invalid as exc:
            response = Response.json({"success": False, "errorMessage": str(exc)}, 400)
        return _with_bom(response) if self.mode.bom else response

    def _token(self, form: dict[str, str]) -> str:
        token = (form.get("token") or "").strip()
        if not token:
            raise Invalid("Token inválido")
        return token

    def issue_charge(self, form: dict[str, str]) -> Response:
        token = self._token(form)
        description = form.get("description") or ""
        if not description.strip():
            raise Invalid("Parâmetro description é obrigatório")
        if len(description) > 400 or description.count("\n") > 3:
            raise Invalid("Parâmetro description deve ter no máximo 400 caracteres e 4 linhas")
        amount = _decimal(form.get("amount") or "", "amount")
        minimum = self.mode.min_amount
        if not minimum <= amount <= MAX_AMOUNT:
            shown = str(minimum).replace(".", ",")
            raise Invalid(f"Valor da cobrança deve estar entre R$ {shown} e R$ 1.000.000,00")
        due_date = _date(form.get("dueDate") or "", "dueDate")
        if due_date < today():
            raise Invalid("Data de vencimento não pode ser anterior à data atual")
        installments = _int(form.get("installments") or "1", "installments", 1, 24)
        _int(form.get("maxOverdueDays") or "0", "maxOverdueDays", 0, 29)
        _rate(form, "fine")
        _rate(form, "interest")
        name = (form.get("payerName") or "").strip()
        if not name or len(name) > 60:
            raise Invalid("Nome do pagador é obrigatório e deve ter no máximo 60 caracteres")
        if not is_valid_document(form.get("payerCpfCnpj") or ""):
            raise Invalid("CPF/CNPJ do pagador inválido")
        if len(form.get("reference") or "") > 255:
            raise Invalid("Parâmetro reference deve ter no máximo 255 caracteres")
        created = self._create(token, form, amount, due_date, installments, description, name)
        return _ok({"charges": [c.as_json(mode=self.mode) for c in created]})

    def _create(
        self,
        token: str,
        form: dict[str, str],
        amount: Decimal,
        due_date: dt.date,
        installments: int,
        description: str,
        name: str,
    ) -> list[SimCharge]:
        with self.lock:
            first = self.next_code
            self.next_code += installments
            created = [
                SimCharge(
                    code=first + i,
                    token=token,
                    reference=form.get("reference") or "",
                    amount=amount,
                    due_date=_add_months(due_date, i),
                    description=description,
                    payer_name=name,
                    payer_document=digits(form.get("payerCpfCnpj")),
                    notification_url=form.get("notificationUrl") or "",
                    installment=i + 1,
                    installments=installments,
                    carne_code=first,
                    base_url=self.base_url,
                )
                for i in range(installments)
            ]
            for charge in created:
                self.charges[charge.code] = charge
        return created

    def _owned(self, token: str, code: str) -> SimCharge:
        try:
            charge = self.charges.get(int(code))
        except ValueError:
            charge = None
        if charge is None or charge.token != token:
            raise Invalid("Cobrança inválida")
        return charge

    def cancel_charge(self, form: dict[str, str]) -> Response:
        token = self._token(form)
        with self.lock:
            charge = self._owned(token, form.get("code") or "")
            if any(p.status == "CONFIRMED" for p in charge.payments):
                raise Invalid("Cobrança já paga não pode ser cancelada")
            charge.status = "CANCELLED"
        return _ok(None)

    def fetch_payment_details(self, form: dict[str, str]) -> Response:
        payment = self.payments.get((form.get("paymentToken") or "").strip())
        if payment is None:
            raise Invalid("Token de pagamento inválido")
        charge = self.charges[payment.charge_code]
        data = payment.as_json()
        data["charge"] = {
            "code": charge.code,
            "amount": float(charge.amount),
            "dueDate": charge.due_date.strftime(DATE_FORMAT),
        }
        if not self.mode.sparse:
            data["charge"]["reference"] = charge.reference
        return _ok({"payment": data})

    def list_charges(self, form: dict[str, str]) -> Response:
        token = self._token(form)
        due = (_optional_date(form, "beginDueDate"), _optional_date(form, "endDueDate"))
        paid = (_optional_date(form, "beginPaymentDate"), _optional_date(form, "endPaymentDate"))
        if self.mode.require_begin_date and due[0] is None and paid[0] is None:
            raise Invalid(NO_BEGIN_DATE)
        with self.lock:
            mine = [c for c in self.charges.values() if c.token == token]
            found = [c for c in mine if _within(c.due_date, *due) and self._paid_within(c, *paid)]
            data = [
                c.as_json(with_payments=True, mode=self.mode) for c in sorted(found, key=lambda c: c.code)
            ]
        if self.page_size <= 0:
            return _ok({"charges": data})
        page = _int(form.get("page") or "1", "page", 1, 1_000_000)
        start = (page - 1) * self.page_size
        more = start + self.page_size < len(data)
        return _ok({"charges": data[start : start + self.page_size], "page": page, "hasMore": more})

    @staticmethod
    def _paid_within(charge: SimCharge, begin: dt.date | None, end: dt.date | None) -> bool:
        if begin is None and end is None:
            return True
        return any(p.status == "CONFIRMED" and _within(p.date, begin, end) for p in charge.payments)

    def fetch_balance(self, form: dict[str, str]) -> Response:
        token = self._token(form)
        with self.lock:
            paid = [
                p
                for c in self.charges.values()
                if c.token == token
                for p in c.payments
                if p.status == "CONFIRMED"
            ]
        balance = sum((p.amount - p.fee for p in paid), Decimal("0.00"))
        return _ok({"balance": float(balance), "withheldBalance": 0.0, "transferableBalance": float(balance)})

    def _page(self, request: Request) -> Response:
        """Boleto, checkout and carnê links answer a tiny page with a "simular pagamento" button."""
        code = request.path.rstrip("/").rsplit("/", 1)[-1]
        charge = self.charges.get(int(code)) if code.isdigit() else None
        if charge is None:
            return Response.html("<html><body><h1>Boleto Fácil (simulador)</h1></body></html>")
        line = linha_digitavel(charge.barcode)
        return Response.html(
            "<html><body><h1>Boleto Fácil (simulador)</h1>"
            f"<p>Cobrança {charge.code} · {html.escape(charge.reference)} · R$ {charge.amount} · "
            f"vencimento {charge.due_date.strftime(DATE_FORMAT)} · {charge.status}</p>"
            f"<p><code>{line}</code></p>"
            f'<form method="post" action="/_sim/pay"><input type="hidden" name="code" value="{charge.code}">'
            '<button type="submit">Simular pagamento</button></form></body></html>'
        )

    # --- control routes --------------------------------------------------------------------------
    def control(self, request: Request, action: str) -> Response:
        if action == "pay" and request.method == "POST":
            try:
                return Response.json(self.pay(request.json()))
            except Invalid as exc:
                return Response.json({"success": False, "errorMessage": str(exc)}, 400)
        if action == "charges":
            return Response.json(self.snapshot())
        if action == "notifications":
            with self.lock:
                return Response.json({"notifications": list(self.notifications)})
        if action == "mode":
            return self._mode_control(request)
        if action.startswith(("boleto/", "checkout/", "carne/")):
            return self._page(request)
        return super().control(request, action)

    def _mode_control(self, request: Request) -> Response:
        if request.method == "POST":
            values = request.json()
            try:
                with self.lock:
                    if values.get("mode"):
                        self.mode = mode_named(str(values["mode"]))
                    if values.get("page_size") is not None:
                        self.page_size = int(values["page_size"])
            except ValueError as exc:
                return Response.json({"error": str(exc)}, 400)
        return Response.json({"mode": self.mode.name, "page_size": self.page_size})

    def snapshot(self) -> dict[str, Any]:
        """Every charge, and counts per reference (a reference counted twice is a duplicate issue)."""
        with self.lock:
            charges = [
                {
                    **c.as_json(with_payments=True),
                    "reference": c.reference,
                    "token_tail": c.token[-4:],
                    "status": c.status,
                }
                for c in self.charges.values()
            ]
            requests = Counter(c.reference for c in self.charges.values() if c.installment == 1)
        return {
            "count": len(charges),
            "charges": charges,
            "counts_by_reference": dict(requests),
            "duplicates": sorted(ref for ref, n in requests.items() if n > 1),
            "requests_seen": self.requests_seen,
        }

    def pay(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create (or change) a payment and notify the charge's URL in the background."""
        with self.lock:
            payment, charge = self._payment_for(data)
            notification_url = charge.notification_url
        twice = bool(data.get("duplicate", self.faults.duplicate_notifications))
        delay_ms = int(data.get("delay_ms", self.faults.notification_delay_ms) or 0)
        form = {
            "paymentToken": payment.token,
            "chargeReference": charge.reference,
            "chargeCode": str(charge.code),
        }
        if notification_url and str(data.get("notify", True)).lower() not in ("false", "0", "no"):
            thread = threading.Thread(
                target=self._notify, args=(notification_url, form, 2 if twice else 1, delay_ms), daemon=True
            )
            thread.start()
        return {
            "paymentToken": payment.token,
            "payment": payment.as_json(),
            "notificationUrl": notification_url,
        }

    def _payment_for(self, data: dict[str, Any]) -> tuple[SimPayment, SimCharge]:
        """Caller holds the lock."""
        if data.get("payment_token"):
            payment = self.payments.get(str(data["payment_token"]))
            if payment is None:
                raise Invalid("Token de pagamento inválido")
            payment.status = str(data.get("status") or payment.status)
            return payment, self.charges[payment.charge_code]
        try:
            charge = self.charges[int(data.get("code") or 0)]
        except (KeyError, ValueError):
            raise Invalid("Cobrança inválida") from None
        amount = Decimal(str(data["amount"])) if data.get("amount") else charge.amount
        payment = SimPayment(
            token=secrets.token_hex(16).upper(),
            id=self.next_payment_id,
            charge_code=charge.code,
            amount=amount.quantize(Decimal("0.01")),
            date=today(),
            fee=Decimal("1.49"),
            status=str(data.get("status") or "CONFIRMED"),
        )
        self.next_payment_id += 1
        self.payments[payment.token] = payment
        charge.payments.append(payment)
        if payment.status == "CONFIRMED":
            charge.status = "PAID"
        return payment, charge

    def _notify(self, url: str, form: dict[str, str], times: int, delay_ms: int) -> None:
        """Like the real service: 200 means delivered; otherwise retry (here quickly, a few times)."""
        if delay_ms:
            time.sleep(delay_ms / 1000)
        for _copy in range(times):
            for attempt in range(NOTIFY_ATTEMPTS):
                status = post_form(url, form)
                with self.lock:
                    self.notifications.append(
                        {"url": url, "form": form, "status": status, "attempt": attempt + 1}
                    )
                if status == 200:
                    break
                time.sleep(0.2 * (attempt + 1))


def _within(day: dt.date, begin: dt.date | None, end: dt.date | None) -> bool:
    return (begin is None or day >= begin) and (end is None or day <= end)


def _add_months(day: dt.date, months: int) -> dt.date:
    """Monthly installments keep the day, clamped to the month's end (31 Jan → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def start_in_thread(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    seed: int | None = None,
    mode: str = DEFAULT_MODE,
    page_size: int = 0,
    **faults: Any,
) -> tuple[SimulatorServer, str]:
    """A running simulator for tests and benchmarks: ``(server, base_url)``; stop with ``server.shutdown()``.

    The adapter's base URL is ``base_url + API_PREFIX``; ``server.app`` is the :class:`JunoSimulator`.
    """
    app = JunoSimulator(Faults(**faults), seed=seed, mode=mode, page_size=page_size)
    return _start(app, host=host, port=port)
