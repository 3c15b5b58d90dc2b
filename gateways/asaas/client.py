"""Asaas API v3 wire format: the JSON we send and how we read what comes back.

Pure functions, no HTTP: the adapter talks through :class:`gateways.http.JsonClient`. The choices
made where the public reference is silent are listed in docs/gateways.md ("Asaas").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from core.dates import SAO_PAULO
from core.documents import digits, is_valid_document
from gateways.base import (
    MAX_INSTALLMENTS,
    AccountConfig,
    ChargeRequest,
    GatewayAnswerInvalid,
    GatewayRejected,
    IssuedCharge,
    Payer,
    PaymentDetails,
    RequestInvalid,
)
from gateways.http import HttpAnswer

#: The header carrying the account's API key on every call (never ``Authorization: Bearer``).
API_KEY_HEADER = "access_token"
#: The header carrying the account's webhook token on every webhook Asaas sends us.
WEBHOOK_TOKEN_HEADER = "asaas-access-token"  # noqa: S105 - a header name, not a secret
#: Required by Asaas for accounts created since mid-2024; names this product in their logs.
USER_AGENT = "cobranca"

BOLETO = "BOLETO"
UNDEFINED = "UNDEFINED"
BILLING_TYPES = (BOLETO, UNDEFINED)
CENT = Decimal("0.01")
MAX_DESCRIPTION_CHARS = 500
PAGE_SIZE = 100  # the largest page Asaas serves
MAX_PAGES = 100  # 10,000 payments: more in one look-up means something is wrong, not a page to read

#: Asaas statuses in the interface's words (see PaymentDetails); the others pass through as they are.
STATUS_MAP = {
    "RECEIVED": PaymentDetails.CONFIRMED,  # boleto or PIX paid, money in the account
    "CONFIRMED": PaymentDetails.CONFIRMED,  # paid, money not yet available
    "RECEIVED_IN_CASH": PaymentDetails.CONFIRMED,  # staff marked it paid at Asaas
    "DUNNING_RECEIVED": PaymentDetails.CONFIRMED,  # recovered through a credit bureau
    "REFUNDED": "CUSTOMER_PAID_BACK",
    "PARTIALLY_REFUNDED": "PARTIALLY_REFUNDED",
}


# --- formatting ----------------------------------------------------------------------------------
def money(value: Decimal) -> Decimal:
    """Two places, half up: sent as a JSON number (``89.90``), never through a float."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def date(value: dt.date) -> str:
    return value.isoformat()


def monthly_interest(daily_percent: Decimal) -> Decimal:
    """Juros are kept per day here; Asaas takes a percentage per month: daily × 30, two places."""
    return money(max(Decimal(daily_percent), Decimal(0)) * 30)


def description(lines: tuple[str, ...]) -> str:
    """Lines joined by newlines; Asaas takes at most 500 characters, so more is refused here."""
    kept = [line.rstrip() for line in lines]
    while kept and not kept[-1]:
        kept.pop()
    text = "\n".join(kept)
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise RequestInvalid(
            str(_("Asaas accepts at most 500 description characters; this charge has %(count)d."))
            % {"count": len(text)}
        )
    return text


def check_config(config: AccountConfig) -> None:
    if not config.token:
        raise RequestInvalid(str(_("The Asaas account has no API key for the environment in use.")))
    if (config.billing_type or BOLETO) not in BILLING_TYPES:
        raise RequestInvalid(
            str(_("Asaas billing type must be BOLETO or UNDEFINED, not %(value)s."))
            % {"value": config.billing_type}
        )


def check_request(request: ChargeRequest) -> None:
    """What Asaas would refuse, refused before anything is sent (a customer included)."""
    if not 1 <= request.installments <= MAX_INSTALLMENTS:
        raise RequestInvalid(
            str(_("A carnê sent to Asaas has 1 to %(max)d installments.") % {"max": MAX_INSTALLMENTS})
        )
    if not request.reference.strip():
        raise RequestInvalid(str(_("Asaas needs our reference (externalReference) on every charge.")))
    if not request.payer.name.strip():
        raise RequestInvalid(str(_("Asaas needs the payer's name.")))
    if not request.payer.gateway_customer_id and not is_valid_document(request.payer.document):
        raise RequestInvalid(str(_("Asaas needs the payer's valid CPF (11 digits) or CNPJ (14 digits).")))
    if money(request.amount) <= 0:
        raise RequestInvalid(str(_("Asaas needs an amount above zero.")))


def _phones(phone: str) -> dict[str, str]:
    """A Brazilian mobile (DDD + 9 + 8 digits) also goes to ``mobilePhone``, where Asaas sends SMS."""
    number = digits(phone)
    if number.startswith("55") and len(number) in (12, 13):
        number = number[2:]
    if not number:
        return {}
    if len(number) == 11 and number[2] == "9":
        return {"mobilePhone": number}
    return {"phone": number}


def customer_payload(config: AccountConfig, payer: Payer) -> dict[str, Any]:
    """``POST /customers``: the payer as Asaas keeps it. Asaas e-mails the payer only when asked."""
    body: dict[str, Any] = {
        "name": payer.name.strip(),
        "cpfCnpj": digits(payer.document),
        # Asaas' own e-mails and SMS reach the payer only when the account passes them on.
        "notificationDisabled": not config.pass_customer_email,
    }
    if config.pass_customer_email and payer.email:
        body["email"] = payer.email.strip()
        if payer.secondary_email:
            body["additionalEmails"] = payer.secondary_email.strip()
    body.update(_phones(payer.phone))
    optional = {
        "address": payer.street.strip(),
        "addressNumber": payer.number.strip(),
        "complement": payer.complement.strip(),
        "province": payer.neighborhood.strip(),
        "postalCode": digits(payer.postcode),
    }
    body.update({name: value for name, value in optional.items() if value})
    return body


def payment_payload(config: AccountConfig, request: ChargeRequest, customer_id: str) -> dict[str, Any]:
    """``POST /payments``: one título, or a carnê as Asaas' installment plan (N payments, monthly)."""
    body: dict[str, Any] = {
        "customer": customer_id,
        "billingType": config.billing_type or BOLETO,
        "dueDate": date(request.due_date),
        "externalReference": request.reference,
    }
    if request.installments > 1:
        body["installmentCount"] = request.installments
        body["installmentValue"] = money(request.amount)
    else:
        body["value"] = money(request.amount)
    text = description(request.description_lines)
    if text:
        body["description"] = text
    fine = money(max(Decimal(config.fine_percent), Decimal(0)))
    if fine > 0:
        body["fine"] = {"value": fine, "type": "PERCENTAGE"}
    interest = monthly_interest(config.daily_interest_percent)
    if interest > 0:
        body["interest"] = {"value": interest}
    if config.max_overdue_days > 0 and not config.contra_apresentacao:
        body["daysAfterDueDateToRegistrationCancellation"] = int(config.max_overdue_days)
    return body


# --- reading answers -----------------------------------------------------------------------------
def _errors(body: Any) -> str:
    """Asaas' ``{"errors": [{"code", "description"}]}`` as one line for staff, descriptions verbatim."""
    items = body.get("errors") if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        return ""
    parts = []
    for item in items:
        if isinstance(item, Mapping):
            text = str(item.get("description") or item.get("code") or "").strip()
            if text:
                parts.append(text)
    return "; ".join(parts)


def read(answer: HttpAnswer) -> Mapping[str, Any]:
    """The decoded body of a 2xx answer; any 4xx raises :class:`GatewayRejected` with Asaas' words.

    5xx and 429 never reach here (the HTTP layer makes them GatewayUnavailable). Numbers are read
    as Decimal, so amounts never pass through a float.
    """
    status = answer.status_code
    if 300 <= status < 400:
        raise GatewayAnswerInvalid(f"Asaas redirected the request (HTTP {status}).", status_code=status)
    try:
        body = json.loads(answer.text, parse_float=Decimal) if answer.text.strip() else None
    except ValueError:
        if 200 <= status < 300:
            raise GatewayAnswerInvalid(
                "Asaas answered with something that is not JSON.", status_code=status, raw=answer.text
            ) from None
        body = None
    if 200 <= status < 300:
        if not isinstance(body, Mapping):
            raise GatewayAnswerInvalid(
                "Asaas answered without a JSON object.", status_code=status, raw=answer.text
            )
        return body
    message = _errors(body)
    if not message:
        if status == 401:
            message = str(
                _(
                    "Asaas refused the API key (HTTP 401): check the account's key and that it "
                    "belongs to the environment in use (sandbox or production)."
                )
            )
        elif status == 404:
            message = str(_("Asaas does not know this resource (HTTP 404)."))
        else:
            message = str(_("Asaas refused the request (HTTP %(status)d).")) % {"status": status}
    raise GatewayRejected(message, status_code=status, raw=answer.text)


def text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def decimal(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal("0.00")
    try:
        return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise GatewayAnswerInvalid(f"Asaas sent an amount that is not a number: {value!r}.") from exc


def parse_date(value: Any) -> dt.date | None:
    """``yyyy-MM-dd`` (a timestamp's date part is taken too)."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def parse_timestamp(value: Any) -> dt.datetime | None:
    """``yyyy-MM-dd HH:mm:ss`` in São Paulo time (a bare date means the end of that day)."""
    raw = text(value)
    if not raw:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw.replace(" ", "T"))
    except ValueError:
        day = parse_date(raw)
        if day is None:
            return None
        moment = dt.datetime.combine(day, dt.time(23, 59, 59))
    if len(raw) == 10:
        moment = dt.datetime.combine(moment.date(), dt.time(23, 59, 59))
    return moment if moment.tzinfo else moment.replace(tzinfo=SAO_PAULO)


def plain(value: Any) -> Any:
    """A JSON-safe copy of an answer for ``raw`` (stored by billing): numbers read as Decimal are
    kept exactly, as their text."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def page(body: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], bool]:
    """A list answer: its objects and whether more pages follow."""
    data = body.get("data")
    if not isinstance(data, list):
        raise GatewayAnswerInvalid("Asaas' list answer has no data.")
    return [item for item in data if isinstance(item, Mapping)], body.get("hasMore") is True


def payment_id(body: Mapping[str, Any]) -> str:
    code = text(body.get("id"))
    if not code:
        raise GatewayAnswerInvalid("Asaas returned a payment without an id.")
    return code


def parse_payment(data: Mapping[str, Any]) -> PaymentDetails:
    """A payment object as the interface's payment (statuses mapped, see :data:`STATUS_MAP`)."""
    status = text(data.get("status"))
    value = decimal(data.get("value"))
    net = data.get("netValue")
    fee = value - decimal(net) if net is not None else Decimal("0.00")
    return PaymentDetails(
        payment_id=payment_id(data),
        amount=value,
        date=parse_date(data.get("clientPaymentDate"))
        or parse_date(data.get("paymentDate"))
        or parse_date(data.get("confirmedDate")),
        fee=max(fee, Decimal("0.00")),
        type=text(data.get("billingType")),
        status=STATUS_MAP.get(status, status),
        charge_code=text(data.get("id")),
        charge_reference=text(data.get("externalReference")),
        raw=plain(data),
        gateway_status=status,
    )


def is_settled(details: PaymentDetails) -> bool:
    return details.status == PaymentDetails.CONFIRMED or details.status in PaymentDetails.REFUND_STATUSES


def parse_charge(
    data: Mapping[str, Any],
    *,
    identification: Mapping[str, Any] | None = None,
    pix: Mapping[str, Any] | None = None,
) -> IssuedCharge:
    """A payment object (plus its identificationField and pixQrCode answers) as an issued boleto."""
    identification = identification or {}
    pix = pix or {}
    details = parse_payment(data)
    return IssuedCharge(
        code=details.payment_id,
        reference=details.charge_reference,
        due_date=parse_date(data.get("dueDate")),
        link=text(data.get("bankSlipUrl")),
        checkout_url=text(data.get("invoiceUrl")),
        linha_digitavel=digits(text(identification.get("identificationField"))),
        barcode=digits(text(identification.get("barCode"))),
        our_number=text(identification.get("nossoNumero") or data.get("nossoNumero")),
        payments=(details,) if is_settled(details) else (),
        raw=plain(data),
        pix_payload=text(pix.get("payload")),
        pix_image=text(pix.get("encodedImage")),
        pix_expires_at=parse_timestamp(pix.get("expirationDate")),
        amount=details.amount,
        description=text(data.get("description")),
        status=IssuedCharge.CANCELLED if data.get("deleted") is True else details.gateway_status,
    )


def installment_order(data: Mapping[str, Any]) -> tuple[int, dt.date, str]:
    """Installments by number (then due date, id): the carnê's order."""
    number = text(data.get("installmentNumber"))
    return (
        int(number) if number.isdigit() else 0,
        parse_date(data.get("dueDate")) or dt.date.max,
        text(data.get("id")),
    )
