"""Words for the codes staff would otherwise read raw.

Model choices already carry their labels (``get_state_display()``). What is stored as a bare code
is put into words here, in one place: a gateway's payment status (``CONFIRMED``, ``CHARGEBACK``...),
the gateway endpoint of a logged exchange (``issue-charge``...), the process that changed a charge
(``task:issue_charge``, ``sweep``...), where a payment came from, the outcome of processing a
notification, and the history reasons written before the catalogue was active. A code nobody has
put into words yet is still shown readably ("SOME_NEW_STATUS" → "Some new status") rather than raw.
"""

from __future__ import annotations

from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from billing.models import ChargeState
from providers.models import Gateway

PAYMENT_STATUSES: dict[str, StrOrPromise] = {
    "CONFIRMED": pgettext_lazy("payment status", "Confirmed (paid)"),
    "AUTHORIZED": pgettext_lazy("payment status", "Authorized"),
    "AWAITING_PROCESSING": pgettext_lazy("payment status", "Awaiting processing"),
    "DECLINED": pgettext_lazy("payment status", "Declined"),
    "FAILED": pgettext_lazy("payment status", "Failed"),
    "NOT_AUTHORIZED": pgettext_lazy("payment status", "Not authorized"),
    "CUSTOMER_PAID_BACK": pgettext_lazy("payment status", "Refunded to the payer"),
    "BANK_PAID_BACK": pgettext_lazy("payment status", "Reversed by the bank"),
    "PARTIALLY_REFUNDED": pgettext_lazy("payment status", "Partially refunded"),
    "CHARGEBACK": pgettext_lazy("payment status", "Chargeback (payment reversed)"),
    "RECEIVED": pgettext_lazy("payment status", "Received"),
    "RECEIVED_IN_CASH": pgettext_lazy("payment status", "Received in cash"),
    "REFUNDED": pgettext_lazy("payment status", "Refunded"),
    "PAID": pgettext_lazy("payment status", "Paid"),
}

ENDPOINTS: dict[str, StrOrPromise] = {
    "issue-charge": _("Issue charge"),
    "cancel-charge": _("Cancel charge"),
    "list-charges": _("List charges"),
    "fetch-payment-details": _("Fetch payment details"),
    "fetch-balance": _("Fetch balance"),
    "servicoweb": _("Register boleto (Mycontas)"),
    # Asaas: the path names the operation (with the method: POST payments issues, GET lists).
    "payments": _("Issue or list charges"),
    "customers": _("Register the payer"),
    "payments/get": _("Fetch payment details"),
    "payments/delete": _("Cancel charge"),
    "payments/identificationField": _("Fetch the linha digitável"),
    "payments/pixQrCode": _("Fetch the PIX code"),
    "finance/balance": _("Fetch balance"),
}

#: ``actor_label`` values written by tasks, commands and services (no person acted).
PROCESSES: dict[str, StrOrPromise] = {
    "task:issue_charge": _("Issuing task"),
    "task:cancel_charge": _("Cancelling task"),
    "task:process_notification": _("Notification processing task"),
    "issue": _("Issuing task"),
    "cancel": _("Cancelling task"),
    "sweep": _("Hourly sweep"),
    "notification": _("Gateway notification"),
    "reconcile": _("Daily reconciliation"),
    "reconciliation": _("Daily reconciliation"),
    "billing_run": _("Billing run"),
    "load_demo": _("Demo data"),
    "staff": _("Staff"),
    "admin": _("Staff"),
}

PAYMENT_SOURCES: dict[str, StrOrPromise] = {
    "notification": _("Gateway notification"),
    "reconciliation": _("Daily reconciliation"),
    "staff": _("Entered by staff"),
}

NOTIFICATION_OUTCOMES: dict[str, StrOrPromise] = {
    "processed": _("processed"),
    "invalid": _("invalid"),
    "not_found": _("charge not found"),
    "forbidden": _("refused (wrong account)"),
    "unauthorized": _("refused (without the account's token)"),
    "rejected": _("rejected"),
    "failed": _("failed"),
    "retrying": _("waiting for retry"),
}


#: What the sweep did with a charge, besides the state it reached.
SWEEP_OUTCOMES: dict[str, StrOrPromise] = {
    "queued": _("queued for a worker"),
    "deferred": _("deferred (gateway unreachable)"),
    "error": _("error (see the log)"),
}


#: How the payer paid, as the gateways name it (Juno's ``type``, Asaas' ``billingType``).
PAYMENT_TYPES: dict[str, StrOrPromise] = {
    "BOLETO": pgettext_lazy("payment type", "Boleto"),
    "BOLETO_PIX": pgettext_lazy("payment type", "Boleto or PIX"),
    "PIX": pgettext_lazy("payment type", "PIX"),
    "CREDIT_CARD": pgettext_lazy("payment type", "Credit card"),
    "DEBIT_CARD": pgettext_lazy("payment type", "Debit card"),
    "UNDEFINED": pgettext_lazy("payment type", "Payer's choice"),
}


def humanize_code(code: str) -> str:
    """``"CHARGEBACK_REQUESTED"`` → ``"Chargeback requested"``; ``"list-charges"`` → ``"List charges"``."""
    words = code.replace("_", " ").replace("-", " ").replace(":", ": ").strip().lower()
    return words[:1].upper() + words[1:]


def _word(table: dict[str, StrOrPromise], code: str) -> str:
    if not code:
        return "-"
    return str(table[code]) if code in table else humanize_code(code)


def gateway_label(gateway: str) -> str:
    """``"juno"`` → ``"Juno / Boleto Fácil"`` (the bank account's gateway choices)."""
    return _word(dict(Gateway.choices), gateway)


def payment_status_label(status: str) -> str:
    return _word(PAYMENT_STATUSES, status)


def endpoint_label(endpoint: str) -> str:
    return _word(ENDPOINTS, endpoint)


def payment_source_label(source: str) -> str:
    return _word(PAYMENT_SOURCES, source)


def notification_outcome_label(outcome: str) -> str:
    return _word(NOTIFICATION_OUTCOMES, outcome)


def sweep_outcome_label(outcome: str) -> str:
    """A charge state in words ("Emitida"), or what the sweep did instead ("adiada...")."""
    if outcome in ChargeState.values:
        return str(ChargeState(outcome).label)
    return _word(SWEEP_OUTCOMES, outcome)


def process_label(actor_label: str) -> str:
    """Who changed a charge when no person did: ``admin:ana`` names the person after the colon."""
    if actor_label.startswith("admin:"):
        return f"{gettext('Staff')}: {actor_label.split(':', 1)[1]}"
    return _word(PROCESSES, actor_label)


def history_reason(reason: str) -> str:
    """A stored history reason in the reader's language when it is one of the catalogue's sentences.

    Services write reasons through gettext in the language active at the time (a task runs in
    LANGUAGE_CODE); a reason written in English (older rows, the demo data, a person browsing in
    English) is shown in Portuguese when the catalogue has it. Free text (a staff member's reason,
    a gateway's message) is shown as written.
    """
    return gettext(reason) if reason else ""


def payment_type_label(payment_type: str) -> str:
    return _word(PAYMENT_TYPES, payment_type)
