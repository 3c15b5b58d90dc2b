"""core.queue: the one path to the workers (after commit, by task name) and the one backoff formula."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery.exceptions import NotRegistered
from django.conf import settings
from django.db import transaction

from core import queue

ROOT = Path(__file__).resolve().parents[2]


def test_backoff_grows_exponentially_with_full_jitter():
    for retries in range(8):
        ceiling = min(queue.BACKOFF_CAP_SECONDS, queue.BACKOFF_BASE_SECONDS * 2**retries)
        samples = {queue.backoff(retries) for _ in range(300)}
        assert min(samples) >= 1 and max(samples) <= ceiling
        assert len(samples) > 1  # jitter: not one fixed delay for every worker
    assert max(queue.backoff(2, base=30, cap=900) for _ in range(300)) <= 120


def test_a_retry_after_is_a_floor_for_the_backoff():
    # The gateway said when to come back (HTTP 429's Retry-After): never sooner, jitter above it.
    samples = {queue.backoff(6, retry_after=120.2) for _ in range(300)}
    assert min(samples) >= 121 and max(samples) <= queue.BACKOFF_CAP_SECONDS
    assert len(samples) > 1
    assert {queue.backoff(0, retry_after=45)} == {45}  # the first ceiling (10 s) is below it


def test_a_retry_after_never_outlasts_the_cap():
    assert queue.backoff(0, retry_after=86400) == queue.BACKOFF_CAP_SECONDS
    assert queue.backoff(0, base=30, cap=900, retry_after=86400) == 900


@pytest.mark.parametrize("retry_after", [None, 0, -5])
def test_no_usable_retry_after_leaves_the_plain_backoff(retry_after):
    assert max(queue.backoff(0, retry_after=retry_after) for _ in range(300)) <= queue.BACKOFF_BASE_SECONDS


def test_the_cap_stays_below_the_visibility_timeout():
    # A message waiting longer than the visibility timeout would be handed to a second worker.
    assert queue.BACKOFF_CAP_SECONDS < settings.CELERY_BROKER_VISIBILITY_TIMEOUT
    assert max(queue.backoff(30) for _ in range(300)) <= queue.BACKOFF_CAP_SECONDS


def test_every_task_name_is_registered():
    names = [
        queue.ISSUE_CHARGE,
        queue.CANCEL_CHARGE,
        queue.SWEEP,
        queue.PROCESS_NOTIFICATION,
        queue.DISPATCH_NOTIFICATIONS,
        queue.PRUNE_NOTIFICATIONS,
        queue.RECONCILE,
    ]
    assert [queue.task(name).name for name in names] == names


def test_an_unknown_task_name_fails_in_the_caller(sent_tasks):
    with pytest.raises(NotRegistered):
        queue.enqueue("billing.no_such_task", 1)
    assert sent_tasks == []


@pytest.mark.django_db
def test_inside_a_transaction_the_message_leaves_on_commit(sent_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue.enqueue(queue.ISSUE_CHARGE, 7, countdown=30)
        assert sent_tasks == []
    for callback in callbacks:
        callback()
    assert sent_tasks == [(queue.ISSUE_CHARGE, [7], 30)]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing_and_autocommit_sends_at_once(sent_tasks):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue.enqueue(queue.CANCEL_CHARGE, 1)
        raise RuntimeError
    assert sent_tasks == []
    queue.enqueue(queue.CANCEL_CHARGE, 2)
    assert sent_tasks == [(queue.CANCEL_CHARGE, [2], None)]


def test_publish_hands_args_and_countdown_to_the_task(monkeypatch):
    calls = []

    class Task:
        def apply_async(self, **options):
            calls.append(options)

    monkeypatch.setattr(queue, "task", lambda name: Task())
    queue.publish(queue.ISSUE_CHARGE, (5,), 12)
    assert calls == [{"args": [5], "countdown": 12}]


def test_a_fresh_process_finds_the_tasks_without_importing_a_task_module_first():
    # What a web process does: no task module is imported until the first enqueue looks one up.
    script = (
        "import sys, django; django.setup();"
        "assert 'billing.tasks' not in sys.modules and 'billing.notification_tasks' not in sys.modules;"
        "from core import queue;"
        "print(queue.task(queue.ISSUE_CHARGE).name, queue.task(queue.PROCESS_NOTIFICATION).name)"
    )
    result = subprocess.run(  # noqa: S603 - our interpreter
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [queue.ISSUE_CHARGE, queue.PROCESS_NOTIFICATION]
