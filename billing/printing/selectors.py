"""What a printed slip shows, read in a fixed number of queries whatever the number of installments."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString

from billing.models import OPEN_STATES, Carne, Charge
from billing.printing.barcode import BARCODE_DIGITS, itf_svg
from billing.services.amounts import charge_amount_due, is_overdue
from billing.services.descriptions import printed_lines
from customers.documents import digits, format_document, format_postcode, mask_document
from gateways.brazil import barcode_from_linha, is_valid_linha_digitavel
from providers.models import Provider
from providers.selectors import current_provider

_MARKUP = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Slip:
    """One boleto as it is printed: the *ficha de compensação* and the payer's stub."""

    charge: Charge
    beneficiary_lines: tuple[str, ...]
    beneficiary_document: str
    payer_name: str
    payer_document: str
    payer_address: str
    description_lines: tuple[str, ...]
    installment_label: str
    amount_due_today: Decimal
    overdue: bool
    payable: bool
    #: The 44 digits the bars encode ("" when the gateway gave neither barcode nor linha).
    barcode: str
    barcode_svg: SafeString | None
    #: The PIX "copia e cola" payload printed as a QR code beside the barcode ("" when the gateway
    #: gave none, the charge is no longer payable or the payload expired before ``today``).
    pix_payload: str
    fine_percent: Decimal
    daily_interest_percent: Decimal
    max_days_to_update: int
    contra_apresentacao: bool

    @property
    def late_fees(self) -> Decimal:
        return self.amount_due_today - self.charge.amount


@dataclass(frozen=True)
class SlipBook:
    """A print job: one slip (a título) or every installment of a carnê."""

    title: str
    provider: Provider | None
    slips: list[Slip]
    printed_on: dt.date


def barcode_of(charge: Charge) -> str:
    """The gateway's barcode number, or the one its linha digitável encodes; "" when unknown."""
    code = digits(charge.barcode)
    if len(code) == BARCODE_DIGITS:
        return code
    line = digits(charge.linha_digitavel)
    if is_valid_linha_digitavel(line):
        return barcode_from_linha(line)
    return ""


def _beneficiary_lines(charge: Charge, provider: Provider | None) -> tuple[str, ...]:
    """The cedente as the gateway knows it (Juno's may carry ``<br>``), else the provider's name."""
    text = _MARKUP.sub("\n", charge.bank_account.cedente or "")
    lines = tuple(line.strip() for line in text.splitlines() if line.strip())
    return lines or ((provider.name,) if provider else (charge.bank_account.name,))


def _pix_payload(charge: Charge, *, payable: bool, today: dt.date) -> str:
    """A paper slip outlives the page: a PIX code past its expiry would only make the payer's bank
    app refuse it, so it is left off (the boleto's barcode still pays)."""
    if not payable or not charge.pix_payload:
        return ""
    if charge.pix_expires_at is not None and timezone.localdate(charge.pix_expires_at) < today:
        return ""
    return charge.pix_payload


def _address(charge: Charge) -> str:
    customer = charge.customer
    street = ", ".join(part for part in (customer.street, customer.number, customer.complement) if part)
    place = " - ".join(part for part in (customer.neighborhood, customer.city, customer.state) if part)
    postcode = format_postcode(customer.postcode) if customer.postcode else ""
    return " · ".join(part for part in (street, place, postcode) if part)


def _slip(charge: Charge, *, provider: Provider | None, today: dt.date, masked: bool) -> Slip:
    code = barcode_of(charge)
    payable = charge.state in OPEN_STATES
    account = charge.bank_account
    carne = charge.carne
    return Slip(
        charge=charge,
        beneficiary_lines=_beneficiary_lines(charge, provider),
        beneficiary_document=format_document(provider.document) if provider and provider.document else "",
        payer_name=charge.customer.name,
        payer_document=(mask_document if masked else format_document)(charge.customer.document),
        payer_address=_address(charge),
        description_lines=printed_lines(
            charge.description,
            gateway=account.gateway,
            due_date=charge.due_date,
            installment=charge.installment_number or 1,
            issued_on=timezone.localdate(charge.created_at),
        ),
        installment_label=(
            f"{charge.installment_number}/{carne.installments}" if carne and charge.installment_number else ""
        ),
        amount_due_today=charge_amount_due(charge, on=today),
        overdue=payable and is_overdue(charge, on=today),
        payable=payable,
        barcode=code,
        barcode_svg=itf_svg(code) if code and payable else None,
        pix_payload=_pix_payload(charge, payable=payable, today=today),
        fine_percent=account.fine_percent,
        daily_interest_percent=account.daily_interest_percent,
        max_days_to_update=account.max_days_to_update,
        contra_apresentacao=account.contra_apresentacao,
    )


def _charges() -> QuerySet[Charge]:
    return Charge.objects.select_related("customer", "bank_account", "carne")


def slips_for_charge(*, charge_id: int, today: dt.date, customer_id: int | None = None) -> SlipBook | None:
    """The print job of one charge; None when it does not exist (or is not ``customer_id``'s)."""
    charges = _charges().filter(pk=charge_id)
    if customer_id is not None:
        charges = charges.filter(customer_id=customer_id, state__in=OPEN_STATES)
    charge = charges.first()
    if charge is None:
        return None
    provider = current_provider()
    return SlipBook(
        title=charge.reference,
        provider=provider,
        slips=[_slip(charge, provider=provider, today=today, masked=customer_id is not None)],
        printed_on=today,
    )


def slips_for_carne(*, carne_id: int, today: dt.date, customer_id: int | None = None) -> SlipBook | None:
    """Every installment of a carnê, one slip each, in order; for the subscriber, only open ones."""
    carnes = Carne.objects.filter(pk=carne_id)
    if customer_id is not None:
        carnes = carnes.filter(customer_id=customer_id)
    carne = carnes.first()
    if carne is None:
        return None
    charges = _charges().filter(carne_id=carne.pk).order_by("installment_number")
    if customer_id is not None:
        charges = charges.filter(state__in=OPEN_STATES)
    provider = current_provider()
    masked = customer_id is not None
    return SlipBook(
        title=carne.reference,
        provider=provider,
        slips=[_slip(charge, provider=provider, today=today, masked=masked) for charge in charges],
        printed_on=today,
    )
