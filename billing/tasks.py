"""Celery tasks: thin wrappers that take ids, re-read rows and call one service each.

Every task is safe to run twice (the services check the state under a row lock), so messages are
acknowledged late (settings: ``CELERY_TASK_ACKS_LATE``): a worker killed mid-task gets the message
redelivered by Redis instead of losing it. Transport errors retry with :func:`core.queue.backoff`
(exponential, full jitter); after :data:`MAX_RETRIES` the charge stays ``pending``, ``unknown`` or
``cancel_requested`` and the hourly sweep takes it from there. A gateway's rejection is recorded by
the service (``failed``) and never retried.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import OperationalError

from billing.services import billing_run_jobs, charges, cycle, manual_payments, service_status, sweep
from billing.services.charge_effects import SERVICE_STATUS_REFRESH
from core.queue import (
    CANCEL_BOLETO_PAID_ELSEWHERE,
    CANCEL_CHARGE,
    ISSUE_CHARGE,
    RECONCILE_ACCOUNT,
    SWEEP,
    backoff,
)
from gateways.base import GatewayUnavailable

logger = logging.getLogger(__name__)

MAX_RETRIES = 6

#: Errors worth another try later: the gateway's transport, and a busy database (SQLite's lock).
RETRYABLE = (GatewayUnavailable, OperationalError)


def countdown_for(exc: Exception, retries: int) -> int:
    """The backoff, and not sooner than a throttling gateway asked (``Retry-After``)."""
    return backoff(retries, retry_after=getattr(exc, "retry_after", None))


def _retry_or_defer(task: Any, exc: Exception, what: str, charge_id: int) -> str:
    message = getattr(exc, "message", None) or type(exc).__name__
    if task.request.retries >= task.max_retries:
        logger.warning("%s of charge %s left for the sweep: %s", what, charge_id, message)
        return "deferred"
    raise task.retry(exc=exc, countdown=countdown_for(exc, task.request.retries))


@shared_task(
    bind=True, name=ISSUE_CHARGE, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES
)
def issue_charge(self: Any, charge_id: int) -> str:
    """Send one charge (or its whole carnê) to the gateway; ``unknown`` ones are looked up first."""
    try:
        return charges.charge_issue(charge_id=charge_id, actor_label="task:issue_charge").state
    except RETRYABLE as exc:
        return _retry_or_defer(self, exc, "issue", charge_id)


@shared_task(
    bind=True, name=CANCEL_CHARGE, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES
)
def cancel_charge(self: Any, charge_id: int) -> str:
    """Cancel a ``cancel_requested`` charge at the gateway."""
    try:
        return charges.charge_cancel_at_gateway(charge_id=charge_id, actor_label="task:cancel_charge").state
    except RETRYABLE as exc:
        return _retry_or_defer(self, exc, "cancel", charge_id)


@shared_task(name=RECONCILE_ACCOUNT, acks_late=True, ignore_result=True)
def reconcile_account(account_id: int) -> dict[str, int]:
    """One bank account compared with its gateway now (staff's "reconcile now")."""
    from billing.services.reconciliation import reconcile_account_now

    run = reconcile_account_now(account_id=account_id)
    return {"repaired": run.repaired, "differences": run.differences} if run else {"skipped": 1}


@shared_task(
    bind=True,
    name=CANCEL_BOLETO_PAID_ELSEWHERE,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def cancel_boleto_paid_elsewhere(self: Any, charge_id: int) -> str:
    """Cancel at the gateway the boleto of a charge staff recorded as paid (see manual_payments)."""
    try:
        return manual_payments.boleto_cancel_paid_elsewhere(charge_id=charge_id).state
    except RETRYABLE as exc:
        return _retry_or_defer(self, exc, "cancel of a boleto paid elsewhere", charge_id)


@shared_task(name=SWEEP, acks_late=True, ignore_result=True)
def run_sweep() -> dict[str, int]:
    """The hourly safety net: hands every stranded charge to the tasks above (see services.sweep)."""
    result = sweep.sweep_run(dispatch=sweep.enqueue_dispatch)
    return result.as_dict() if result is not None else {"skipped": 1}


@shared_task(name="billing.monthly_cycle", acks_late=True, ignore_result=True)
def monthly_cycle() -> dict[str, object]:
    """Daily: each customer's next charge, the provider's number of days before it is due."""
    result = cycle.cycle_run()
    return result.as_dict() if result is not None else {"skipped": 1}


@shared_task(name="billing.overdue_pass", acks_late=True, ignore_result=True)
def overdue_pass() -> dict[str, int]:
    """Daily: block and unblock by the overdue policy (billing.services.service_status)."""
    result = service_status.overdue_pass()
    return result.as_dict() if result is not None else {"skipped": 1}


@shared_task(
    bind=True, name=SERVICE_STATUS_REFRESH, acks_late=True, ignore_result=True, max_retries=MAX_RETRIES
)
def service_status_refresh(self: Any, customer_id: int) -> bool:
    """Right after a charge stops being open: unblock its customer when nothing overdue is left."""
    try:
        return service_status.service_status_refresh(customer_id=customer_id)
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@shared_task(name=billing_run_jobs.BILLING_RUN_TASK, acks_late=True, ignore_result=True)
def run_billing(run_id: int) -> str:
    """A billing run asked for from the admin ("Gerar cobranças")."""
    return billing_run_jobs.billing_run_execute(run_id=run_id).state
