"""The inbox: every inbound gateway request is stored raw before anything else happens.

:func:`notification_receive` is the endpoints' one call. It stores the request in its own short
transaction before anything can fail (headers without cookies or credentials, the body, the source
address); a request too large or of the wrong content type is stored as ``invalid`` and goes no
further. The stored row is then processed by the one processing path
(:mod:`billing.services.notifications.processing`).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import Notification, NotificationStatus
from billing.services.notifications.outcome import NotificationResult, Outcome, finish
from billing.services.notifications.processing import HANDLERS, process_row
from providers.models import BankAccount, Gateway

logger = logging.getLogger(__name__)
N = NotificationStatus

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
#: Headers never stored: they may carry a session or credentials.
DROPPED_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})


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


def _transport_errors(request: InboundRequest, expected: str = FORM_CONTENT_TYPE) -> dict[str, str]:
    limit = settings.NOTIFICATION_MAX_BODY_BYTES
    errors: dict[str, str] = {}
    if (request.declared_length or 0) > limit or len(request.body) > limit:
        errors["body"] = _("The body is larger than %(limit)d bytes.") % {"limit": limit}
    if request.content_type != expected:
        errors["content_type"] = _("Expected %(expected)s, got %(got)s.") % {
            "expected": expected,
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
    handler = HANDLERS.get(gateway)
    errors = _transport_errors(request, handler.content_type if handler is not None else FORM_CONTENT_TYPE)
    limit = settings.NOTIFICATION_MAX_BODY_BYTES
    text = decode_body(request.body[:limit], request.charset)
    headers = clean_headers(request.headers)
    notification = Notification.objects.create(
        gateway=without_nul(gateway[:20]),
        bank_account=bank_account,
        path=without_nul(request.path[:300]),
        headers=handler.redact_headers(headers) if handler is not None else headers,
        body=handler.redact(text) if handler is not None else text,
        remote_addr=clean_ip(request.remote_addr),
        status=N.INVALID if errors else N.RECEIVED,
        error="; ".join(errors.values()),
    )
    return notification, errors


def account_for_public_id(gateway: str, public_id: str) -> BankAccount | None:
    if gateway not in Gateway.values or "\x00" in public_id:
        return None
    return BankAccount.objects.filter(gateway=gateway, public_id=public_id).first()


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
        finish(notification, Outcome.NOT_FOUND, N.REJECTED, message)
        return NotificationResult(notification, Outcome.NOT_FOUND, message)
    result = process_row(notification, actor_label="notification")
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
