"""The one interface every payment gateway implements.

Typed dataclasses go in and come out; no Django model crosses this line, and nothing outside
``gateways/`` knows a gateway's wire format. Billing builds an :class:`AccountConfig` from a bank
account, asks the registry for the adapter, and talks only in these types.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

JUNO = "juno"
MYCONTAS = "mycontas"
ASAAS = "asaas"


# --- errors -------------------------------------------------------------------------------------
class GatewayError(Exception):
    """Base of every error a gateway call raises. ``message`` is fit to show staff."""

    def __init__(self, message: str, *, status_code: int | None = None, raw: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.raw = raw


class GatewayRejected(GatewayError):
    """The gateway understood the request and said no. Do not retry; show the message verbatim."""


class GatewayUnavailable(GatewayError):
    """Transport failure, timeout, 5xx or throttling: retry later.

    ``maybe_sent`` is True when the request may have reached the gateway (read timeout, connection
    reset after sending, 5xx): the caller must not resend an issue-charge without first asking the
    gateway whether it exists. It is False only when the request surely never left (connect error)
    or the gateway refused it unprocessed (throttling).

    ``throttled`` marks an answer that asked us to slow down (HTTP 429 and its like): the request
    was refused unprocessed, and ``retry_after`` (seconds, when the gateway said) is how long to
    wait. A throttled call is retried later, never recorded as a failure.
    """

    def __init__(
        self,
        message: str,
        *,
        maybe_sent: bool = True,
        throttled: bool = False,
        retry_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.maybe_sent = maybe_sent
        self.throttled = throttled
        self.retry_after = retry_after


class GatewayAnswerInvalid(GatewayError):
    """The gateway answered something we could not understand (the charge may exist)."""


class RequestInvalid(GatewayError):
    """Our request breaks a gateway rule we check before sending (nothing was sent)."""


# --- what a gateway prints -----------------------------------------------------------------------
#: The description tags MK-Auth and the Mycontas manual define: month, year, installment number.
DESCRIPTION_TAGS = ("[MES]", "[ANO]", "[PARCELA]")
TAGS_EXPANDED = "expanded"  # billing replaces the tags before sending; the gateway prints the text
TAGS_UNTOUCHED = "untouched"  # sent as written; the gateway replaces them on each boleto


@dataclass(frozen=True)
class DescriptionRules:
    """What a gateway prints of a charge's description; each adapter declares its own.

    ``max_lines`` lines of at most ``max_line_chars`` characters, ``max_chars`` in all (None: no
    such limit). ``tags`` says who replaces ``[MES]``, ``[ANO]`` and ``[PARCELA]``. ``carne_tags``
    is False where one description serves every installment of a carnê: a tag would print the
    same value on each boleto, true of one at most, so a carnê's description may not use them.
    """

    max_lines: int | None = None
    max_line_chars: int | None = None
    max_chars: int | None = None
    tags: str = TAGS_EXPANDED
    carne_tags: bool = True


# --- what billing gives a gateway ----------------------------------------------------------------
@dataclass(frozen=True)
class AccountConfig:
    """A bank account as a gateway needs it. Secrets live here only in memory, never in logs."""

    gateway: str  # JUNO, MYCONTAS or ASAAS
    sandbox: bool
    token: str = ""  # Juno: the private token, Asaas: the API key, of the environment in use
    account_code: str = ""  # Mycontas: txtCod_cliente
    password: str = ""  # Mycontas: txtCod_senha
    notification_url: str = ""
    pass_customer_email: bool = False
    contra_apresentacao: bool = False
    max_overdue_days: int = 0  # days the boleto is still payable after its due date (0..29)
    fine_percent: Decimal = Decimal("0.00")  # multa, once
    daily_interest_percent: Decimal = Decimal("0.000")  # juros per day (Juno gets it x30 per month)
    account_id: int | None = None  # for the exchange log only
    webhook_token: str = ""  # Asaas: the token it sends in each webhook's header
    billing_type: str = ""  # Asaas: BOLETO (boleto with PIX) or UNDEFINED (the payer chooses)


@dataclass(frozen=True)
class Payer:
    """The sacado. ``document`` is the CPF or CNPJ as digits; ``postcode`` the CEP as digits."""

    name: str
    document: str
    email: str = ""
    secondary_email: str = ""
    phone: str = ""
    birth_date: dt.date | None = None
    street: str = ""
    number: str = ""
    complement: str = ""
    neighborhood: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    #: The payer's id at the gateway, when billing already holds one for this account (Asaas):
    #: the adapter then registers nobody and bills that customer.
    gateway_customer_id: str = ""


#: The most installments one carnê has: Juno's limit, which the product keeps for every gateway
#: (the carnê model's constraint, the issue form and service, and each adapter's check).
MAX_INSTALLMENTS = 24


@dataclass(frozen=True)
class ChargeRequest:
    """One título (installments=1) or one carnê (installments=N, monthly from ``due_date``).

    ``reference`` is our idempotency key: Juno applies it to every charge the request creates,
    Mycontas keeps it as ``txtReferencia`` (50 characters at most). ``description_lines`` are what
    the gateway receives, within the adapter's :class:`DescriptionRules` (tags expanded by billing,
    or left for the gateway, as those rules say).
    """

    reference: str
    amount: Decimal  # per installment, two places
    due_date: dt.date  # the first installment's
    description_lines: tuple[str, ...]
    payer: Payer
    installments: int = 1
    last_day_of_month: bool = False  # later installments due on each month's last day


# --- what a gateway gives back -------------------------------------------------------------------
@dataclass(frozen=True)
class PaymentDetails:
    """One payment as the gateway holds it.

    ``status`` speaks the interface's words (Juno's): :attr:`CONFIRMED` when the money arrived,
    one of :attr:`REFUND_STATUSES` when it went back, anything else when neither (yet). An adapter
    whose gateway says it differently maps onto these and keeps its own in ``gateway_status``.
    """

    payment_id: str
    amount: Decimal
    date: dt.date | None
    fee: Decimal
    type: str  # BOLETO, CREDIT_CARD, ...
    status: str  # CONFIRMED, CUSTOMER_PAID_BACK, ...
    charge_code: str = ""
    charge_reference: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)
    gateway_status: str = ""

    CONFIRMED = "CONFIRMED"
    REFUND_STATUSES = frozenset({"CUSTOMER_PAID_BACK", "BANK_PAID_BACK", "PARTIALLY_REFUNDED"})


@dataclass(frozen=True)
class IssuedCharge:
    """One boleto as the gateway holds it. Every field but ``code`` may be empty."""

    code: str
    reference: str = ""
    due_date: dt.date | None = None
    link: str = ""  # the boleto
    checkout_url: str = ""
    installment_link: str = ""  # the whole carnê
    linha_digitavel: str = ""  # payNumber
    barcode: str = ""
    bank_account: str = ""  # the registering bank, may change from one charge to the next
    our_number: str = ""  # nosso número
    payments: tuple[PaymentDetails, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)
    pix_payload: str = ""  # PIX "copia e cola" (an EMV BR Code), when the gateway offers PIX
    pix_image: str = ""  # the gateway's own QR image of that payload, base64 PNG
    pix_expires_at: dt.datetime | None = None  # aware; after it the payload is no longer payable
    # What a listing may carry besides the boleto: used to recognise a charge without a reference.
    amount: Decimal | None = None  # per installment, as the gateway holds it
    description: str = ""
    payer_document: str = ""  # digits
    installments: int | None = None
    status: str = ""  # the gateway's word for the charge's state, e.g. ACTIVE, CANCELLED, PAID

    CANCELLED = "CANCELLED"

    @property
    def cancelled(self) -> bool:
        return self.status.upper() == self.CANCELLED


@dataclass(frozen=True)
class IssueResult:
    """What an issue call returns.

    ``charges`` has one entry per installment, in due-date order, when the gateway answers with
    data (Juno). Mycontas answers with an HTML page and sends the charge's number later in its
    return POST, so ``charges`` may be empty and ``page_url`` may carry what the page linked to.
    """

    charges: tuple[IssuedCharge, ...]
    #: What the gateway said besides the charges, for staff (Mycontas: its page's note, e.g. that
    #: test credentials registered nothing); billing writes it into the charge's history.
    message: str = ""
    #: The gateway's id of the payer (Asaas), registered or found by this call: billing keeps it
    #: and passes it back as :attr:`Payer.gateway_customer_id` next time.
    customer_id: str = ""


@dataclass(frozen=True)
class InboundNotification:
    """A gateway's POST to us, parsed. Fields are hints until verified.

    Juno: ``payment_token``, ``charge_reference``, ``charge_code``.
    Mycontas: ``charge_number`` (cobrancaID or txtNumero), ``charge_url`` (txtUrl),
    ``charge_reference`` (txtReferencia), ``account_code``, ``password``.
    Asaas: ``payment_token`` and ``charge_code`` (both the payment's id), ``charge_reference``
    (externalReference), ``event_id`` (unique per event: the key that applies it at most once),
    ``event`` (one of :class:`NotificationEvent`) and ``gateway_event`` (Asaas' own name).
    """

    gateway: str
    charge_reference: str = ""
    charge_code: str = ""
    payment_token: str = ""
    charge_number: str = ""
    charge_url: str = ""
    account_code: str = ""
    password: str = ""
    event_id: str = ""
    event: str = ""
    gateway_event: str = ""


class NotificationEvent:
    """What an event-typed notification (Asaas) says happened, in the interface's words.

    Whatever it says, the payment is read again from the gateway before money moves: the event is
    only the reason to look.
    """

    PAID = "paid"  # received or confirmed
    REFUNDED = "refunded"
    DELETED = "deleted"  # the charge was removed at the gateway (cancelled)
    OVERDUE = "overdue"
    OTHER = "other"  # acknowledged and stored; nothing to apply


# --- looking a charge up -------------------------------------------------------------------------
class LookupOutcome(StrEnum):
    """What a look-up proved about a charge whose issue answer never came."""

    #: The gateway holds it: by our reference, or as the one charge that matches what we sent.
    FOUND = "found"
    #: It is not there: every page was read, every charge in the window carries a reference, none ours.
    PROVED_ABSENT = "proved_absent"
    #: Neither: charges without a reference might be ours. Staff decide; nothing is resent meanwhile.
    CANDIDATES = "candidates"


@dataclass(frozen=True)
class LookupResult:
    """The answer of :meth:`Gateway.look_up`, the same for every gateway that can list charges.

    ``charges``: when FOUND, one per installment in due-date order. ``candidates``: when
    CANDIDATES, the charges without a reference that nothing proves to be someone else's (may be
    empty). ``complete`` says whether every page of the listing was read; ``examined`` how many
    charges the gateway listed in the window; ``matched_by`` is ``"reference"`` or ``"fields"``
    for a FOUND; ``reason`` says, for staff, why the look-up could not decide.
    """

    outcome: LookupOutcome
    charges: tuple[IssuedCharge, ...] = ()
    candidates: tuple[IssuedCharge, ...] = ()
    complete: bool = True
    examined: int = 0
    matched_by: str = ""
    reason: str = ""

    REFERENCE = "reference"
    FIELDS = "fields"


@dataclass(frozen=True)
class Listing:
    """Charges a gateway listed, and whether every page of its answer was read."""

    charges: tuple[IssuedCharge, ...]
    complete: bool = True


class OperationUnsupported(GatewayError):
    """The gateway has no such call (Mycontas has no look-up and no cancel). Never retried."""


class NotificationInvalid(GatewayError):
    """An inbound notification lacks required fields; ``errors`` maps field to message."""

    def __init__(self, message: str, errors: Mapping[str, str]) -> None:
        super().__init__(message)
        self.errors = dict(errors)


# --- the exchange log ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Exchange:
    """One outbound call, already redacted: safe to store and show staff."""

    gateway: str
    endpoint: str
    method: str
    url: str
    request_params: Mapping[str, Any]
    status_code: int | None
    duration_ms: int
    response_body: str
    outcome: str  # "ok", "rejected", "unavailable", "invalid"
    error_class: str = ""
    error_message: str = ""
    reference: str = ""
    gateway_code: str = ""
    account_id: int | None = None


ExchangeRecorder = Callable[[Exchange], None]


# --- the interface -------------------------------------------------------------------------------
class Gateway(Protocol):
    """What billing may ask of a gateway. Every method raises only :class:`GatewayError` kinds."""

    name: str
    description_rules: DescriptionRules
    #: True when :meth:`find_charges` can prove a charge does or does not exist (Juno). Mycontas
    #: offers no look-up: an unknown charge there waits for the return POST or for staff.
    supports_lookup: bool

    def issue(self, request: ChargeRequest) -> IssueResult: ...

    def cancel(self, code: str) -> None: ...

    def fetch_payment(self, payment_token: str) -> PaymentDetails: ...

    def find_charges(
        self, *, reference: str | None, due_from: dt.date, due_to: dt.date
    ) -> list[IssuedCharge]: ...

    def look_up(self, request: ChargeRequest, *, due_dates: tuple[dt.date, ...]) -> LookupResult:
        """Whether the gateway holds ``request`` (sent before, answer lost); ``due_dates`` are its
        installments' due dates as stored here. Only a PROVED_ABSENT allows sending it again."""
        ...

    def list_due(self, *, due_from: dt.date, due_to: dt.date) -> Listing:
        """Every charge due in the window, every page read (or ``complete=False``)."""
        ...

    def list_paid_charges(self, *, paid_from: dt.date, paid_to: dt.date) -> list[IssuedCharge]: ...

    def parse_notification(self, form: Mapping[str, str]) -> InboundNotification: ...
