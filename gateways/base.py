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
from typing import Any, Protocol

JUNO = "juno"
MYCONTAS = "mycontas"


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
    """Transport failure, timeout or 5xx: retry later.

    ``maybe_sent`` is True when the request may have reached the gateway (read timeout, connection
    reset after sending, 5xx): the caller must not resend an issue-charge without first asking the
    gateway whether it exists. It is False only when the request surely never left (connect error).
    """

    def __init__(self, message: str, *, maybe_sent: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.maybe_sent = maybe_sent


class GatewayAnswerInvalid(GatewayError):
    """The gateway answered something we could not understand (the charge may exist)."""


class RequestInvalid(GatewayError):
    """Our request breaks a gateway rule we check before sending (nothing was sent)."""


# --- what billing gives a gateway ----------------------------------------------------------------
@dataclass(frozen=True)
class AccountConfig:
    """A bank account as a gateway needs it. Secrets live here only in memory, never in logs."""

    gateway: str  # JUNO or MYCONTAS
    sandbox: bool
    token: str = ""  # Juno: the private token of the environment in use (sandbox token if sandbox)
    account_code: str = ""  # Mycontas: txtCod_cliente
    password: str = ""  # Mycontas: txtCod_senha
    notification_url: str = ""
    pass_customer_email: bool = False
    contra_apresentacao: bool = False
    max_overdue_days: int = 0  # days the boleto is still payable after its due date (0..29)
    fine_percent: Decimal = Decimal("0.00")  # multa, once
    daily_interest_percent: Decimal = Decimal("0.000")  # juros per day (Juno gets it x30 per month)
    account_id: int | None = None  # for the exchange log only


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


@dataclass(frozen=True)
class ChargeRequest:
    """One título (installments=1) or one carnê (installments=N, monthly from ``due_date``).

    ``reference`` is our idempotency key: Juno applies it to every charge the request creates,
    Mycontas keeps it as ``txtReferencia`` (50 characters at most). ``description_lines`` are final
    text (tags already expanded by billing), at most 4 lines for Juno, 5 for Mycontas.
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
    payment_id: str
    amount: Decimal
    date: dt.date | None
    fee: Decimal
    type: str  # BOLETO, CREDIT_CARD, ...
    status: str  # CONFIRMED, CUSTOMER_PAID_BACK, ...
    charge_code: str = ""
    charge_reference: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)

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


@dataclass(frozen=True)
class IssueResult:
    """What an issue call returns.

    ``charges`` has one entry per installment, in due-date order, when the gateway answers with
    data (Juno). Mycontas answers with an HTML page and sends the charge's number later in its
    return POST, so ``charges`` may be empty and ``page_url`` may carry what the page linked to.
    """

    charges: tuple[IssuedCharge, ...]
    accepted: bool = True
    message: str = ""


@dataclass(frozen=True)
class InboundNotification:
    """A gateway's POST to us, parsed. Fields are hints until verified.

    Juno: ``payment_token``, ``charge_reference``, ``charge_code``.
    Mycontas: ``charge_number`` (cobrancaID or txtNumero), ``charge_url`` (txtUrl),
    ``charge_reference`` (txtReferencia), ``account_code``, ``password``.
    """

    gateway: str
    charge_reference: str = ""
    charge_code: str = ""
    payment_token: str = ""
    charge_number: str = ""
    charge_url: str = ""
    account_code: str = ""
    password: str = ""


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
    #: True when :meth:`find_charges` can prove a charge does or does not exist (Juno). Mycontas
    #: offers no look-up: an unknown charge there waits for the return POST or for staff.
    supports_lookup: bool

    def issue(self, request: ChargeRequest) -> IssueResult: ...

    def cancel(self, code: str) -> None: ...

    def fetch_payment(self, payment_token: str) -> PaymentDetails: ...

    def find_charges(
        self, *, reference: str | None, due_from: dt.date, due_to: dt.date
    ) -> list[IssuedCharge]: ...

    def list_paid_charges(self, *, paid_from: dt.date, paid_to: dt.date) -> list[IssuedCharge]: ...

    def fetch_balance(self) -> Mapping[str, Decimal]: ...

    def parse_notification(self, form: Mapping[str, str]) -> InboundNotification: ...
