"""Celery tasks for notifications and reconciliation (imported by billing/tasks.py for discovery).

Thin: each takes an id (or nothing), calls one service, and is safe to run twice.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task

logger = logging.getLogger(__name__)

MAX_RETRIES = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 900  # below the Redis visibility timeout (see settings)


def retry_countdown(retries: int) -> int:
    """Exponential backoff with full jitter: up to 30 s, 60 s, 120 s ... capped at 15 minutes."""
    return random.randint(1, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**retries))


@shared_task(
    name="billing.process_notification",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def process_notification(self, notification_id: int) -> str:
    """Process a stored notification again; left for the hourly sweep once retries run out."""
    from billing.services.notifications import Outcome, notification_process

    result = notification_process(notification_id, actor_label="task:process_notification")
    if result.outcome != Outcome.RETRYING:
        return result.outcome
    if self.request.retries >= self.max_retries:
        logger.warning("notification %s left for the sweep: %s", notification_id, result.message)
        return "deferred"
    raise self.retry(countdown=retry_countdown(self.request.retries))


@shared_task(name="billing.reconcile", acks_late=True, reject_on_worker_lost=True)
def reconcile() -> dict[str, int]:
    """The daily comparison of every active Juno account with the gateway's confirmed payments."""
    from billing.services.reconciliation import reconcile_all

    return reconcile_all()


__all__ = ["process_notification", "reconcile"]
