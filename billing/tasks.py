"""Celery tasks: thin wrappers that take ids, re-read rows and call one service each.

Every task is safe to run twice (the services check the state under a row lock), so they ack late:
a worker killed mid-task gets the message redelivered instead of losing it.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task

from billing.services import charges
from gateways.base import GatewayUnavailable

logger = logging.getLogger(__name__)

MAX_RETRIES = 6
BACKOFF_BASE_SECONDS = 10
BACKOFF_CAP_SECONDS = 600  # stays below the Redis visibility timeout (see settings)


def backoff(retries: int) -> int:
    """Exponential backoff with full jitter: 10 s, 20 s, 40 s ... capped at 10 minutes."""
    return random.randint(1, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**retries))


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def issue_charge(self, charge_id: int) -> str:
    try:
        return charges.charge_issue(charge_id=charge_id, actor_label="task:issue_charge").state
    except GatewayUnavailable as exc:
        if self.request.retries >= self.max_retries:
            logger.warning("issue of charge %s left for the sweep: %s", charge_id, exc.message)
            return "deferred"
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def cancel_charge(self, charge_id: int) -> str:
    try:
        return charges.charge_cancel_at_gateway(charge_id=charge_id, actor_label="task:cancel_charge").state
    except GatewayUnavailable as exc:
        if self.request.retries >= self.max_retries:
            logger.warning("cancel of charge %s left for the sweep: %s", charge_id, exc.message)
            return "deferred"
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
