"""From the inbox to the processing tasks, without a broker message per post on the answer's path.

The intake stores a notification ``received`` and calls :func:`wake_dispatcher`, which sends one
``billing.dispatch_notifications`` task to run :data:`WAKE_DELAY` seconds later, unless this process
already sent one that has not run yet: that one runs after this row was committed, and takes it
too. So a burst of posts costs each web process at most one broker message per
:data:`WAKE_DELAY`, and the answer does not wait for the broker's client code.

The dispatch (:func:`notifications_dispatch`) claims ``received`` rows in one statement (``queued``,
under ``SKIP LOCKED`` where the database has it, so concurrent dispatches share the work) and hands each
to its own ``billing.process_notification`` task, so that every worker slot verifies one
notification at a time. A row whose message was lost (a worker killed, the broker down between
claim and send) is processed by the sweep once stale.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import connection

from billing.models import Notification, NotificationStatus
from core.queue import DISPATCH_NOTIFICATIONS, PROCESS_NOTIFICATION, enqueue

logger = logging.getLogger(__name__)
N = NotificationStatus

#: Seconds between a post and the dispatch that takes it (at most one broker message per process
#: per this many seconds).
WAKE_DELAY = 0.2
#: Rows one dispatch claims; a full batch sends another dispatch at once.
DISPATCH_BATCH = 500

_wake_lock = threading.Lock()
_wake_runs_at = 0.0  # when the dispatch this process last sent runs (time.time())


def wake_dispatcher() -> bool:
    """Make sure a dispatch runs after the row just committed; False when the broker refused."""
    global _wake_runs_at
    now = time.time()
    with _wake_lock:
        if _wake_runs_at > now:  # one is on its way and runs after this row's commit
            return True
        _wake_runs_at = now + WAKE_DELAY
    try:
        enqueue(DISPATCH_NOTIFICATIONS, countdown=WAKE_DELAY)
    except Exception:  # any broker failure: the row waits for the sweep, the gateway is asked to retry
        logger.exception("could not send the notification dispatch")
        with _wake_lock:
            _wake_runs_at = 0.0
        return False
    return True


def _claim(limit: int) -> list[int]:
    """One statement: mark up to ``limit`` received rows queued, oldest first; their ids."""
    table = Notification._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    with connection.cursor() as cursor:
        cursor.execute(  # the table comes from the model; every value is a parameter
            f"UPDATE {table} SET status = %s WHERE id IN "  # noqa: S608
            f"(SELECT id FROM {table} WHERE status = %s ORDER BY id LIMIT %s{lock}) RETURNING id",
            [N.QUEUED, N.RECEIVED, limit],
        )
        return sorted(row[0] for row in cursor.fetchall())


def notifications_dispatch(*, limit: int = DISPATCH_BATCH) -> int:
    """Claim up to ``limit`` received notifications and queue one processing task each; how many."""
    ids = _claim(limit)
    for notification_id in ids:
        enqueue(PROCESS_NOTIFICATION, notification_id)
    if len(ids) == limit:  # more may wait: another dispatch at once
        enqueue(DISPATCH_NOTIFICATIONS)
    return len(ids)
