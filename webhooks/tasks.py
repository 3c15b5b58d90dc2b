"""Delivery tasks: thin wrappers over webhooks.services (each safe to run twice: deliveries are claimed)."""

from __future__ import annotations

from celery import shared_task

from webhooks import services


@shared_task(name=services.FAN_OUT_TASK, acks_late=True, ignore_result=True)
def fan_out(event_ids: list[int]) -> int:
    return len(services.events_fan_out(event_ids=event_ids))


@shared_task(name=services.DELIVER_TASK, acks_late=True, ignore_result=True)
def deliver(delivery_id: int) -> str:
    return services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name=services.DELIVER_MANY_TASK, acks_late=True, ignore_result=True)
def deliver_many(delivery_ids: list[int]) -> int:
    return sum(services.delivery_attempt(delivery_id=pk) == "delivered" for pk in delivery_ids)


@shared_task(name="webhooks.deliver_due", acks_late=True, ignore_result=True)
def deliver_due() -> int:
    """Minutely: retries that are due, and events or first attempts whose task was lost."""
    return services.deliveries_due()
