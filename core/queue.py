"""The one way work reaches the Celery workers, and the one backoff formula their retries use.

:func:`enqueue` sends a task only once the current transaction commits (at once outside one):
enqueueing inside the transaction would let a worker read a row before it is committed, or after
it was rolled back. Tasks are looked up by name in the Celery app's registry, so this module
imports no task module and no service has to import one: the task modules import the services,
never the other way round.

A broker that cannot be reached when a transaction commits does not turn the committed work into
an error: the message is logged as not sent and the sweep (which hands every ``pending``,
``unknown`` and ``cancel_requested`` charge and every unprocessed notification to the workers)
sends it once the broker is back. A caller that tells people what happened wraps its work in
:func:`delivery_report` and says so.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerOperationalError

logger = logging.getLogger(__name__)

# Task names: what the workers register (``@shared_task(name=...)``) and what beat schedules.
ISSUE_CHARGE = "billing.issue_charge"
CANCEL_CHARGE = "billing.cancel_charge"
SWEEP = "billing.sweep"
PROCESS_NOTIFICATION = "billing.process_notification"
DISPATCH_NOTIFICATIONS = "billing.dispatch_notifications"
PRUNE_NOTIFICATIONS = "billing.prune_notifications"
RECONCILE = "billing.reconcile"
RECONCILE_ACCOUNT = "billing.reconcile_account"
CANCEL_BOLETO_PAID_ELSEWHERE = "billing.cancel_boleto_paid_elsewhere"
QUEUE_REMINDERS = "dunning.queue_reminders"
SEND_REMINDERS = "dunning.send_reminders"

#: First retry waits up to this many seconds; each later one doubles the ceiling.
BACKOFF_BASE_SECONDS = 10
#: No retry waits longer. Must stay below the broker's visibility timeout
#: (``CELERY_BROKER_VISIBILITY_TIMEOUT``), or Redis would hand the waiting message to a second
#: worker; a test holds every cap used with this formula to that.
BACKOFF_CAP_SECONDS = 600


def backoff(
    retries: int,
    *,
    base: int = BACKOFF_BASE_SECONDS,
    cap: int = BACKOFF_CAP_SECONDS,
    retry_after: float | None = None,
) -> int:
    """Seconds before retry number ``retries + 1``: exponential with full jitter, capped.

    Full jitter (a uniform draw below the exponential ceiling) spreads the retries of many workers
    that failed together, so a gateway coming back is not hit by all of them in the same second.
    ``retry_after`` is how long a throttling gateway asked us to wait (HTTP 429's ``Retry-After``):
    the retry never comes sooner than that, nor later than ``cap`` (a longer wait would outlast the
    broker's visibility timeout; the hourly sweep takes over from there).
    """
    wait = random.randint(1, min(cap, base * 2**retries))
    if retry_after is not None and retry_after > 0:
        wait = max(wait, min(cap, math.ceil(retry_after)))
    return wait


_discovery = threading.Lock()


def task(name: str) -> Any:
    """The registered task called ``name``; task modules are discovered on first use."""
    app = current_app._get_current_object()
    if name not in app.tasks:
        # A web process has not imported the task modules yet: the same discovery a worker runs,
        # by one thread while the others wait (a thread arriving mid-import would find no task).
        with _discovery:
            if name not in app.tasks:
                app.loader.import_default_modules()
    return app.tasks[name]


def publish(name: str, args: Sequence[Any], countdown: float | None) -> None:
    """Hand one message to the broker now (what :func:`enqueue` does once the transaction commits)."""
    task(name).apply_async(args=list(args), countdown=countdown)


#: What publishing raises when the broker cannot be reached: kombu wraps the transport's connection
#: errors (Redis refused or timed out) in its OperationalError; the filesystem transport raises OSError.
BROKER_ERRORS: tuple[type[Exception], ...] = (BrokerOperationalError, OSError)

#: The names of the tasks whose message could not be sent, while a :func:`delivery_report` is open.
_undelivered: ContextVar[list[str] | None] = ContextVar("undelivered", default=None)


@contextmanager
def delivery_report() -> Iterator[list[str]]:
    """Collects the task names whose message could not reach the broker after a commit in the block.

    A staff page that committed work wraps the service call in it, and when the list is not empty
    says that the work is saved and will be sent once the queue is back, instead of an error page
    that would invite a second submit.
    """
    failed: list[str] = []
    token = _undelivered.set(failed)
    try:
        yield failed
    finally:
        _undelivered.reset(token)


def publish_after_commit(name: str, args: Sequence[Any], countdown: float | None) -> None:
    """:func:`publish`, for a transaction that has committed: a broker error is logged, not raised.

    Raising here would answer an error for work that is saved; the sweep sends it later instead.
    """
    try:
        publish(name, args, countdown)
    except BROKER_ERRORS as exc:
        logger.error(
            "queue unreachable: %s%s not sent (%s); the sweep sends it once the broker is back",
            name,
            tuple(args),
            type(exc).__name__,
        )
        failed = _undelivered.get()
        if failed is not None:
            failed.append(name)


def enqueue(task_name: str, *args: Any, countdown: float | None = None) -> None:
    """Run ``task_name(*args)`` on a worker once the current transaction commits.

    Outside a transaction the message leaves at once, and a broker error reaches the caller (who
    has committed nothing through this call and may answer or count it). After a commit a broker
    error is logged and reported to an open :func:`delivery_report`; the sweep sends the work later.
    An unknown task name fails here, in the caller's code path, not later in a worker.
    """
    task(task_name)
    if not transaction.get_connection().in_atomic_block:
        publish(task_name, args, countdown)
        return
    transaction.on_commit(lambda: publish_after_commit(task_name, args, countdown))
