"""Inbound gateway notifications: stored raw first, then verified, then processed.

One path for everything that handles a notification — the API view, the retry task, the sweep,
the admin's "reprocess" action: :func:`notification_process` reads the stored row (never the live
request), so whatever worked once works again the same way.

1. :func:`notification_receive` stores the request in its own short transaction before anything
   can fail (headers without cookies or credentials, the body, the source address); a request too
   large or of the wrong content type is stored as ``invalid`` and goes no further.
2. Juno: the POST is unsigned, so its fields are a hint. ``fetch-payment-details`` with the
   ``paymentToken`` is the only word that counts; the charge it names must match the hint.
3. Mycontas: the return POST carries the account's code and password; both must match the bank
   account's (constant-time comparison). The stored body keeps a keyed hash of the password,
   never the password itself.

Outcomes map to HTTP in the view: processed 200, invalid 400, forbidden 403, not found 404,
rejected or failed 422, retrying 200 when a task will retry it (else 503).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import BankAccount, Carne, Charge, ChargeState, Gateway, Notification, NotificationStatus
from billing.services.gateway_access import gateway_for
from billing.services.payments import lock_charge, payment_apply
from billing.services.transitions import transition
from gateways.base import (
    JUNO,
    MYCONTAS,
    GatewayAnswerInvalid,
    GatewayError,
    GatewayRejected,
    GatewayUnavailable,
    InboundNotification,
    NotificationInvalid,
    PaymentDetails,
)

logger = logging.getLogger(__name__)
N = NotificationStatus
S = ChargeState

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
#: Headers never stored: they may carry a session or credentials.
DROPPED_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})
#: The Mycontas field holding the account's billing password; stored only as a keyed hash.
PASSWORD_FIELD = "txtCod_senha"  # noqa: S105 - a field name, not a secret
PASSWORD_HASH_PREFIX = "hmac-sha256:"  # noqa: S105
#: Processing attempts after which the sweep stops retrying a notification (it becomes failed).
MAX_ATTEMPTS = 12
#: A ``received`` row older than this lost its process mid-way: the sweep picks it up.
STALE_RECEIVED_AFTER = dt.timedelta(minutes=10)
#: Field limits: the model's columns (and what any real gateway sends).
FIELD_LIMITS = {"paymentToken": 128, "chargeReference": 255, "chargeCode": 64}
MYCONTAS_FIELD_LIMITS = {
    "txtCod_cliente": 20,
    "txtCod_senha": 255,
    "txtReferencia": 50,
    "cobrancaID": 64,
    "txtNumero": 64,
    "txtUrl": 500,
}


class Outcome:
    PROCESSED = "processed"
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    REJECTED = "rejected"
    FAILED = "failed"
    RETRYING = "retrying"


@dataclass
class NotificationResult:
    """What happened to one notification; ``message`` and ``errors`` are safe to answer with."""

    notification: Notification
    outcome: str
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    queued: bool = False


# --- storing ------------------------------------------------------------------------------------
def without_nul(text: str) -> str:
    """PostgreSQL text and JSON cannot hold NUL characters."""
    return text.replace("\x00", "\ufffd")


def clean_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        without_nul(name): without_nul(value)
        for name, value in headers.items()
        if name.lower() not in DROPPED_HEADERS
    }


def clean_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def password_digest(password: str) -> str:
    """A keyed hash of a Mycontas password: lets a stored notification be checked again later."""
    digest = hmac.new(settings.SECRET_KEY.encode(), password.encode(), hashlib.sha256).hexdigest()
    return PASSWORD_HASH_PREFIX + digest


def decode_body(body: bytes, charset: str) -> str:
    """Text for the ``body`` column: the declared charset, else UTF-8, else Latin-1; no NUL bytes."""
    for encoding in (charset, "utf-8"):
        if not encoding:
            continue
        try:
            text = body.decode(encoding)
            break
        except (LookupError, UnicodeDecodeError):
            continue
    else:
        text = body.decode("iso-8859-1")
    return without_nul(text)


def redact_body(text: str) -> str:
    """The body with the Mycontas password replaced by its keyed hash (nothing else changes)."""
    pairs = parse_qsl(text, keep_blank_values=True)
    if not any(name == PASSWORD_FIELD for name, _value in pairs):
        return text
    return urlencode(
        [(name, password_digest(value) if name == PASSWORD_FIELD else value) for name, value in pairs]
    )


@dataclass(frozen=True)
class InboundRequest:
    """The parts of an HTTP request a notification keeps. ``body`` is at most the limit + 1 bytes."""

    path: str
    headers: Mapping[str, str]
    body: bytes
    content_type: str  # the media type, lower case, without parameters
    charset: str
    declared_length: int | None
    remote_addr: str | None


def _transport_errors(request: InboundRequest) -> dict[str, str]:
    limit = settings.NOTIFICATION_MAX_BODY_BYTES
    errors: dict[str, str] = {}
    if (request.declared_length or 0) > limit or len(request.body) > limit:
        errors["body"] = _("The body is larger than %(limit)d bytes.") % {"limit": limit}
    if request.content_type != FORM_CONTENT_TYPE:
        errors["content_type"] = _("Expected %(expected)s, got %(got)s.") % {
            "expected": FORM_CONTENT_TYPE,
            "got": request.content_type or _("none"),
        }
    return errors


def notification_store(
    *, gateway: str, request: InboundRequest, bank_account: BankAccount | None
) -> tuple[Notification, dict[str, str]]:
    """Insert the raw request at once; malformed transport → ``invalid``.

    One INSERT outside any transaction is its own transaction: it is durable when this returns,
    whatever happens next (the view runs in autocommit, ``ATOMIC_REQUESTS`` is off).
    """
    errors = _transport_errors(request)
    limit = settings.NOTIFICATION_MAX_BODY_BYTES
    notification = Notification.objects.create(
        gateway=without_nul(gateway[:20]),
        bank_account=bank_account,
        path=without_nul(request.path[:300]),
        headers=clean_headers(request.headers),
        body=redact_body(decode_body(request.body[:limit], request.charset)),
        remote_addr=clean_ip(request.remote_addr),
        status=N.INVALID if errors else N.RECEIVED,
        error="; ".join(errors.values()),
    )
    return notification, errors


# --- parsing ------------------------------------------------------------------------------------
def _parser(gateway: str) -> Callable[[Mapping[str, str]], InboundNotification]:
    if gateway == MYCONTAS:
        from gateways.mycontas.adapter import parse_notification as parse_mycontas

        return parse_mycontas
    from gateways.juno.adapter import parse_notification as parse_juno

    return parse_juno


def parse_form(notification: Notification) -> InboundNotification:
    """The stored body as the gateway's notification; raises :class:`NotificationInvalid`.

    Only the fields the gateway defines are checked (others are ignored): each at most once, within
    its length, without NUL characters; then the gateway's parser checks what it requires.
    """
    try:
        form = QueryDict(notification.body, encoding="utf-8")
    except SuspiciousOperation:  # more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS
        raise NotificationInvalid(_("Too many fields."), {"body": _("Too many fields.")}) from None
    limits = MYCONTAS_FIELD_LIMITS if notification.gateway == MYCONTAS else FIELD_LIMITS
    errors: dict[str, str] = {}
    for name, limit in limits.items():
        values = form.getlist(name)
        if len(values) > 1:
            errors[name] = _("Given more than once.")
        elif values and len(values[0]) > limit:
            errors[name] = _("At most %(limit)d characters.") % {"limit": limit}
        elif values and "\x00" in values[0]:
            errors[name] = _("Contains a NUL character.")
    if errors:
        raise NotificationInvalid(_("Some fields are malformed."), errors)
    return _parser(notification.gateway)({name: form.get(name, "") for name in form})


# --- finding accounts and charges ---------------------------------------------------------------
def account_for_public_id(gateway: str, public_id: str) -> BankAccount | None:
    if gateway not in Gateway.values or "\x00" in public_id:
        return None
    return BankAccount.objects.filter(gateway=gateway, public_id=public_id).first()


def _juno_charge(account_filter: Q, *, code: str, reference: str) -> Charge | None:
    """The charge named by a gateway code or our reference (a carnê's installments share one)."""
    if code:
        found = list(Charge.objects.filter(account_filter, gateway_code=code)[:2])
        if len(found) == 1:
            return found[0]
    if reference:
        return Charge.objects.filter(account_filter, reference=reference).first()
    return None


def _juno_charge_locked(account: BankAccount, *, code: str, reference: str) -> Charge | None:
    """:func:`_juno_charge` within one account, row-locked (inside the caller's transaction)."""
    charge = lock_charge(bank_account=account, gateway_code=code) if code else None
    if charge is None and reference:
        charge = lock_charge(bank_account=account, reference=reference)
    return charge


def _legacy_account(inbound: InboundNotification) -> BankAccount | None:
    """MK-Auth's path carries no account: the Juno account of the charge the hint names."""
    charge = _juno_charge(
        Q(bank_account__gateway=Gateway.JUNO), code=inbound.charge_code, reference=inbound.charge_reference
    )
    return charge.bank_account if charge is not None else None


# --- outcomes -----------------------------------------------------------------------------------
def _finish(
    notification: Notification, outcome: str, status: str, message: str = "", **fields: object
) -> NotificationResult:
    """Write the outcome and everything learnt on the way in one UPDATE."""
    values = {
        "status": status,
        "error": message,
        "processed_at": None if status == N.RETRYING else timezone.now(),
        "attempts": notification.attempts,
        "payment_token": notification.payment_token,
        "charge_reference": notification.charge_reference,
        "bank_account": notification.bank_account,
        **fields,
    }
    for name, value in values.items():
        setattr(notification, name, value)
    Notification.objects.filter(pk=notification.pk).update(**values)
    return NotificationResult(notification, outcome, message)


def _retry_later(notification: Notification, message: str) -> NotificationResult:
    status = N.RETRYING if notification.attempts < MAX_ATTEMPTS else N.FAILED
    outcome = Outcome.RETRYING if status == N.RETRYING else Outcome.FAILED
    logger.warning("notification %s not processed (%s): %s", notification.pk, status, message)
    return _finish(notification, outcome, status, message)


# --- processing ---------------------------------------------------------------------------------
def notification_process(notification_id: int, *, actor_label: str = "notification") -> NotificationResult:
    """Process one stored notification; safe to call any number of times (effects happen once)."""
    notification = Notification.objects.select_related("bank_account").get(pk=notification_id)
    return _process(notification, actor_label=actor_label)


def _process(notification: Notification, *, actor_label: str) -> NotificationResult:
    notification.attempts += 1
    try:
        inbound = parse_form(notification)
        if notification.bank_account is None and not inbound.charge_reference:
            raise NotificationInvalid(
                _("The notification names no charge."),
                {"chargeReference": _("Required on this path: the account is found through the charge.")},
            )
    except NotificationInvalid as exc:
        result = _finish(notification, Outcome.INVALID, N.INVALID, exc.message)
        result.errors = exc.errors
        return result

    notification.payment_token = inbound.payment_token[:128]
    notification.charge_reference = inbound.charge_reference[:255]
    if notification.bank_account is None and notification.gateway == JUNO:
        notification.bank_account = _legacy_account(inbound)
    account = notification.bank_account
    if account is None:
        return _finish(
            notification, Outcome.NOT_FOUND, N.REJECTED, _("No bank account matches this notification.")
        )
    try:
        if notification.gateway == MYCONTAS:
            return _process_mycontas(notification, account, inbound, actor_label=actor_label)
        return _process_juno(notification, account, inbound, actor_label=actor_label)
    except GatewayUnavailable as exc:
        return _retry_later(notification, exc.message)


def _hint_mismatch(inbound: InboundNotification, details: PaymentDetails) -> str:
    pairs = (
        (_("charge reference"), inbound.charge_reference, details.charge_reference),
        (_("charge code"), inbound.charge_code, details.charge_code),
    )
    for label, told, confirmed in pairs:
        if told and confirmed and told != confirmed:
            return _("The notification's %(field)s does not match the gateway's payment.") % {"field": label}
    if not (details.charge_code or details.charge_reference):
        return _("The gateway's payment names no charge.")
    return ""


def _process_juno(
    notification: Notification, account: BankAccount, inbound: InboundNotification, *, actor_label: str
) -> NotificationResult:
    gateway = gateway_for(account)
    try:
        details = gateway.fetch_payment(inbound.payment_token)
    except GatewayRejected as exc:
        return _finish(
            notification,
            Outcome.REJECTED,
            N.REJECTED,
            _("The gateway does not know this payment: %(error)s") % {"error": exc.message},
        )
    except GatewayAnswerInvalid as exc:
        return _retry_later(notification, exc.message)
    mismatch = _hint_mismatch(inbound, details)
    if mismatch:
        return _finish(notification, Outcome.REJECTED, N.REJECTED, mismatch)
    with transaction.atomic():  # the payment and the notification's outcome commit together
        charge = _juno_charge_locked(account, code=details.charge_code, reference=details.charge_reference)
        if charge is None:
            return _finish(
                notification,
                Outcome.FAILED,
                N.FAILED,
                _(
                    "No charge of this account matches payment %(id)s "
                    "(code %(code)s, reference %(reference)s)."
                )
                % {
                    "id": details.payment_id,
                    "code": details.charge_code,
                    "reference": details.charge_reference,
                },
            )
        outcome = payment_apply(
            charge, gateway=JUNO, details=details, notification=notification, actor_label=actor_label
        )
        return _finish(
            notification, Outcome.PROCESSED, N.PROCESSED, charge=outcome.charge, payment=outcome.payment
        )


def _same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _mycontas_authentic(account: BankAccount, inbound: InboundNotification) -> bool:
    """The stored body holds the password's keyed hash (see :func:`redact_body`): compare hashes."""
    code_ok = _same_secret(inbound.account_code, account.account_code or "")
    password_ok = _same_secret(inbound.password, password_digest(account.account_password or ""))
    return code_ok and password_ok and bool(account.account_password)


def _mycontas_charge(account: BankAccount, reference: str, number: str) -> Charge | None:
    charge = Charge.objects.filter(bank_account=account, reference=reference).first()
    if charge is not None:
        return charge
    carne = Carne.objects.filter(bank_account=account, reference=reference).first()
    if carne is None:
        return None
    # A carnê's return names the carnê: the installment with this number, else the next without one.
    installments = carne.installment_charges.order_by("installment_number")
    return installments.filter(gateway_code=number).first() or installments.filter(gateway_code="").first()


def _process_mycontas(
    notification: Notification, account: BankAccount, inbound: InboundNotification, *, actor_label: str
) -> NotificationResult:
    if not _mycontas_authentic(account, inbound):
        return _finish(
            notification,
            Outcome.FORBIDDEN,
            N.REJECTED,
            _("The account code or password does not match the bank account's."),
        )
    target = _mycontas_charge(account, inbound.charge_reference, inbound.charge_number)
    if target is None:
        return _finish(
            notification,
            Outcome.FAILED,
            N.FAILED,
            _("No charge of this account has the reference %(reference)s.")
            % {"reference": inbound.charge_reference},
        )
    with transaction.atomic():
        charge = Charge.objects.select_for_update().get(pk=target.pk)
        fields: dict[str, Any] = {
            "gateway_code": inbound.charge_number[:64],
            "link": inbound.charge_url[:500] or charge.link,
        }
        if charge.state in (S.ISSUING, S.UNKNOWN):
            transition(
                charge,
                S.ISSUED,
                actor_label=actor_label,
                reason=_("Registered at Mycontas as %(number)s") % {"number": inbound.charge_number},
                error_message="",
                **fields,
            )
        elif any(getattr(charge, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(charge, name, value)
            charge.save(update_fields=[*fields, "updated_at"])
        return _finish(notification, Outcome.PROCESSED, N.PROCESSED, charge=charge)


# --- receiving (the view's one call) ------------------------------------------------------------
def notification_receive(
    *, gateway: str, public_id: str | None, request: InboundRequest
) -> NotificationResult:
    """Store, verify and process one inbound POST. ``public_id`` None is MK-Auth's legacy path.

    A gateway that could not be asked leaves the row ``retrying`` with a task queued; the result
    says whether queueing worked (the view answers 503 when it did not, so the gateway retries).
    """
    account = account_for_public_id(gateway, public_id) if public_id is not None else None
    notification, errors = notification_store(gateway=gateway, request=request, bank_account=account)
    if errors:
        return NotificationResult(notification, Outcome.INVALID, _("The request is malformed."), errors)
    if public_id is not None and account is None:
        message = _("No bank account matches this notification URL.")
        _finish(notification, Outcome.NOT_FOUND, N.REJECTED, message)
        return NotificationResult(notification, Outcome.NOT_FOUND, message)
    result = _process(notification, actor_label="notification")
    if result.outcome == Outcome.RETRYING:
        result.queued = enqueue_processing(notification.pk)
    return result


def enqueue_processing(notification_id: int) -> bool:
    """Queue the retry task once the current transaction (if any) commits. False if the broker refused."""
    from billing.notification_tasks import process_notification, retry_countdown

    def send() -> None:
        process_notification.apply_async(
            args=[notification_id],
            countdown=retry_countdown(0),
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        )

    connection = transaction.get_connection()
    if connection.in_atomic_block:
        transaction.on_commit(send)
        return True
    try:
        send()
    except Exception:  # any broker failure: the caller answers 503 and the gateway retries
        logger.exception("could not queue notification %s for retry", notification_id)
        return False
    return True


# --- the sweep ------------------------------------------------------------------------------------
def notifications_pending_ids(*, limit: int = 500) -> list[int]:
    stale = timezone.now() - STALE_RECEIVED_AFTER
    return list(
        Notification.objects.filter(
            Q(status=N.RETRYING) | Q(status=N.RECEIVED, received_at__lt=stale),
            attempts__lt=MAX_ATTEMPTS,
        )
        .order_by("received_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def notifications_retry_pending(*, limit: int = 500) -> int:
    """Process notifications left waiting (gateway down, process died); returns how many were tried."""
    tried = 0
    for notification_id in notifications_pending_ids(limit=limit):
        try:
            notification_process(notification_id, actor_label="sweep")
        except GatewayError as exc:  # defensive: processing maps gateway errors itself
            logger.warning("notification %s: %s", notification_id, exc.message)
        tried += 1
    return tried
