"""Outbound events: the outbox (same transaction), signed delivery, retries for 24 hours, the log."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from webhooks import services, signing
from webhooks.models import Delivery, DeliveryState, Endpoint, Event, EventType

SECRET = "a-long-enough-signing-secret"
T0 = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def endpoint(db, receiver):
    return Endpoint.objects.create(name="NOC", url=receiver.url, secret=SECRET)


@pytest.fixture
def no_enqueue(monkeypatch):
    """Tasks are recorded, not sent; fan-outs run here at once (deliveries are posted by the tests)."""
    sent: list[tuple[str, tuple]] = []

    def enqueue(name, *args, **kwargs):
        sent.append((name, args))
        if name == services.FAN_OUT_TASK:
            services.events_fan_out(event_ids=args[0])

    monkeypatch.setattr(services, "enqueue", enqueue)
    return sent


def test_an_event_commits_with_the_change_then_gets_its_deliveries(endpoint, monkeypatch):
    sent = []
    monkeypatch.setattr(services, "enqueue", lambda name, *args, **kw: sent.append((name, args)))
    with transaction.atomic():
        event = services.event_record(type=EventType.CHARGE_PAID, data={"charge": {"id": 1}})
    assert sent == [(services.FAN_OUT_TASK, ([event.pk],))]
    assert not Delivery.objects.exists()
    sent.clear()
    delivery_ids = services.events_fan_out(event_ids=[event.pk])
    assert Delivery.objects.get(event=event).endpoint == endpoint
    assert sent == [(services.DELIVER_TASK, (delivery_ids[0],))]
    assert services.events_fan_out(event_ids=[event.pk]) == []  # once per event
    assert Delivery.objects.count() == 1


def test_a_rollback_leaves_no_event(endpoint, no_enqueue):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.event_record(type=EventType.CHARGE_PAID, data={})
        raise RuntimeError("the change failed")
    assert not Event.objects.exists() and not Delivery.objects.exists()


def test_an_event_whose_fan_out_was_lost_is_fanned_out_by_the_sweep(endpoint, monkeypatch):
    sent = []
    monkeypatch.setattr(services, "enqueue", lambda name, *args, **kw: sent.append((name, args)))
    with time_machine.travel(T0, tick=False) as clock:
        event = services.event_record(type=EventType.CHARGE_PAID, data={})
        assert services.deliveries_due() == 0 and not Delivery.objects.exists()  # not yet: its task may run
        clock.shift(services.FAN_OUT_GRACE)
        assert services.deliveries_due() == 1
    assert Delivery.objects.get().event == event


def test_endpoints_get_only_the_events_they_chose_and_only_while_active(db, receiver, no_enqueue):
    paid_only = Endpoint.objects.create(
        name="paid", url=receiver.url, secret=SECRET, event_types=["charge.paid"]
    )
    Endpoint.objects.create(name="off", url=receiver.url, secret=SECRET, active=False)
    everything = Endpoint.objects.create(name="all", url=receiver.url, secret=SECRET)
    services.event_record(type=EventType.CUSTOMER_BLOCKED, data={})
    services.event_record(type=EventType.CHARGE_PAID, data={})
    got = sorted(
        (d.endpoint.name, d.event.type) for d in Delivery.objects.select_related("event", "endpoint")
    )
    assert got == [("all", "charge.paid"), ("all", "customer.blocked"), ("paid", "charge.paid")]
    assert paid_only.pk and everything.pk


def test_unknown_event_types_are_refused(db):
    with pytest.raises(ValueError, match="unknown event type"):
        services.event_record(type="charge.exploded", data={})


def test_delivery_posts_signed_json_with_a_unique_event_id(endpoint, receiver, no_enqueue):
    first = services.event_record(type=EventType.CHARGE_PAID, data={"charge": {"amount": "99.90"}})
    second = services.event_record(type=EventType.CHARGE_PAID, data={"charge": {"amount": "99.90"}})
    for delivery in Delivery.objects.all():
        assert services.delivery_attempt(delivery_id=delivery.pk) == DeliveryState.DELIVERED
    assert len(receiver.requests) == 2
    ids = set()
    for request in receiver.requests:
        assert request.headers["Content-Type"] == "application/json"
        assert signing.verify(SECRET, request.body, request.headers[signing.SIGNATURE_HEADER])
        document = json.loads(request.body)
        assert request.headers[signing.EVENT_ID_HEADER] == document["id"]
        assert request.headers[signing.EVENT_TYPE_HEADER] == document["type"] == "charge.paid"
        assert document["data"] == {"charge": {"amount": "99.90"}}
        ids.add(uuid.UUID(document["id"]))
    assert ids == {first.event_id, second.event_id}
    delivery = Delivery.objects.first()
    assert delivery.attempts == 1 and delivery.last_status == 200 and delivery.delivered_at
    assert delivery.attempt_log.get().status_code == 200


def test_a_delivery_is_posted_once_even_when_two_tasks_run_it(endpoint, receiver, no_enqueue):
    services.event_record(type=EventType.CHARGE_PAID, data={})
    delivery = Delivery.objects.get()
    assert services.delivery_attempt(delivery_id=delivery.pk) == DeliveryState.DELIVERED
    assert services.delivery_attempt(delivery_id=delivery.pk) == "not due"
    assert len(receiver.requests) == 1


def test_failures_are_retried_with_backoff_until_delivered(endpoint, receiver, no_enqueue):
    receiver.answers = [500, 503]
    with time_machine.travel(T0, tick=False) as clock:
        services.event_record(type=EventType.CUSTOMER_BLOCKED, data={})
        delivery = Delivery.objects.get()
        assert services.delivery_attempt(delivery_id=delivery.pk) == DeliveryState.PENDING
        delivery.refresh_from_db()
        assert delivery.attempts == 1 and delivery.last_status == 500 and delivery.last_error == "HTTP 500"
        wait = delivery.next_attempt_at - T0
        assert dt.timedelta(seconds=1) <= wait <= dt.timedelta(seconds=services.RETRY_BASE_SECONDS)
        assert services.delivery_attempt(delivery_id=delivery.pk) == "not due"  # not before its time
        no_enqueue.clear()
        assert services.deliveries_due() == 0
        clock.move_to(delivery.next_attempt_at)
        assert services.deliveries_due() == 1 and no_enqueue == [(services.DELIVER_TASK, (delivery.pk,))]
        assert services.delivery_attempt(delivery_id=delivery.pk) == DeliveryState.PENDING
        delivery.refresh_from_db()
        clock.move_to(delivery.next_attempt_at)
        assert services.delivery_attempt(delivery_id=delivery.pk) == DeliveryState.DELIVERED
    delivery.refresh_from_db()
    assert delivery.attempts == 3
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 503, 200]
    assert len({r.body for r in receiver.requests}) == 1  # the same bytes every time


def test_backoff_grows_and_stays_capped():
    for attempts, ceiling in [
        (1, 30),
        (2, 60),
        (3, 120),
        (10, services.RETRY_CAP_SECONDS),
        (40, services.RETRY_CAP_SECONDS),
    ]:
        for _ in range(50):
            assert 1 <= services.retry_delay(attempts) <= ceiling


def test_a_delivery_failing_for_24_hours_is_given_up(endpoint, receiver, no_enqueue):
    receiver.answers = [500] * 1000
    with time_machine.travel(T0, tick=False) as clock:
        services.event_record(type=EventType.CHARGE_PAID, data={})
        delivery = Delivery.objects.get()
        states = []
        while True:
            state = services.delivery_attempt(delivery_id=delivery.pk)
            states.append(state)
            if state != DeliveryState.PENDING:
                break
            delivery.refresh_from_db()
            assert delivery.next_attempt_at <= delivery.retry_until
            clock.move_to(delivery.next_attempt_at)
        assert state == DeliveryState.FAILED
        assert timezone.now() >= T0 + dt.timedelta(hours=24)
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is None and delivery.attempts == len(states)
    assert 10 < delivery.attempts < 200


def test_unreachable_receivers_are_retried_like_errors(db, no_enqueue):
    Endpoint.objects.create(name="down", url="http://127.0.0.1:9/hook", secret=SECRET)
    services.event_record(type=EventType.CHARGE_PAID, data={})
    delivery = Delivery.objects.get()
    assert services.delivery_attempt(delivery_id=delivery.pk) == DeliveryState.PENDING
    delivery.refresh_from_db()
    assert delivery.last_status is None and "ConnectionError" in delivery.last_error


def test_send_again_posts_a_delivered_or_given_up_event_once_more(endpoint, receiver, no_enqueue):
    services.event_record(type=EventType.CHARGE_PAID, data={})
    delivery = Delivery.objects.get()
    services.delivery_attempt(delivery_id=delivery.pk)
    no_enqueue.clear()
    assert services.deliveries_resend(deliveries=[delivery]) == 1
    assert no_enqueue == [(services.DELIVER_TASK, (delivery.pk,))]
    assert services.delivery_attempt(delivery_id=delivery.pk) == DeliveryState.DELIVERED
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body


def test_many_events_are_recorded_in_one_statement(endpoint, monkeypatch):
    """One INSERT on PostgreSQL; SQLite splits it by its 999-parameter limit."""
    sent = []
    monkeypatch.setattr(services, "enqueue", lambda name, *args, **kw: sent.append((name, args)))

    def record(count: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            services.events_record(
                events=[services.NewEvent(EventType.CUSTOMER_BLOCKED, {"n": n}) for n in range(count)]
            )
        return len(queries)

    small, large = record(2), record(498)
    if connection.vendor == "postgresql":
        assert small == large == 1
    else:
        assert small == 1 and large <= 498 * 5 // 999 + 1
    assert [(name, len(args[0])) for name, args in sent] == [(services.FAN_OUT_TASK, 2)] + [
        (services.FAN_OUT_TASK, 100)
    ] * 4 + [(services.FAN_OUT_TASK, 98)]
    sent.clear()
    services.events_fan_out(event_ids=list(Event.objects.values_list("pk", flat=True)))
    assert Delivery.objects.count() == 500
    assert [name for name, _args in sent] == [services.DELIVER_MANY_TASK] * 5
