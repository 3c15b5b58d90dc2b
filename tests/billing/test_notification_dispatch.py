"""From the inbox to the processing tasks: the intake's coalesced wake-up and the dispatch."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from billing.models import Notification, NotificationStatus
from billing.services.notifications import dispatch
from core import queue

N = NotificationStatus
#: Autocommit, as in the intake and the worker: what is sent on commit leaves at once.
pytestmark = pytest.mark.django_db(transaction=True)
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent dispatches need PostgreSQL (set DATABASE_URL)"
)


@pytest.fixture
def sent(sent_tasks, monkeypatch):
    """What reaches the broker, as (task name, args, countdown); no dispatch on its way yet."""
    monkeypatch.setattr(dispatch, "_wake_runs_at", 0.0)
    return sent_tasks


def test_one_wake_up_per_delay_whatever_the_posts(sent, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(dispatch.time, "time", lambda: clock[0])
    assert all(dispatch.wake_dispatcher() for _ in range(5))
    assert sent == [(queue.DISPATCH_NOTIFICATIONS, [], dispatch.WAKE_DELAY)]
    clock[0] += dispatch.WAKE_DELAY / 2  # the dispatch sent has not run: it takes this row too
    assert dispatch.wake_dispatcher() and len(sent) == 1
    clock[0] += dispatch.WAKE_DELAY  # it ran (or is running): a row committed now needs another
    assert dispatch.wake_dispatcher() and len(sent) == 2


def test_a_refused_wake_up_is_tried_again_by_the_next_post(sent, monkeypatch):
    def broken(name, args, countdown):
        raise ConnectionError("broker down")

    real = queue.publish
    monkeypatch.setattr(queue, "publish", broken)
    assert dispatch.wake_dispatcher() is False
    monkeypatch.setattr(queue, "publish", real)
    assert dispatch.wake_dispatcher() is True and len(sent) == 1


def _rows(status: str, n: int) -> list[int]:
    return [Notification.objects.create(gateway="juno", path="/x", status=status).pk for _ in range(n)]


def test_the_dispatch_queues_each_received_row_once(sent):
    received = _rows(N.RECEIVED, 3)
    _rows(N.RETRYING, 1)
    _rows(N.PROCESSED, 1)
    assert dispatch.notifications_dispatch() == 3
    assert sent == [(queue.PROCESS_NOTIFICATION, [pk], None) for pk in received]
    assert set(Notification.objects.filter(pk__in=received).values_list("status", flat=True)) == {N.QUEUED}
    assert dispatch.notifications_dispatch() == 0 and len(sent) == 3


def test_a_full_batch_sends_another_dispatch_at_once(sent):
    _rows(N.RECEIVED, 3)
    assert dispatch.notifications_dispatch(limit=2) == 2
    assert sent[-1] == (queue.DISPATCH_NOTIFICATIONS, [], None)
    assert dispatch.notifications_dispatch(limit=2) == 1


def test_the_dispatch_task_runs_the_service(sent):
    from billing.notification_tasks import dispatch_notifications

    _rows(N.RECEIVED, 2)
    assert dispatch_notifications.apply().get() == 2


@needs_postgresql
def test_concurrent_dispatches_never_claim_the_same_row(sent):
    ids = _rows(N.RECEIVED, 300)
    barrier = threading.Barrier(6)

    def one(_n: int) -> int:
        barrier.wait()
        try:
            return dispatch.notifications_dispatch(limit=40)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=6) as pool:
        while Notification.objects.filter(status=N.RECEIVED).exists():
            barrier.reset()
            list(pool.map(one, range(6)))
    processed = [args[0] for name, args, _ in sent if name == queue.PROCESS_NOTIFICATION]
    assert sorted(processed) == ids  # every row once, none twice
