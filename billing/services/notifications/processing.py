"""The one path that processes a stored notification, whatever the gateway and whoever asks.

The intake, the retry task, the sweep and the admin's "reprocess" action all call
:func:`notification_process`, which reads the stored row (never the live request): whatever worked
once works again the same way, and effects happen once however often it runs.

A gateway plugs in with one entry in :data:`HANDLERS`: how its form is checked and parsed, and how
a parsed notification of one of its accounts is verified and applied (see docs/notifications.md).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Notification, NotificationStatus
from billing.services.notifications import asaas, juno, mycontas
from billing.services.notifications.outcome import (
    MAX_ATTEMPTS,
    NotificationResult,
    Outcome,
    finish,
    retry_later,
)
from gateways.base import (
    ASAAS,
    JUNO,
    MYCONTAS,
    GatewayError,
    GatewayUnavailable,
    InboundNotification,
    NotificationInvalid,
)
from providers.models import BankAccount

logger = logging.getLogger(__name__)
N = NotificationStatus

#: A ``received`` or ``queued`` row older than this lost its message or its process: the sweep
#: picks it up.
STALE_RECEIVED_AFTER = dt.timedelta(minutes=10)


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"


def _identity(text: str) -> str:
    return text


def _same_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return dict(headers)


@dataclass(frozen=True)
class Handler:
    """What the inbox needs to know about one gateway's notifications.

    ``field_limits``: the fields the gateway defines, with their maximum lengths (checked before
    ``parse``). ``parse``: the form as an :class:`InboundNotification` (raises
    :class:`NotificationInvalid`). ``process``: verify and apply a parsed notification of one of the
    gateway's accounts, ending with :func:`~billing.services.notifications.outcome.finish` or
    :func:`~billing.services.notifications.outcome.retry_later`; it runs in a task, and may ask the
    gateway. ``redact``: the body as it may be stored (secrets replaced by keyed hashes);
    ``redact_headers``: the headers as they may be stored. ``content_type``: the body's media type;
    a JSON gateway (Asaas) has its decoded object passed to ``parse`` and checks its own limits
    there. ``refuse_at_intake``: a check that needs no gateway call (a shared secret in the post or
    its headers), giving the reason to answer ``refusal`` (403, or 401 for a missing token) or "".
    ``resolve_account`` and ``check_unaddressed``: for a path that names no account (MK-Auth's),
    the account found through the notification, and the check of what such a notification must
    carry.
    """

    field_limits: Mapping[str, int]
    parse: Callable[[Mapping[str, Any]], InboundNotification]
    process: Callable[..., NotificationResult]
    redact: Callable[[str], str] = _identity
    refuse_at_intake: Callable[[BankAccount, InboundNotification, Mapping[str, str]], str] | None = None
    refusal: str = Outcome.FORBIDDEN
    resolve_account: Callable[[InboundNotification], BankAccount | None] | None = None
    content_type: str = FORM_CONTENT_TYPE
    redact_headers: Callable[[Mapping[str, str]], dict[str, str]] = _same_headers
    check_unaddressed: Callable[[InboundNotification], None] | None = None


HANDLERS: dict[str, Handler] = {
    JUNO: Handler(
        field_limits=juno.FIELD_LIMITS,
        parse=juno.parse,
        process=juno.process,
        resolve_account=juno.resolve_account,
        check_unaddressed=juno.require_charge_hint,
    ),
    MYCONTAS: Handler(
        field_limits=mycontas.FIELD_LIMITS,
        parse=mycontas.parse,
        process=mycontas.process,
        redact=mycontas.redact_body,
        refuse_at_intake=mycontas.intake_refusal,
    ),
    ASAAS: Handler(
        field_limits={},
        parse=asaas.parse,
        process=asaas.process,
        content_type=asaas.CONTENT_TYPE,
        redact_headers=asaas.redact_headers,
        refuse_at_intake=asaas.intake_refusal,
        refusal=Outcome.UNAUTHORIZED,
    ),
}


def parse_body(gateway: str, body: str) -> InboundNotification:
    """A (stored) body as the gateway's notification; raises :class:`NotificationInvalid`.

    Only the fields the gateway defines are checked (others are ignored): each at most once, within
    its length, without NUL characters; then the gateway's parser checks what it requires.
    """
    handler = HANDLERS.get(gateway)
    if handler is None:
        raise NotificationInvalid(_("Unknown gateway."), {"gateway": _("Unknown gateway.")})
    if handler.content_type == JSON_CONTENT_TYPE:
        try:
            data = json.loads(body)
        except ValueError:
            raise NotificationInvalid(
                _("The body is not JSON."), {"body": _("The body is not JSON.")}
            ) from None
        if not isinstance(data, dict):
            raise NotificationInvalid(
                _("The body is not a JSON object."), {"body": _("The body is not a JSON object.")}
            )
        return handler.parse(data)
    try:
        form = QueryDict(body, encoding="utf-8")
    except SuspiciousOperation:  # more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS
        raise NotificationInvalid(_("Too many fields."), {"body": _("Too many fields.")}) from None
    errors: dict[str, str] = {}
    for name, limit in handler.field_limits.items():
        values = form.getlist(name)
        if len(values) > 1:
            errors[name] = _("Given more than once.")
        elif values and len(values[0]) > limit:
            errors[name] = _("At most %(limit)d characters.") % {"limit": limit}
        elif values and "\x00" in values[0]:
            errors[name] = _("Contains a NUL character.")
    if errors:
        raise NotificationInvalid(_("Some fields are malformed."), errors)
    return handler.parse({name: form.get(name, "") for name in form})


def notification_process(notification_id: int, *, actor_label: str = "notification") -> NotificationResult:
    """Process one stored notification; safe to call any number of times (effects happen once)."""
    notification = Notification.objects.select_related("bank_account").get(pk=notification_id)
    return process_row(notification, actor_label=actor_label)


def process_row(notification: Notification, *, actor_label: str) -> NotificationResult:
    """:func:`notification_process` for a row already read."""
    notification.attempts += 1
    handler = HANDLERS.get(notification.gateway)
    if handler is None:
        return finish(notification, Outcome.NOT_FOUND, N.REJECTED, _("No such gateway."))
    try:
        inbound = parse_body(notification.gateway, notification.body)
        notification.payment_token = inbound.payment_token[:128]
        notification.charge_reference = inbound.charge_reference[:255]
        if notification.bank_account is None and handler.resolve_account is not None:
            notification.bank_account = handler.resolve_account(inbound)
    except NotificationInvalid as exc:
        result = finish(notification, Outcome.INVALID, N.INVALID, exc.message)
        result.errors = exc.errors
        return result
    account = notification.bank_account
    if account is None:
        return finish(
            notification, Outcome.NOT_FOUND, N.REJECTED, _("No bank account matches this notification.")
        )
    try:
        return handler.process(notification, account, inbound, actor_label=actor_label)
    except GatewayUnavailable as exc:
        return retry_later(notification, exc.message, retry_after=exc.retry_after)
    except IntegrityError:  # a concurrent writer won a unique constraint: the next attempt sees its row
        return retry_later(notification, _("A concurrent update got there first; processed again later."))


# --- the sweep ------------------------------------------------------------------------------------
def notifications_pending_ids(*, limit: int = 500) -> list[int]:
    stale = timezone.now() - STALE_RECEIVED_AFTER
    return list(
        Notification.objects.filter(
            Q(status=N.RETRYING) | Q(status__in=(N.RECEIVED, N.QUEUED), received_at__lt=stale),
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
