"""How a notification ends: the outcomes, and the one write that records an outcome on the row.

Every gateway's processing (``juno``, ``mycontas`` and any other) ends through :func:`finish` or
:func:`retry_later`, so the inbox reads the same way whatever the gateway.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from django.utils import timezone

from billing.models import Notification, NotificationStatus

logger = logging.getLogger(__name__)
N = NotificationStatus

#: Processing attempts after which a notification is no longer retried (it becomes failed).
MAX_ATTEMPTS = 12


class Outcome:
    RECEIVED = "received"  # stored and queued: processing follows in a task
    LIMITED = "limited"  # over an intake limit: not stored
    OVERFLOW = "overflow"  # over the waiting cap: stored, never processed
    UNAVAILABLE = "unavailable"  # the cache or the broker is down
    PROCESSED = "processed"
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    UNAUTHORIZED = "unauthorized"  # a webhook without the account's token (Asaas)
    REJECTED = "rejected"
    FAILED = "failed"
    RETRYING = "retrying"


@dataclass
class NotificationResult:
    """What happened to one notification; ``message`` and ``errors`` are safe to answer with.

    ``notification`` is None when nothing was stored (a post over an intake limit); ``retry_after``
    (seconds) is set when the sender should send it again later, or, for a notification left
    ``retrying``, when the gateway asked us to wait that long before asking it again.
    """

    notification: Notification | None
    outcome: str
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    retry_after: int | None = None


def finish(
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


def retry_later(
    notification: Notification, message: str, *, retry_after: float | None = None
) -> NotificationResult:
    """The gateway could not be asked: ``retrying`` until :data:`MAX_ATTEMPTS`, then ``failed``.

    ``retry_after`` is how long a throttling gateway asked us to wait (HTTP 429's ``Retry-After``):
    the retry task waits at least that long (:func:`core.queue.backoff`).
    """
    status = N.RETRYING if notification.attempts < MAX_ATTEMPTS else N.FAILED
    outcome = Outcome.RETRYING if status == N.RETRYING else Outcome.FAILED
    logger.warning("notification %s not processed (%s): %s", notification.pk, status, message)
    result = finish(notification, outcome, status, message)
    if retry_after is not None and retry_after > 0:
        result.retry_after = math.ceil(retry_after)
    return result
