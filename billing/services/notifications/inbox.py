"""The inbox: a notification is stored before anything else, and answered once it is durable.

:func:`notification_receive` is the endpoints' one call. It never asks the gateway: it checks what
needs no gateway (the sender's and the account's intake limits, the transport, the form, Mycontas'
credentials), stores the request in one INSERT (headers without cookies or credentials, the body,
the source address) and makes sure a dispatch will hand it to a processing task
(:mod:`billing.services.notifications.dispatch`). Verification and effects happen there, through
the one processing path (:mod:`billing.services.notifications.processing`).

=====================================  ======  ===========================================
What                                   Answer  Row
=====================================  ======  ===========================================
well-formed, known account             200     ``received``, queued for processing
too many posts (address or account)    429     none (``Retry-After``)
not form-encoded, too large, malformed 400     ``invalid``
no account at this URL                 404     ``rejected``, body truncated
Mycontas code or password wrong        403     ``rejected``
too many waiting for verification      503     ``overflow``, never processed (``Retry-After``)
cache or broker unavailable            503     ``received`` when it could be stored: the sweep
                                               processes it (``Retry-After``)
=====================================  ======  ===========================================

MK-Auth's path names no account: its account is found in processing, through the charge the
notification names, so the answer is the same whether or not that charge exists.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Notification, NotificationStatus
from billing.services.notifications import known_accounts, limits
from billing.services.notifications.dispatch import wake_dispatcher
from billing.services.notifications.outcome import NotificationResult, Outcome
from billing.services.notifications.processing import HANDLERS, parse_body
from gateways.base import InboundNotification, NotificationInvalid
from providers.models import BankAccount

logger = logging.getLogger(__name__)
N = NotificationStatus

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
#: Headers never stored: they may carry a session or credentials.
DROPPED_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})
#: For a URL that names no account: at most this many headers, each value this long.
UNKNOWN_ACCOUNT_HEADERS = 20
UNKNOWN_ACCOUNT_HEADER_CHARS = 200


def without_nul(text: str) -> str:
    """PostgreSQL text and JSON cannot hold NUL characters."""
    return text.replace("\x00", "\ufffd")


def clean_headers(headers: Mapping[str, str], *, short: bool = False) -> dict[str, str]:
    kept = [(name, value) for name, value in headers.items() if name.lower() not in DROPPED_HEADERS]
    if short:
        kept = [(name[:80], value[:UNKNOWN_ACCOUNT_HEADER_CHARS]) for name, value in kept]
        kept = kept[:UNKNOWN_ACCOUNT_HEADERS]
    return {without_nul(name): without_nul(value) for name, value in kept}


@functools.lru_cache(maxsize=1024)  # gateways post from a handful of addresses
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
    """The parts of an HTTP request a notification keeps. ``body`` is at most the limit + 1 bytes.

    ``declared_length`` is the Content-Length (None when absent, as with a chunked body).
    ``unreadable`` is True when the body could not be read at all (a chunked body the server does
    not decode for us).
    """

    path: str
    headers: Mapping[str, str]
    body: bytes
    content_type: str  # the media type, lower case, without parameters
    charset: str
    declared_length: int | None
    remote_addr: str | None
    unreadable: bool = False


def _transport_errors(request: InboundRequest, expected: str = FORM_CONTENT_TYPE) -> dict[str, str]:
    limit = settings.NOTIFICATION_MAX_BODY_BYTES
    errors: dict[str, str] = {}
    if (request.declared_length or 0) > limit or len(request.body) > limit:
        errors["body"] = _("The body is larger than %(limit)d bytes.") % {"limit": limit}
    elif request.unreadable:
        errors["body"] = _("A chunked body cannot be read here; send a Content-Length.")
    if request.content_type != expected:
        errors["content_type"] = _("Expected %(expected)s, got %(got)s.") % {
            "expected": expected,
            "got": request.content_type or _("none"),
        }
    return errors


def _store(
    *,
    gateway: str,
    request: InboundRequest,
    text: str,
    account: BankAccount | None,
    status: str,
    error: str = "",
    inbound: InboundNotification | None = None,
    short: bool = False,
) -> Notification:
    """One INSERT outside any transaction is its own transaction: durable when this returns,
    whatever happens next (the view runs in autocommit, ``ATOMIC_REQUESTS`` is off)."""
    return _insert(
        {
            "gateway": without_nul(gateway[:20]),
            "bank_account_id": account.pk if account is not None else None,
            "path": without_nul(request.path[:300]),
            "headers": stored_headers(gateway, request.headers, short=short),
            "body": text,
            "remote_addr": clean_ip(request.remote_addr),
            "status": status,
            "error": error,
            "payment_token": inbound.payment_token[:128] if inbound else "",
            "charge_reference": inbound.charge_reference[:255] if inbound else "",
        }
    )


@functools.cache
def _insert_statement() -> tuple[tuple[Field, ...], str]:
    """The row's fields and ``INSERT ... RETURNING id``, built once per process from the model."""
    meta = Notification._meta
    fields = tuple(field for field in meta.concrete_fields if not field.primary_key)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table, key = quote(meta.db_table), quote(str(meta.pk.column))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING {key}"  # noqa: S608 - model names
    return fields, sql


def _insert(values: dict[str, Any]) -> Notification:
    """``Notification.objects.create`` for the intake: the same row (fields not given take their
    defaults, ``auto_now_add`` the current time, each value prepared by its field), in a statement
    compiled once per process. The ORM's per-save work cost about as much as the statement itself
    on this path; notifications have no save signals to miss."""
    fields, sql = _insert_statement()
    row = dict(values)
    now = timezone.now()
    params = []
    for field in fields:
        if field.attname not in row:
            row[field.attname] = now if getattr(field, "auto_now_add", False) else field.get_default()
        params.append(field.get_db_prep_save(row[field.attname], connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pk = cursor.fetchone()[0]
    notification = Notification(pk=pk, **row)
    notification._state.adding = False
    notification._state.db = connection.alias
    return notification


def stored_headers(gateway: str, headers: Mapping[str, str], *, short: bool = False) -> dict[str, str]:
    """The headers as stored: no cookies or credentials, the gateway's secrets replaced by hashes."""
    cleaned = clean_headers(headers, short=short)
    handler = HANDLERS.get(gateway)
    return handler.redact_headers(cleaned) if handler is not None else cleaned


def _limited(decision: limits.Decision) -> NotificationResult:
    return NotificationResult(
        None,
        Outcome.LIMITED,
        _("Too many notifications; send it again later."),
        retry_after=int(decision.retry_after_header),
    )


def notification_receive(
    *, gateway: str, public_id: str | None, request: InboundRequest
) -> NotificationResult:
    """Check, store and queue one inbound POST (see the table above). ``public_id`` None is
    MK-Auth's path. Raises ``DatabaseError`` when nothing could be stored (the view answers 503)."""
    handler = HANDLERS.get(gateway)
    cap = settings.NOTIFICATION_WAITING_CAP
    limit = settings.NOTIFICATION_MAX_BODY_BYTES
    text = decode_body(request.body[:limit], request.charset)
    if handler is not None:
        text = handler.redact(text)
    with_secrets = handler is not None and handler.refuse_at_intake is not None
    known = known_accounts.remembered(gateway, public_id) if handler is not None else None
    sender = limits.address_limit(request.remote_addr)
    read_now = False
    if known is not None:  # the usual post: both limits in one step, no read
        decision = _decide(sender, _account_limit(known))
    else:  # a URL this process does not remember: the sender's limit before any read
        decision = _decide(sender)
        if decision is not None and decision.allowed and handler is not None:
            known = known_accounts.look_up(gateway, public_id, cap=cap, with_secrets=with_secrets)
            read_now = True
            if known is not None:
                decision = _decide(_account_limit(known))
    if decision is None:  # the cache is down: store it for the sweep, ask the gateway to come back
        account = known.account if known is not None else None
        return _unavailable(gateway=gateway, public_id=public_id, request=request, text=text, account=account)
    if not decision.allowed:
        return _limited(decision)
    if known is None:  # no account at this URL (or no such gateway)
        cut = settings.NOTIFICATION_UNKNOWN_ACCOUNT_BODY_BYTES
        message = _("No bank account matches this notification URL.")
        notification = _store(
            gateway=gateway,
            request=request,
            text=text[:cut],
            account=None,
            status=N.REJECTED,
            error=message,
            short=True,
        )
        return NotificationResult(notification, Outcome.NOT_FOUND, message)
    account = known.account
    assert handler is not None  # an unknown gateway has no account

    errors = _transport_errors(request, handler.content_type)
    if errors:
        notification = _store(
            gateway=gateway,
            request=request,
            text=text,
            account=account,
            status=N.INVALID,
            error="; ".join(errors.values()),
        )
        return NotificationResult(notification, Outcome.INVALID, _("The request is malformed."), errors)
    try:
        inbound = parse_body(gateway, text)
        if account is None and handler.check_unaddressed is not None:
            handler.check_unaddressed(inbound)
    except NotificationInvalid as exc:
        notification = _store(
            gateway=gateway, request=request, text=text, account=account, status=N.INVALID, error=exc.message
        )
        return NotificationResult(notification, Outcome.INVALID, exc.message, exc.errors)
    refusal = ""
    if account is not None and handler.refuse_at_intake is not None:
        refusal = handler.refuse_at_intake(account, inbound, stored_headers(gateway, request.headers))
    if refusal:
        notification = _store(
            gateway=gateway,
            request=request,
            text=text,
            account=account,
            status=N.REJECTED,
            error=refusal,
            inbound=inbound,
        )
        return NotificationResult(notification, handler.refusal, refusal)

    waiting = known.waiting
    if cap > 0 and waiting >= cap and not read_now:  # refused only on a count just read
        recounted = known_accounts.look_up(gateway, public_id, cap=cap, with_secrets=with_secrets)
        waiting = recounted.waiting if recounted is not None else 0
        known = recounted or known
    if cap > 0 and waiting >= cap:
        message = _("Too many notifications of this account wait for verification; send it again later.")
        notification = _store(
            gateway=gateway,
            request=request,
            text=text,
            account=account,
            status=N.OVERFLOW,
            error=message,
            inbound=inbound,
        )
        return NotificationResult(
            notification, Outcome.OVERFLOW, message, retry_after=limits.waiting_retry_after()
        )

    notification = _store(
        gateway=gateway, request=request, text=text, account=account, status=N.RECEIVED, inbound=inbound
    )
    known_accounts.admitted(known)
    if not wake_dispatcher():
        return NotificationResult(
            notification,
            Outcome.UNAVAILABLE,
            _("Stored, but it could not be queued; send it again later."),
            retry_after=limits.waiting_retry_after(),
        )
    return NotificationResult(notification, Outcome.RECEIVED)


def _decide(*chosen: limits.Limit | None) -> limits.Decision | None:
    """The limits' decision, or None when their store is unavailable (logged)."""
    try:
        return limits.decide(*chosen)
    except Exception:
        logger.exception("notification intake limits unavailable")
        return None


def _account_limit(known: known_accounts.Known) -> limits.Limit | None:
    account = known.account
    return limits.account_limit(str(account.pk) if account is not None else limits.LEGACY_PATH_KEY)


def _unavailable(
    *,
    gateway: str,
    public_id: str | None,
    request: InboundRequest,
    text: str,
    account: BankAccount | None = None,
) -> NotificationResult:
    """The limits could not be checked: keep what arrived (the sweep processes it) and answer 503."""
    unknown = False
    if public_id is not None and account is None:
        account = _plain_account(gateway, public_id)
        unknown = account is None
    notification = _store(
        gateway=gateway,
        request=request,
        text=text[: settings.NOTIFICATION_UNKNOWN_ACCOUNT_BODY_BYTES] if unknown else text,
        account=account,
        status=N.REJECTED if unknown else N.RECEIVED,
        error=_("No bank account matches this notification URL.") if unknown else "",
        short=unknown,
    )
    return NotificationResult(
        notification,
        Outcome.UNAVAILABLE,
        _("The notification could not be handled now; send it again later."),
        retry_after=limits.waiting_retry_after(),
    )


def _plain_account(gateway: str, public_id: str) -> BankAccount | None:
    if gateway not in HANDLERS or "\x00" in public_id:
        return None
    return BankAccount.objects.filter(gateway=gateway, public_id=public_id).first()


# --- retention -------------------------------------------------------------------------------------
#: What the daily prune deletes once older than NOTIFICATION_RETENTION_DAYS: rows that changed nothing.
#: Processed rows explain payments and charges and are kept; failed ones wait for staff.
PRUNED_STATUSES = (N.INVALID, N.REJECTED, N.OVERFLOW)
PRUNE_BATCH = 5000


def notifications_prune(*, now: dt.datetime | None = None) -> int:
    """Delete invalid, rejected and over-cap notifications older than the retention; returns how many.

    In batches, so that a flood's worth of rows never holds one long lock.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    old = Notification.objects.filter(status__in=PRUNED_STATUSES, received_at__lt=cutoff, payments=None)
    deleted = 0
    while ids := list(old.order_by().values_list("pk", flat=True)[:PRUNE_BATCH]):
        deleted += Notification.objects.filter(pk__in=ids).delete()[0]
    return deleted
