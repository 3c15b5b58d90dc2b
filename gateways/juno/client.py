"""Boleto Fácil API v1 wire format: the parameters we send and how we read what comes back.

Pure functions, no HTTP: the adapter posts through :mod:`gateways.http`. Parsing is defensive
because the public SDK fixtures show byte-order marks, numeric ``code``/``id`` and absent fields.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from core.documents import digits
from gateways.base import (
    MAX_INSTALLMENTS,
    TAGS_EXPANDED,
    AccountConfig,
    ChargeRequest,
    DescriptionRules,
    GatewayAnswerInvalid,
    GatewayRejected,
    IssuedCharge,
    PaymentDetails,
    RequestInvalid,
)
from gateways.http import HttpAnswer, is_throttling_message, throttled

DATE_FORMAT = "%d/%m/%Y"
CENT = Decimal("0.01")
MAX_DESCRIPTION_LINES = 4
MAX_DESCRIPTION_CHARS = 400
#: One description is printed on every installment of a carnê, so a carnê may not use the tags.
DESCRIPTION_RULES = DescriptionRules(
    max_lines=MAX_DESCRIPTION_LINES, max_chars=MAX_DESCRIPTION_CHARS, tags=TAGS_EXPANDED, carne_tags=False
)
MAX_REFERENCE_CHARS = 255
MAX_OVERDUE_DAYS = 29
RATE_RANGE = (Decimal("0.00"), Decimal("20.00"))


# --- formatting ----------------------------------------------------------------------------------
def money(value: Decimal) -> str:
    """``"50.00"``: two places, dot, no grouping (the API truncates anything longer)."""
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def date(value: dt.date) -> str:
    return value.strftime(DATE_FORMAT)


def clamp_rate(value: Decimal) -> Decimal:
    low, high = RATE_RANGE
    return min(max(Decimal(value), low), high).quantize(CENT, rounding=ROUND_HALF_UP)


def monthly_interest(daily_percent: Decimal) -> Decimal:
    """MK-Auth keeps juros per day; the API takes a monthly rate: daily × 30, clamped to 0..20."""
    return clamp_rate(Decimal(daily_percent) * 30)


def max_overdue_days(config: AccountConfig) -> int:
    return min(max(int(config.max_overdue_days), 0), MAX_OVERDUE_DAYS)


def description(lines: tuple[str, ...]) -> str:
    """Lines joined by newlines; the API allows 4 lines and 400 characters, so more is refused."""
    kept = [line.rstrip() for line in lines]
    while kept and not kept[-1]:
        kept.pop()
    if not kept:
        raise RequestInvalid(str(_("Juno needs a description: the charge has no description line.")))
    if len(kept) > MAX_DESCRIPTION_LINES:
        raise RequestInvalid(
            str(_("Juno accepts at most 4 description lines; this charge has %(count)d."))
            % {"count": len(kept)}
        )
    text = "\n".join(kept)
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise RequestInvalid(
            str(_("Juno accepts at most 400 description characters; this charge has %(count)d."))
            % {"count": len(text)}
        )
    return text


#: Said to staff when an option Juno v1 cannot honour reaches the adapter (billing refuses both
#: earlier, on the account and the carnê forms).
NO_LAST_DAY = _(
    'Juno has no "last day of the month" option: its installments fall on the first one\'s day each '
    "month. Issue this carnê without that option (Mycontas offers it)."
)
NO_CONTRA_APRESENTACAO = _(
    "Juno has no contra-apresentação: its boletos always have a due date and are payable up to 29 "
    "days late at most. Turn the option off on this bank account."
)


def _check_request(config: AccountConfig, request: ChargeRequest) -> None:
    if request.last_day_of_month and request.installments > 1:
        raise RequestInvalid(str(NO_LAST_DAY))
    if config.contra_apresentacao:
        raise RequestInvalid(str(NO_CONTRA_APRESENTACAO))
    if not 1 <= request.installments <= MAX_INSTALLMENTS:
        raise RequestInvalid(
            str(_("Juno issues 1 to %(max)d installments per carnê.") % {"max": MAX_INSTALLMENTS})
        )
    if len(request.reference) > MAX_REFERENCE_CHARS:
        raise RequestInvalid(str(_("Juno accepts references of at most 255 characters.")))
    if not request.payer.name.strip():
        raise RequestInvalid(str(_("Juno needs the payer's name.")))
    if len(digits(request.payer.document)) not in (11, 14):
        raise RequestInvalid(str(_("Juno needs the payer's CPF (11 digits) or CNPJ (14 digits).")))


def issue_params(config: AccountConfig, request: ChargeRequest) -> dict[str, str]:
    """Every parameter of ``issue-charge`` this product fills, formatted as the API wants."""
    _check_request(config, request)
    payer = request.payer
    params = {
        "token": config.token,
        "responseType": "JSON",
        "description": description(request.description_lines),
        "reference": request.reference,
        "amount": money(request.amount),
        "dueDate": date(request.due_date),
        "installments": str(request.installments),
        "maxOverdueDays": str(max_overdue_days(config)),
        "fine": str(clamp_rate(config.fine_percent)),
        "interest": str(monthly_interest(config.daily_interest_percent)),
        "payerName": payer.name.strip()[:60],
        "payerCpfCnpj": digits(payer.document),
        "paymentTypes": "BOLETO",
        "notifyPayer": "true" if config.pass_customer_email else "false",
    }
    if config.notification_url:
        params["notificationUrl"] = config.notification_url[:255]
    if config.pass_customer_email and payer.email:
        params["payerEmail"] = payer.email[:80]
        if payer.secondary_email:
            params["payerSecondaryEmail"] = payer.secondary_email[:80]
    optional = {
        "payerPhone": payer.phone[:25],
        "payerBirthDate": date(payer.birth_date) if payer.birth_date else "",
        "billingAddressStreet": payer.street[:80],
        "billingAddressNumber": payer.number[:30],
        "billingAddressComplement": payer.complement[:30],
        "billingAddressNeighborhood": payer.neighborhood[:50],
        "billingAddressCity": payer.city[:60],
        "billingAddressState": payer.state[:2].upper(),
        "billingAddressPostcode": digits(payer.postcode),
    }
    params.update({name: value for name, value in optional.items() if value})
    return params


# --- parsing -------------------------------------------------------------------------------------
def parse_envelope(answer: HttpAnswer) -> Any:
    """The ``data`` of a success; a rejection raises with Juno's message verbatim.

    5xx never reaches here (the HTTP layer turns it into GatewayUnavailable).
    """
    status = answer.status_code
    if 300 <= status < 400:
        raise GatewayAnswerInvalid(f"Juno redirected the request (HTTP {status}).", status_code=status)
    try:
        body = json.loads(answer.text) if answer.text.strip() else None
    except ValueError:
        body = None
        if 200 <= status < 300:
            raise GatewayAnswerInvalid(
                "Juno answered with something that is not JSON.", status_code=status, raw=answer.text
            ) from None
    if not 200 <= status < 300 or (isinstance(body, dict) and body.get("success") is False):
        message = body.get("errorMessage") if isinstance(body, dict) else None
        if message and is_throttling_message(str(message)):
            raise throttled(answer, str(message))
        raise GatewayRejected(
            str(message or f"Juno refused the request (HTTP {answer.status_code})."),
            status_code=answer.status_code,
            raw=answer.text,
        )
    if not isinstance(body, dict) or body.get("success") is not True:
        raise GatewayAnswerInvalid(
            "Juno's answer lacks a success flag.", status_code=answer.status_code, raw=answer.text
        )
    return body.get("data")


def text(value: Any) -> str:
    """Codes and ids arrive as numbers or strings; store them as text (no float exponent)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def decimal(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal("0.00")
    try:
        return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise GatewayAnswerInvalid(f"Juno sent an amount that is not a number: {value!r}.") from exc


def parse_date(value: Any) -> dt.date | None:
    """``dd/MM/yyyy``; ISO dates and timestamps are tolerated in case a field changes format."""
    if not value:
        return None
    raw = str(value).strip()
    for fmt in (DATE_FORMAT, "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(raw[:10], fmt).date()
        except ValueError:
            continue
    return None


def _mapping(value: Any) -> Mapping[str, Any]:
    """A nested object, or an empty one when the field is absent, null or of another type."""
    return value if isinstance(value, Mapping) else {}


def parse_payment(data: Mapping[str, Any]) -> PaymentDetails:
    charge = _mapping(data.get("charge"))
    return PaymentDetails(
        payment_id=text(data.get("id")),
        amount=decimal(data.get("amount")),
        date=parse_date(data.get("date")),
        fee=decimal(data.get("fee")),
        type=text(data.get("type")),
        status=text(data.get("status")),
        charge_code=text(charge.get("code")),
        charge_reference=text(charge.get("reference")),
        raw=dict(data),
    )


def _optional_decimal(value: Any) -> Decimal | None:
    return None if value is None or value == "" else decimal(value)


def _optional_int(value: Any) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _payer_document(data: Mapping[str, Any]) -> str:
    payer = _mapping(data.get("payer"))
    return digits(text(payer.get("cpfCnpj") or data.get("payerCpfCnpj")))


def parse_charge(data: Mapping[str, Any]) -> IssuedCharge:
    """One charge of an answer; every field but ``code`` may be absent (the SDK fixtures omit
    ``reference``, ``checkoutUrl``, ``billetDetails`` and ``installmentLink`` at times)."""
    code = text(data.get("code"))
    if not code:
        raise GatewayAnswerInvalid("Juno returned a charge without a code.")
    details = _mapping(data.get("billetDetails"))
    payments = data.get("payments")
    payments = payments if isinstance(payments, list) else []
    return IssuedCharge(
        code=code,
        reference=text(data.get("reference")),
        due_date=parse_date(data.get("dueDate")),
        link=text(data.get("link")),
        checkout_url=text(data.get("checkoutUrl")),
        installment_link=text(data.get("installmentLink")),
        linha_digitavel=digits(text(data.get("payNumber"))),
        barcode=digits(text(details.get("barcodeNumber"))),
        bank_account=text(details.get("bankAccount")),
        our_number=text(details.get("ourNumber")),
        payments=tuple(parse_payment(p) for p in payments if isinstance(p, Mapping)),
        raw=dict(data),
        amount=_optional_decimal(data.get("amount")),
        description=text(data.get("description")),
        payer_document=_payer_document(data),
        installments=_optional_int(data.get("installments")),
        status=text(data.get("status")).upper(),
    )


@dataclass(frozen=True)
class Page:
    """One answer of ``list-charges``: what it held, whether all of it was read, what comes next."""

    charges: tuple[IssuedCharge, ...]
    readable: bool  # every entry was a charge we could read
    next_page: int | None  # the page to ask for next, when the answer announces one


def next_page_of(data: Any, page: int) -> int | None:
    """The next page an answer announces, if any.

    API v1 publishes no paging for ``list-charges``; an answer that says there is more (``hasMore``
    or ``nextPage``, as paged APIs of the same family do) is followed rather than taken as whole.
    """
    if not isinstance(data, Mapping):
        return None
    announced = _optional_int(data.get("nextPage"))
    if announced is not None and announced > page:
        return announced
    return page + 1 if data.get("hasMore") is True else None


def parse_page(data: Any, page: int) -> Page:
    """A listing page: unreadable entries are not dropped silently, they make the page unreadable."""
    charges = data.get("charges") if isinstance(data, Mapping) else None
    if charges is None:
        charges = []
    if not isinstance(charges, list):
        raise GatewayAnswerInvalid("Juno's listing has no list of charges.")
    parsed: list[IssuedCharge] = []
    readable = True
    for entry in charges:
        try:
            if not isinstance(entry, Mapping):
                raise GatewayAnswerInvalid("Juno listed something that is not a charge.")
            parsed.append(parse_charge(entry))
        except GatewayAnswerInvalid:
            readable = False
    return Page(charges=tuple(parsed), readable=readable, next_page=next_page_of(data, page))


def parse_charges(data: Any, *, required: bool) -> list[IssuedCharge]:
    """``data.charges`` in due-date order; ``required`` when an empty list means a broken answer."""
    charges = data.get("charges") if isinstance(data, Mapping) else None
    if charges is None:
        charges = []
    if not isinstance(charges, list) or (required and not charges):
        raise GatewayAnswerInvalid("Juno's answer has no charges.")
    parsed = [parse_charge(c) for c in charges if isinstance(c, Mapping)]
    return sorted(parsed, key=lambda c: (c.due_date or dt.date.max, c.code))
