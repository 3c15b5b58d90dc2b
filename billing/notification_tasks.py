"""Celery tasks for notifications and reconciliation (imported by billing/tasks.py for discovery).

Thin: each takes an id (or nothing), calls one service, and is safe to run twice.
"""

from __future__ import annotations

import logging

from celery import shared_task

from billing.services.notifications import Outcome, notification_process
from billing.services.notifications.dispatch import notifications_dispatch
from billing.services.notifications.inbox import notifications_prune
from core.queue import DISPATCH_NOTIFICATIONS, PROCESS_NOTIFICATION, PRUNE_NOTIFICATIONS, RECONCILE, backoff

logger = logging.getLogger(__name__)

MAX_RETRIES = 8
#: A notification waits for a gateway that could not be asked: its first retry up to 30 s later,
#: each later one up to twice as long, never more than 15 minutes (below the broker's visibility
#: timeout, like every cap used with :func:`core.queue.backoff`).
RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 900


@shared_task(
    name=PROCESS_NOTIFICATION,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def process_notification(self, notification_id: int) -> str:
    """Verify and apply a stored notification (queued by the dispatch, and again while the gateway
    cannot be asked); left for the hourly sweep once retries run out."""
    result = notification_process(notification_id, actor_label="task:process_notification")
    if result.outcome != Outcome.RETRYING:
        return result.outcome
    if self.request.retries >= self.max_retries:
        logger.warning("notification %s left for the sweep: %s", notification_id, result.message)
        return "deferred"
    raise self.retry(
        countdown=backoff(
            self.request.retries,
            base=RETRY_BASE_SECONDS,
            cap=RETRY_CAP_SECONDS,
            retry_after=result.retry_after,
        )
    )


@shared_task(name=DISPATCH_NOTIFICATIONS, acks_late=True, ignore_result=True)
def dispatch_notifications() -> int:
    """Hand the received notifications to one processing task each (sent by the intake)."""
    return notifications_dispatch()


@shared_task(name=PRUNE_NOTIFICATIONS, acks_late=True, ignore_result=True)
def prune_notifications() -> int:
    """Daily: delete the notifications that changed nothing once past their retention."""
    return notifications_prune()


@shared_task(name=RECONCILE, acks_late=True, reject_on_worker_lost=True)
def reconcile() -> dict[str, int]:
    """The daily comparison of every active Juno account with the gateway's confirmed payments."""
    from billing.services.reconciliation import reconcile_all

    return reconcile_all()


__all__ = ["dispatch_notifications", "process_notification", "prune_notifications", "reconcile"]
