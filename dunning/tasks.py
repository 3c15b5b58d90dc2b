"""Celery tasks of the reminder schedule: thin wrappers around dunning.services."""

from __future__ import annotations

from celery import shared_task

from core import queue
from core.dates import today
from dunning import services


@shared_task(name=queue.QUEUE_REMINDERS)
def queue_reminders() -> int:
    """The daily run (django-celery-beat): queue today's reminders; returns how many."""
    return services.reminders_queue(today=today()).queued


@shared_task(name=queue.SEND_REMINDERS, acks_late=True)
def send_reminders(log_ids: list[int]) -> dict[str, int]:
    """Send one batch. Idempotent: a row already claimed by another run is left alone."""
    return services.reminders_send(log_ids=log_ids, today=today())
