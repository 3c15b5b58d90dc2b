"""RADIUS tasks: thin wrappers over radius.services; retried when the RADIUS database is unreachable."""

from __future__ import annotations

from typing import Any

import psycopg
from celery import shared_task

from core.queue import backoff
from radius import services

MAX_RETRIES = 8


@shared_task(bind=True, name=services.SYNC_TASK, acks_late=True, ignore_result=True, max_retries=MAX_RETRIES)
def sync_customers(self: Any, customer_ids: list[int], forget: list[str] | None = None) -> int:
    try:
        return services.radius_sync_customers(customer_ids=customer_ids, forget=forget or ())
    except psycopg.OperationalError as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@shared_task(name="radius.sync_all", acks_late=True, ignore_result=True)
def sync_all() -> int:
    """Daily: every username's group, in case a sync was lost while the RADIUS database was down."""
    return services.radius_sync_all()
