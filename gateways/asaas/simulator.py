"""A local Asaas (API v3) for tests, the demo and benchmarks. Never used in production.

Same paths and wire format as the real API under ``/v3/`` (customers, payments with their
``identificationField`` and ``pixQrCode``, installment plans, ``DELETE``, paged lists,
``finance/balance``), the ``errors[].code/description`` bodies, the ``access_token`` header (any
non-empty key is an account; each key sees only its own customers and payments), a 403 for a GET
that carries a body, and webhooks sent as Asaas sends them: a JSON POST ``{id, event, dateCreated,
payment}`` with the account's token in the ``asaas-access-token`` header, retried until answered 200.

Control routes (JSON):

- ``POST /_sim/webhook`` ``{access_token, url, auth_token?, events?}``: where an account's events go.
- ``POST /_sim/pay`` ``{id, method: "PIX"|"BOLETO", amount?, notify?, duplicate?, delay_ms?}``: a
  payment by PIX (status ``RECEIVED``, event ``PAYMENT_RECEIVED``) or by boleto (``CONFIRMED`` then
  ``RECEIVED``: two events, as the bank confirms and then settles). The boleto and invoice pages
  served at the payment's ``bankSlipUrl`` and ``invoiceUrl`` have a button for each.
- ``POST /_sim/refund`` and ``POST /_sim/overdue`` ``{id}``: the payment refunded or overdue.
- ``POST /_sim/faults``, ``GET /_sim/faults``, ``GET /_sim/charges``, ``GET /_sim/notifications``,
  ``POST /_sim/reset``.

Run ``python manage.py runsimulator asaas --port 8103`` or :func:`start_in_thread` in tests.
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import html
import json
import secrets
import struct
import threading
import time
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from core.dates import SAO_PAULO
from core.documents import digits, is_valid_document
from gateways.brazil import barcode, linha_digitavel
from gateways.pix import dynamic_payload
from gateways.simulator_base import (
    Faults,
    Request,
    Response,
    SimulatorApp,
    SimulatorServer,
    post_json,
)
from gateways.simulator_base import start_in_thread as _start

API_PREFIX = "/v3/"
BANK = "461"  # the bank code printed on simulated boletos (Asaas IP's)
MIN_VALUE = Decimal("5.00")  # the smallest boleto the simulator issues
MAX_PAGE = 100
NOTIFY_ATTEMPTS = 3
FEE = {"BOLETO": Decimal("1.99"), "PIX": Decimal("1.99")}
DEFAULT_EVENTS = (
    "PAYMENT_CONFIRMED",
    "PAYMENT_RECEIVED",
    "PAYMENT_OVERDUE",
    "PAYMENT_DELETED",
    "PAYMENT_REFUNDED",
)
CENT = Decimal("0.01")


class Invalid(Exception):
    """A refusal: answered as ``{"errors": [{"code", "description"}]}`` with ``status``."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status


def _now() -> dt.datetime:
    return dt.datetime.now(SAO_PAULO)


def _money(value: Decimal) -> float:
    """JSON numbers as Asaas writes them (the adapter reads them back as Decimal)."""
    return float(value)


def _blank_png(size: int = 8) -> str:
    """A small white PNG, base64: where Asaas sends its QR image (the product draws its own)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff" * size for _ in range(size))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(png).decode()


QR_IMAGE = _blank_png()


@dataclass
class SimCustomer:
    id: str
    key: str
    name: str
    cpf_cnpj: str
    email: str
    data: dict[str, Any]
    created: dt.date

    def as_json(self) -> dict[str, Any]:
        return {
            "object": "customer",
            "id": self.id,
            "dateCreated": self.created.isoformat(),
            **self.data,
            "name": self.name,
            "cpfCnpj": self.cpf_cnpj,
            "email": self.email or None,
            "deleted": False,
        }


@dataclass
class SimPayment:
    id: str
    number: int
    key: str
    customer: str
    billing_type: str
    value: Decimal
    due_date: dt.date
    description: str
    external_reference: str
    fine: dict[str, Any]
    interest: dict[str, Any]
    installment: str
    installment_number: int | None
    base_url: str
    created: dt.date
    status: str = "PENDING"
    paid_by: str = ""
    payment_date: dt.date | None = None
    confirmed_date: dt.date | None = None
    deleted: bool = False

    @property
    def barcode(self) -> str:
        return barcode(bank=BANK, due_date=self.due_date, amount=self.value, free_field=f"{self.number:025d}")

    @property
    def nosso_numero(self) -> str:
        return f"{self.number:08d}"

    def net_value(self) -> Decimal:
        return self.value - FEE.get(self.paid_by or "BOLETO", Decimal("1.99"))

    def as_json(self) -> dict[str, Any]:
        paid = self.payment_date is not None
        return {
            "object": "payment",
            "id": self.id,
            "dateCreated": self.created.isoformat(),
            "customer": self.customer,
            "installment": self.installment or None,
            "paymentLink": None,
            "value": _money(self.value),
            "netValue": _money(self.net_value()),
            "originalValue": None,
            "interestValue": None,
            "description": self.description or None,
            "billingType": self.paid_by or self.billing_type,
            "canBePaidAfterDueDate": True,
            "pixTransaction": None,
            "status": self.status,
            "dueDate": self.due_date.isoformat(),
            "originalDueDate": self.due_date.isoformat(),
            "paymentDate": self.payment_date.isoformat() if paid and self.payment_date else None,
            "clientPaymentDate": self.payment_date.isoformat() if paid and self.payment_date else None,
            "confirmedDate": self.confirmed_date.isoformat() if self.confirmed_date else None,
            "installmentNumber": self.installment_number,
            "invoiceUrl": f"{self.base_url}/_sim/invoice/{self.id}",
            "invoiceNumber": f"{self.number:08d}",
            "externalReference": self.external_reference or None,
            "deleted": self.deleted,
            "anticipated": False,
            "anticipable": False,
            "creditDate": self.payment_date.isoformat()
            if self.status == "RECEIVED" and self.payment_date
            else None,
            "estimatedCreditDate": None,
            "transactionReceiptUrl": None,
            "nossoNumero": self.nosso_numero,
            "bankSlipUrl": f"{self.base_url}/_sim/boleto/{self.id}",
            "lastInvoiceViewedDate": None,
            "lastBankSlipViewedDate": None,
            "discount": {"value": 0, "limitDate": None, "dueDateLimitDays": 0, "type": "FIXED"},
            "fine": self.fine,
            "interest": self.interest,
            "postalService": False,
            "custody": None,
            "refunds": None,
        }


@dataclass
class Webhook:
    url: str
    auth_token: str
    events: tuple[str, ...] = DEFAULT_EVENTS


@dataclass
class Outbox:
    """Events waiting for delivery, per account, in order (one delivery thread each)."""

    pending: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    busy: bool = False


def _errors(code: str, description: str, status: int = 400) -> Response:
    return Response.json({"errors": [{"code": code, "description": description}]}, status)


def _date(value: Any, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise Invalid(f"invalid_{name}", f"O campo {name} deve estar no formato yyyy-MM-dd.") from None


def _number(value: Any, name: str) -> Decimal:
    """A JSON number (strings are refused, as a strict API refuses them)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise Invalid(f"invalid_{name}", f"O campo {name} deve ser numérico.")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise Invalid(f"invalid_{name}", f"O campo {name} deve ser numérico.") from None


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _within(day: dt.date | None, low: str | None, high: str | None) -> bool:
    if low is None and high is None:
        return True
    if day is None:
        return False
    return (low is None or day >= dt.date.fromisoformat(low)) and (
        high is None or day <= dt.date.fromisoformat(high)
    )


class AsaasSimulator(SimulatorApp):
    name = "asaas"

    def __init__(self, faults: Faults | None = None, *, seed: int | None = None) -> None:
        super().__init__(faults, seed=seed)
        self.reset_state()

    def reset_state(self) -> None:
        self.customers: dict[str, SimCustomer] = {}
        self.payments: dict[str, SimPayment] = {}
        self.webhooks: dict[str, Webhook] = {}
        self.outboxes: dict[str, Outbox] = {}
        self.notifications: list[dict[str, Any]] = []
        self.issue_requests: Counter[str] = Counter()
        self.next_number = 1
        self.next_event = 1

    def reset(self) -> None:
        super().reset()
        self.reset_state()

    # --- dispatch --------------------------------------------------------------------------------
    def route(self, request: Request) -> Response:
        if request.path.startswith(API_PREFIX):
            try:
                return self._api(request)
            except Invalid as exc:
                return _errors(exc.code, exc.description, exc.status)
        return _errors("not_found", "Recurso não encontrado.", 404)

    def _api(self, request: Request) -> Response:
        key = request.headers.get("access_token", "").strip()
        if not key:
            raise Invalid("invalid_access_token", "A chave de API fornecida é inválida.", 401)
        if request.method == "GET" and request.body.strip():
            raise Invalid("forbidden", "Requisições GET não podem ter corpo.", 403)
        body = self._json(request) if request.method == "POST" else {}
        parts = request.path[len(API_PREFIX) :].strip("/").split("/")
        match (request.method, parts):
            case ("POST", ["customers"]):
                return Response.json(self.create_customer(key, body))
            case ("GET", ["customers"]):
                return Response.json(self.list_customers(key, request.form))
            case ("GET", ["customers", customer_id]):
                return Response.json(self._customer(key, customer_id).as_json())
            case ("POST", ["payments"]):
                return Response.json(self.create_payment(key, body))
            case ("GET", ["payments"]):
                return Response.json(self.list_payments(key, request.form))
            case ("GET", ["payments", payment_id]):
                return Response.json(self._payment(key, payment_id, deleted_ok=True).as_json())
            case ("DELETE", ["payments", payment_id]):
                return Response.json(self.delete_payment(key, payment_id))
            case ("GET", ["payments", payment_id, "identificationField"]):
                return Response.json(self.identification_field(key, payment_id))
            case ("GET", ["payments", payment_id, "pixQrCode"]):
                return Response.json(self.pix_qr_code(key, payment_id))
            case ("GET", ["finance", "balance"]):
                return Response.json(self.balance(key))
        raise Invalid("not_found", "Recurso não encontrado.", 404)

    @staticmethod
    def _json(request: Request) -> dict[str, Any]:
        if "json" not in request.content_type:
            raise Invalid("invalid_content_type", "Envie o corpo em JSON (Content-Type: application/json).")
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise Invalid("invalid_json", "O corpo da requisição não é um JSON válido.") from None
        if not isinstance(data, dict):
            raise Invalid("invalid_json", "O corpo da requisição deve ser um objeto JSON.")
        return data

    # --- customers -------------------------------------------------------------------------------
    def create_customer(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        name = str(body.get("name") or "").strip()
        document = digits(str(body.get("cpfCnpj") or ""))
        if not name:
            raise Invalid("invalid_name", "O nome do cliente deve ser informado.")
        if not is_valid_document(document):
            raise Invalid("invalid_cpfCnpj", "O CPF/CNPJ informado é inválido.")
        kept = {
            k: body[k]
            for k in (
                "phone",
                "mobilePhone",
                "address",
                "addressNumber",
                "complement",
                "province",
                "postalCode",
            )
            if body.get(k)
        }
        kept["notificationDisabled"] = bool(body.get("notificationDisabled"))
        with self.lock:
            customer = SimCustomer(
                id=f"cus_{self.random.randrange(10**11, 10**12):012d}",
                key=key,
                name=name,
                cpf_cnpj=document,
                email=str(body.get("email") or ""),
                data=kept,
                created=_now().date(),
            )
            self.customers[customer.id] = customer
        return customer.as_json()

    def list_customers(self, key: str, query: dict[str, str]) -> dict[str, Any]:
        document = digits(query.get("cpfCnpj", ""))
        with self.lock:
            found = [
                c.as_json()
                for c in self.customers.values()
                if c.key == key and (not document or c.cpf_cnpj == document)
            ]
        return self._page(found, query)

    def _customer(self, key: str, customer_id: str) -> SimCustomer:
        customer = self.customers.get(customer_id)
        if customer is None or customer.key != key:
            raise Invalid("not_found", "Cliente não encontrado.", 404)
        return customer

    # --- payments --------------------------------------------------------------------------------
    def create_payment(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """Validated like the contract (docs/gateways.md, Asaas); a carnê is N payments at once."""
        with self.lock:
            self._customer(key, str(body.get("customer") or ""))
        billing_type = str(body.get("billingType") or "")
        if billing_type not in ("BOLETO", "UNDEFINED", "PIX"):
            raise Invalid("invalid_billingType", "Forma de pagamento inválida (BOLETO, PIX ou UNDEFINED).")
        due = _date(body.get("dueDate"), "dueDate")
        if due < _now().date():
            raise Invalid("invalid_dueDate", "A data de vencimento não pode ser anterior à data de hoje.")
        count = 1
        if body.get("installmentCount") is not None:
            count = int(_number(body.get("installmentCount"), "installmentCount"))
            if not 1 <= count <= 60:
                raise Invalid("invalid_installmentCount", "O número de parcelas deve estar entre 1 e 60.")
        if count > 1:
            if body.get("value") is not None:
                raise Invalid(
                    "invalid_value", "Em cobranças parceladas informe installmentValue ou totalValue."
                )
            if body.get("installmentValue") is not None:
                values = [_number(body["installmentValue"], "installmentValue")] * count
            else:
                total = _number(body.get("totalValue"), "totalValue")
                each = (total / count).quantize(CENT, rounding=ROUND_DOWN)
                values = [each] * (count - 1) + [total - each * (count - 1)]
        else:
            values = [_number(body.get("value"), "value")]
        for value in values:
            if value != value.quantize(CENT):
                raise Invalid("invalid_value", "O valor deve ter no máximo duas casas decimais.")
            if billing_type != "PIX" and value < MIN_VALUE:
                raise Invalid("invalid_value", "O valor da cobrança deve ser de no mínimo R$ 5,00.")
        description = str(body.get("description") or "")
        if len(description) > 500:
            raise Invalid("invalid_description", "A descrição deve ter no máximo 500 caracteres.")
        fine = self._fine(body.get("fine"))
        interest = self._interest(body.get("interest"))
        days = body.get("daysAfterDueDateToRegistrationCancellation")
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 0):
            raise Invalid(
                "invalid_daysAfterDueDateToRegistrationCancellation",
                "O número de dias após o vencimento deve ser um inteiro positivo.",
            )
        reference = str(body.get("externalReference") or "")
        with self.lock:
            self.issue_requests[reference] += 1
            plan = str(uuid.UUID(int=self.random.getrandbits(128))) if count > 1 else ""
            created = [
                self._new_payment(
                    key=key,
                    customer=str(body["customer"]),
                    billing_type=billing_type,
                    value=value,
                    due=_add_months(due, index),
                    description=description,
                    reference=reference,
                    fine=fine,
                    interest=interest,
                    installment=plan,
                    number=index + 1 if count > 1 else None,
                )
                for index, value in enumerate(values)
            ]
            answer = created[0].as_json()
        for payment in created:
            self._emit(payment, "PAYMENT_CREATED")
        return answer

    def _new_payment(self, *, key: str, number: int | None, installment: str, **values: Any) -> SimPayment:
        """Caller holds the lock."""
        token = "".join(self.random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(16))
        payment = SimPayment(
            id=f"pay_{token}",
            number=self.next_number,
            key=key,
            customer=values["customer"],
            billing_type=values["billing_type"],
            value=values["value"],
            due_date=values["due"],
            description=values["description"],
            external_reference=values["reference"],
            fine=values["fine"],
            interest=values["interest"],
            installment=installment,
            installment_number=number,
            base_url=self.base_url,
            created=_now().date(),
        )
        self.next_number += 1
        self.payments[payment.id] = payment
        return payment

    @staticmethod
    def _fine(raw: Any) -> dict[str, Any]:
        if raw is None:
            return {"value": 0, "type": "FIXED"}
        if not isinstance(raw, dict):
            raise Invalid("invalid_fine", "Multa inválida.")
        kind = str(raw.get("type") or "PERCENTAGE")
        value = _number(raw.get("value"), "fine")
        if kind not in ("FIXED", "PERCENTAGE") or value < 0 or (kind == "PERCENTAGE" and value > 100):
            raise Invalid("invalid_fine", "Multa inválida.")
        return {"value": _money(value), "type": kind}

    @staticmethod
    def _interest(raw: Any) -> dict[str, Any]:
        if raw is None:
            return {"value": 0, "type": "PERCENTAGE"}
        if not isinstance(raw, dict):
            raise Invalid("invalid_interest", "Juros inválidos.")
        value = _number(raw.get("value"), "interest")
        if not 0 <= value <= 100:
            raise Invalid("invalid_interest", "Juros inválidos.")
        return {"value": _money(value), "type": "PERCENTAGE"}

    def _payment(self, key: str, payment_id: str, *, deleted_ok: bool = False) -> SimPayment:
        payment = self.payments.get(payment_id)
        if payment is None or payment.key != key or (payment.deleted and not deleted_ok):
            raise Invalid("not_found", "Cobrança não encontrada.", 404)
        return payment

    def list_payments(self, key: str, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            found = [
                p.as_json()
                for p in sorted(self.payments.values(), key=lambda p: p.number)
                if p.key == key and not p.deleted and self._matches(p, query)
            ]
        return self._page(found, query)

    @staticmethod
    def _matches(payment: SimPayment, query: dict[str, str]) -> bool:
        exact = {
            "customer": payment.customer,
            "installment": payment.installment,
            "externalReference": payment.external_reference,
            "status": payment.status,
            "billingType": payment.paid_by or payment.billing_type,
        }
        if any(name in query and query[name] != value for name, value in exact.items()):
            return False
        return _within(payment.due_date, query.get("dueDate[ge]"), query.get("dueDate[le]")) and _within(
            payment.payment_date, query.get("paymentDate[ge]"), query.get("paymentDate[le]")
        )

    @staticmethod
    def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
        try:
            offset = int(query.get("offset") or 0)
            limit = int(query.get("limit") or 10)
        except ValueError:
            raise Invalid("invalid_parameter", "offset e limit devem ser inteiros.") from None
        if limit > MAX_PAGE or limit < 1 or offset < 0:
            raise Invalid("invalid_limit", "O limite deve estar entre 1 e 100.")
        return {
            "object": "list",
            "hasMore": offset + limit < len(items),
            "totalCount": len(items),
            "limit": limit,
            "offset": offset,
            "data": items[offset : offset + limit],
        }

    def delete_payment(self, key: str, payment_id: str) -> dict[str, Any]:
        with self.lock:
            payment = self._payment(key, payment_id)
            if payment.payment_date is not None:
                raise Invalid("invalid_action", "Não é possível remover uma cobrança já recebida.")
            payment.deleted = True
        self._emit(payment, "PAYMENT_DELETED")
        return {"deleted": True, "id": payment_id}

    def identification_field(self, key: str, payment_id: str) -> dict[str, Any]:
        with self.lock:
            payment = self._payment(key, payment_id)
        if payment.billing_type == "PIX":
            raise Invalid("invalid_billingType", "Esta cobrança não possui boleto.")
        return {
            "identificationField": linha_digitavel(payment.barcode),
            "nossoNumero": payment.nosso_numero,
            "barCode": payment.barcode,
        }

    def pix_qr_code(self, key: str, payment_id: str) -> dict[str, Any]:
        with self.lock:
            payment = self._payment(key, payment_id)
        host = self.base_url.split("://", 1)[-1]
        return {
            "encodedImage": QR_IMAGE,
            "payload": self.pix_payload(payment, host),
            "expirationDate": f"{(payment.due_date + dt.timedelta(days=365)).isoformat()} 23:59:59",
        }

    @staticmethod
    def pix_payload(payment: SimPayment, host: str) -> str:
        return dynamic_payload(
            location=f"{host}/_sim/pix/{payment.id}",
            merchant_name="ASAAS SIMULADOR",
            merchant_city="JOINVILLE",
        )

    def balance(self, key: str) -> dict[str, Any]:
        with self.lock:
            received = [p for p in self.payments.values() if p.key == key and p.status == "RECEIVED"]
        return {"balance": _money(sum((p.net_value() for p in received), Decimal("0.00")))}

    # --- payments happening ----------------------------------------------------------------------
    def pay(self, data: dict[str, Any]) -> dict[str, Any]:
        """A PIX or boleto payment of one payment; the account's webhook hears of it."""
        method = str(data.get("method") or "PIX").upper()
        if method not in ("PIX", "BOLETO"):
            raise Invalid("invalid_method", "method must be PIX or BOLETO")
        with self.lock:
            payment = self._any(data)
            if payment.deleted or payment.payment_date is not None:
                raise Invalid("invalid_action", "Cobrança removida ou já paga.")
            if data.get("amount"):
                payment.value = Decimal(str(data["amount"])).quantize(CENT, rounding=ROUND_HALF_UP)
            payment.paid_by = method
            payment.payment_date = payment.confirmed_date = _now().date()
            payment.status = "CONFIRMED" if method == "BOLETO" else "RECEIVED"
            events = ["PAYMENT_CONFIRMED"] if method == "BOLETO" else ["PAYMENT_RECEIVED"]
        options = self._delivery(data)
        self._emit(payment, events[0], **options)
        if method == "BOLETO":
            with self.lock:
                payment.status = "RECEIVED"
            self._emit(payment, "PAYMENT_RECEIVED", **options)
        return payment.as_json()

    def change(self, data: dict[str, Any], status: str, event: str) -> dict[str, Any]:
        with self.lock:
            payment = self._any(data)
            payment.status = status
        self._emit(payment, event, **self._delivery(data))
        return payment.as_json()

    def _any(self, data: dict[str, Any]) -> SimPayment:
        """Caller holds the lock. Control routes act on any account's payment."""
        payment = self.payments.get(str(data.get("id") or data.get("payment_id") or ""))
        if payment is None:
            raise Invalid("not_found", "Cobrança não encontrada.", 404)
        return payment

    def _delivery(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "notify": str(data.get("notify", True)).lower() not in ("false", "0", "no"),
            "duplicate": bool(data.get("duplicate", self.faults.duplicate_notifications)),
            "delay_ms": int(data.get("delay_ms", self.faults.notification_delay_ms) or 0),
        }

    # --- webhooks --------------------------------------------------------------------------------
    def _emit(
        self,
        payment: SimPayment,
        event: str,
        *,
        notify: bool = True,
        duplicate: bool = False,
        delay_ms: int = 0,
    ) -> None:
        """Queue the event for the account's webhook (in order), if it listens to this event."""
        with self.lock:
            hook = self.webhooks.get(payment.key)
            if not notify or hook is None or event not in hook.events:
                return
            body = {
                "id": f"evt_{secrets.token_hex(16)}&{self.next_event}",
                "event": event,
                "dateCreated": _now().strftime("%Y-%m-%d %H:%M:%S"),
                "payment": payment.as_json(),
            }
            self.next_event += 1
            outbox = self.outboxes.setdefault(payment.key, Outbox())
            outbox.pending.append((body, delay_ms))
            if duplicate:
                outbox.pending.append((body, 0))
            if outbox.busy:
                return
            outbox.busy = True
        threading.Thread(target=self._deliver, args=(payment.key,), daemon=True).start()

    def _deliver(self, key: str) -> None:
        """One account's queue, in order: each event retried until 200 (a few quick times here)."""
        while True:
            with self.lock:
                outbox = self.outboxes.get(key)
                hook = self.webhooks.get(key)
                if outbox is None or not outbox.pending or hook is None:
                    if outbox is not None:
                        outbox.busy = False
                    return
                body, delay_ms = outbox.pending.pop(0)
            if delay_ms:
                time.sleep(delay_ms / 1000)
            headers = {"asaas-access-token": hook.auth_token} if hook.auth_token else {}
            headers["User-Agent"] = "Asaas-Simulator"
            for attempt in range(NOTIFY_ATTEMPTS):
                status = post_json(hook.url, body, headers=headers)
                with self.lock:
                    self.notifications.append(
                        {
                            "url": hook.url,
                            "event": body["event"],
                            "id": body["id"],
                            "payment": body["payment"]["id"],
                            "status": status,
                            "attempt": attempt + 1,
                        }
                    )
                if status == 200:
                    break
                time.sleep(0.2 * (attempt + 1))

    # --- pages and control -----------------------------------------------------------------------
    def _page_html(self, payment_id: str) -> Response:
        payment = self.payments.get(payment_id)
        if payment is None:
            return Response.html("<html><body><h1>Asaas (simulador)</h1></body></html>", 404)
        line = linha_digitavel(payment.barcode)
        payload = self.pix_payload(payment, self.base_url.split("://", 1)[-1])
        buttons = "".join(
            f'<form method="post" action="/_sim/pay"><input type="hidden" name="id" value="{payment.id}">'
            f'<input type="hidden" name="method" value="{method}">'
            f'<button type="submit">{label}</button></form>'
            for method, label in (("PIX", "Pagar com PIX (simulado)"), ("BOLETO", "Pagar boleto (simulado)"))
        )
        return Response.html(
            "<html><body><h1>Asaas (simulador)</h1>"
            f"<p>Cobrança {payment.id} · {html.escape(payment.external_reference)} · R$ {payment.value} · "
            f"vencimento {payment.due_date.strftime('%d/%m/%Y')} · {payment.status}</p>"
            f"<p>Linha digitável: <code>{line}</code></p>"
            f"<p>PIX copia e cola: <code>{html.escape(payload)}</code></p>"
            f"{buttons}</body></html>"
        )

    def control(self, request: Request, action: str) -> Response:
        try:
            return self._control_action(request, action)
        except Invalid as exc:
            return _errors(exc.code, exc.description, exc.status)

    def _control_action(self, request: Request, action: str) -> Response:
        post = request.method == "POST"
        if action == "webhook" and post:
            data = request.json()
            if not data.get("access_token") or not data.get("url"):
                raise Invalid("invalid_webhook", "access_token and url are required")
            events = data.get("events") or DEFAULT_EVENTS
            self.set_webhook(
                str(data["access_token"]), str(data["url"]), str(data.get("auth_token") or ""), events
            )
            return Response.json({"ok": True})
        if action == "pay" and post:
            return Response.json(self.pay(request.json()))
        if action == "refund" and post:
            return Response.json(self.change(request.json(), "REFUNDED", "PAYMENT_REFUNDED"))
        if action == "overdue" and post:
            return Response.json(self.change(request.json(), "OVERDUE", "PAYMENT_OVERDUE"))
        if action == "charges":
            return Response.json(self.snapshot())
        if action == "notifications":
            with self.lock:
                return Response.json({"notifications": list(self.notifications)})
        if action.startswith(("boleto/", "invoice/", "pix/")):
            return self._page_html(action.split("/", 1)[1])
        return super().control(request, action)

    def set_webhook(self, key: str, url: str, auth_token: str = "", events: Any = DEFAULT_EVENTS) -> None:
        with self.lock:
            self.webhooks[key] = Webhook(url=url, auth_token=auth_token, events=tuple(events))

    def snapshot(self) -> dict[str, Any]:
        """Every payment, and issue requests per reference (one counted twice is a duplicate issue)."""
        with self.lock:
            payments = [{**p.as_json(), "key_tail": p.key[-4:]} for p in self.payments.values()]
            requests = dict(self.issue_requests)
            documents = Counter((c.key, c.cpf_cnpj) for c in self.customers.values())
        return {
            "count": len(payments),
            "charges": payments,
            "customers": sum(documents.values()),
            "duplicate_customers": sorted(doc for (_key, doc), n in documents.items() if n > 1),
            "counts_by_reference": requests,
            "duplicates": sorted(ref for ref, n in requests.items() if n > 1),
            "requests_seen": self.requests_seen,
        }


def start_in_thread(
    port: int = 0, *, host: str = "127.0.0.1", seed: int | None = None, **faults: Any
) -> tuple[SimulatorServer, str]:
    """A running simulator: ``(server, base_url)``; the API is at ``base_url + API_PREFIX``.

    ``server.app`` is the :class:`AsaasSimulator` (``set_webhook``, ``pay``, ``snapshot``, ``faults``);
    stop it with ``server.shutdown()``.
    """
    return _start(AsaasSimulator(Faults(**faults), seed=seed), host=host, port=port)
