"""Recording outbound events (inside the caller's transaction) and delivering them (in tasks).

:func:`event_record` is what a service calls at the moment something happens, inside the same
``transaction.atomic`` block as the change itself: the event and its deliveries commit or roll back
with it. Once committed, each delivery is handed to the ``webhooks.deliver`` task; a delivery whose
task never ran (broker down, worker killed) is found by the minutely ``webhooks.deliver_due`` sweep.

A delivery is claimed before it is posted (its next attempt moved forward by :data:`CLAIM_SECONDS`
with a conditional UPDATE), so two workers never post it at the same time; a worker that dies after
posting and before recording leaves it to be posted again once the claim lapses. Receivers see each
event at least once and tell repeats apart by the event id.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from core.queue import backoff, enqueue
from webhooks import client, signing
from webhooks.models import Delivery, DeliveryAttempt, DeliveryState, Endpoint, Event, EventType

logger = logging.getLogger(__name__)

FAN_OUT_TASK = "webhooks.fan_out"
DELIVER_TASK = "webhooks.deliver"
DELIVER_MANY_TASK = "webhooks.deliver_many"
#: Events (or deliveries) handed to one task when many are recorded at once.
TASK_BATCH = 100
#: An event not fanned out this long after it was recorded (its task lost) is fanned out by the sweep.
FAN_OUT_GRACE = dt.timedelta(minutes=1)
#: Longer than a POST can take (connect + read timeouts) with a margin.
CLAIM_SECONDS = 120
#: Retries wait at random up to 30 s, 1 min, 2 min ... then up to half an hour each (full jitter):
#: some 90 attempts spread over the 24 hours.
RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 1800


@dataclass(frozen=True)
class NewEvent:
    type: str
    data: Mapping[str, Any]


def _retry_until(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(hours=settings.WEBHOOK_RETRY_HOURS)


def _subscribers() -> list[Endpoint]:
    return list(Endpoint.objects.filter(active=True).only("pk", "event_types"))


def events_record(*, events: Sequence[NewEvent]) -> list[Event]:
    """Write ``events`` into the outbox, in the caller's transaction; fan them out after commit.

    One INSERT whatever the number of events: a charge's change of state costs one statement more,
    and the daily pass that blocks thousands of customers stays a fixed number of queries. The
    deliveries (one per active endpoint that wants the event) are made by :func:`events_fan_out`.
    """
    for new in events:
        if new.type not in EventType.values:
            raise ValueError(f"unknown event type {new.type!r}")
    if not events:
        return []
    now = timezone.now()
    rows = Event.objects.bulk_create(
        [Event(type=new.type, data=dict(new.data), occurred_at=now) for new in events]
    )
    ids = [event.pk for event in rows]
    for start in range(0, len(ids), TASK_BATCH):
        enqueue(FAN_OUT_TASK, ids[start : start + TASK_BATCH])
    return rows


def event_record(*, type: str, data: Mapping[str, Any]) -> Event:
    """Record one event inside the caller's transaction (see the module's docstring)."""
    return events_record(events=[NewEvent(type, data)])[0]


def events_fan_out(*, event_ids: Sequence[int]) -> list[int]:
    """One delivery per active endpoint that wants each event, made once per event; their ids.

    The events are claimed under a row lock (skipping those another worker holds), so a fan-out run
    twice or by two workers makes each delivery once; the deliveries go to the deliver task after
    commit.
    """
    now = timezone.now()
    with transaction.atomic():
        pending = Event.objects.filter(pk__in=list(event_ids), dispatched_at__isnull=True)
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True)
        claimed = list(pending.values_list("pk", "type"))
        if not claimed:
            return []
        endpoints = _subscribers()
        deliveries = Delivery.objects.bulk_create(
            [
                Delivery(event_id=pk, endpoint=endpoint, next_attempt_at=now, retry_until=_retry_until(now))
                for pk, event_type in claimed
                for endpoint in endpoints
                if endpoint.wants(event_type)
            ]
        )
        Event.objects.filter(pk__in=[pk for pk, _type in claimed]).update(dispatched_at=now)
        ids = [delivery.pk for delivery in deliveries]
        _enqueue(ids)
    return ids


def _enqueue(delivery_ids: list[int]) -> None:
    if len(delivery_ids) == 1:
        enqueue(DELIVER_TASK, delivery_ids[0])
        return
    for start in range(0, len(delivery_ids), TASK_BATCH):
        enqueue(DELIVER_MANY_TASK, delivery_ids[start : start + TASK_BATCH])


def event_body(event: Event) -> bytes:
    """The JSON a receiver gets: the same bytes on every attempt (what the signature covers)."""
    document = {
        "id": str(event.event_id),
        "type": event.type,
        "occurred_at": timezone.localtime(event.occurred_at).isoformat(),
        "data": event.data,
    }
    return json.dumps(
        document, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode()


def retry_delay(attempts: int) -> int:
    """Seconds before the next try after ``attempts`` failed ones: exponential, full jitter, capped."""
    return backoff(max(attempts - 1, 0), base=RETRY_BASE_SECONDS, cap=RETRY_CAP_SECONDS)


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    return bool(
        Delivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now).update(
            next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS)
        )
    )


def delivery_attempt(*, delivery_id: int) -> str:
    """Post one due delivery once and record the outcome; returns the delivery's state afterwards.

    Returns ``"not due"`` (and posts nothing) when the delivery is settled, claimed by another
    worker, or waiting for its next attempt.
    """
    now = timezone.now()
    if not _claim(delivery_id, now):
        return "not due"
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.active:
        return _finish(delivery, None, now, error="endpoint inactive")
    body = event_body(delivery.event)
    headers = {
        signing.SIGNATURE_HEADER: signing.signature_header(endpoint.secret or "", body),
        signing.EVENT_ID_HEADER: str(delivery.event.event_id),
        signing.EVENT_TYPE_HEADER: delivery.event.type,
    }
    result = client.post(
        endpoint.url,
        body,
        headers,
        timeout=(settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT),
    )
    return _finish(delivery, result, timezone.now())


def _finish(
    delivery: Delivery, result: client.PostResult | None, now: dt.datetime, *, error: str = ""
) -> str:
    with transaction.atomic():
        if result is not None:
            DeliveryAttempt.objects.create(
                delivery=delivery,
                at=now,
                status_code=result.status_code,
                error=result.error,
                response_excerpt=result.excerpt,
                duration_ms=result.duration_ms,
            )
            delivery.attempts += 1
            delivery.last_attempt_at = now
            delivery.last_status = result.status_code
            error = result.error
        delivery.last_error = error
        if result is not None and result.delivered:
            delivery.state = DeliveryState.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif result is None or now >= delivery.retry_until:
            delivery.state = DeliveryState.FAILED
            delivery.next_attempt_at = None
        else:
            later = now + dt.timedelta(seconds=retry_delay(delivery.attempts))
            delivery.next_attempt_at = min(later, delivery.retry_until)
        delivery.save(
            update_fields=[
                "state",
                "attempts",
                "next_attempt_at",
                "last_attempt_at",
                "delivered_at",
                "last_status",
                "last_error",
            ]
        )
    if delivery.state == DeliveryState.FAILED:
        logger.warning("webhook delivery %s gave up: %s", delivery.pk, delivery.last_error)
    return delivery.state


def deliveries_due(*, limit: int = 1000) -> int:
    """Fan out events left behind, and hand every delivery whose next attempt is due to the deliver
    task; returns how many deliveries were handed over."""
    stale = Event.objects.filter(dispatched_at__isnull=True, occurred_at__lte=timezone.now() - FAN_OUT_GRACE)
    left_behind = list(stale.order_by("pk").values_list("pk", flat=True)[:limit])
    if left_behind:
        events_fan_out(event_ids=left_behind)
    ids = list(
        Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        _enqueue(ids)
    return len(ids)


def deliveries_resend(*, deliveries: Iterable[Delivery]) -> int:
    """Send again now (staff's "send again"), with a fresh retry window; returns how many."""
    now = timezone.now()
    ids = [d.pk for d in deliveries]
    with transaction.atomic():
        Delivery.objects.filter(pk__in=ids).update(
            state=DeliveryState.PENDING, next_attempt_at=now, retry_until=_retry_until(now)
        )
        _enqueue(ids)
    return len(ids)
