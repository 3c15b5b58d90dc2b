"""The one way work reaches the Celery workers, and the one backoff formula their retries use.

:func:`enqueue` sends a task only once the current transaction commits (at once outside one):
enqueueing inside the transaction would let a worker read a row before it is committed, or after
it was rolled back. Tasks are looked up by name in the Celery app's registry, so this module
imports no task module and no service has to import one: the task modules import the services,
never the other way round.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from typing import Any

from celery import current_app
from django.db import transaction

# Task names: what the workers register (``@shared_task(name=...)``) and what beat schedules.
ISSUE_CHARGE = "billing.issue_charge"
CANCEL_CHARGE = "billing.cancel_charge"
SWEEP = "billing.sweep"
PROCESS_NOTIFICATION = "billing.process_notification"
DISPATCH_NOTIFICATIONS = "billing.dispatch_notifications"
PRUNE_NOTIFICATIONS = "billing.prune_notifications"
RECONCILE = "billing.reconcile"

#: First retry waits up to this many seconds; each later one doubles the ceiling.
BACKOFF_BASE_SECONDS = 10
#: No retry waits longer. Must stay below the broker's visibility timeout
#: (``CELERY_BROKER_VISIBILITY_TIMEOUT``), or Redis would hand the waiting message to a second
#: worker; a test holds every cap used with this formula to that.
BACKOFF_CAP_SECONDS = 600


def backoff(retries: int, *, base: int = BACKOFF_BASE_SECONDS, cap: int = BACKOFF_CAP_SECONDS) -> int:
    """Seconds before retry number ``retries + 1``: exponential with full jitter, capped.

    Full jitter (a uniform draw below the exponential ceiling) spreads the retries of many workers
    that failed together, so a gateway coming back is not hit by all of them in the same second.
    """
    return random.randint(1, min(cap, base * 2**retries))


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


def enqueue(task_name: str, *args: Any, countdown: float | None = None) -> None:
    """Run ``task_name(*args)`` on a worker once the current transaction commits.

    Outside a transaction the message leaves at once, and a broker error reaches the caller.
    An unknown task name fails here, in the caller's code path, not later in a worker.
    """
    task(task_name)
    transaction.on_commit(lambda: publish(task_name, args, countdown))
