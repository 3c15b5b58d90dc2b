"""The overdue policy applied: the daily pass, unblocking on payment, the trust unblock, the history.

Every rule under frozen time (time-machine): "today" is a São Paulo date.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext

from billing.models import Charge, ChargeState, TrustUnblock
from billing.services import overdue_policy as policy
from billing.services import service_status
from billing.services.payments import SOURCE_RECONCILIATION, payment_record
from billing.services.transitions import transition
from customers.models import Customer, CustomerStatus, StatusCause, StatusChange
from gateways.base import PaymentDetails
from tests.factories import ChargeFactory, CustomerFactory, JunoAccountFactory, ProviderFactory
from webhooks.models import Event

S = ChargeState
SP = dt.timezone(dt.timedelta(hours=-3))
pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 9):
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=SP), tick=False)


@pytest.fixture(autouse=True)
def provider():
    return ProviderFactory(block_after_days=15, trust_unblock_days=3)


@pytest.fixture
def queued(monkeypatch):
    """Tasks enqueued by name (core.queue), recorded instead of sent; run with ``run_queued``."""
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr("core.queue.publish", lambda name, args, countdown: sent.append((name, tuple(args))))
    return sent


def overdue_customer(due=dt.date(2026, 11, 10), state=S.ISSUED, **customer):
    customer = CustomerFactory(**customer)
    charge = ChargeFactory(customer=customer, due_date=due, state=state)
    return customer, charge


def pay(charge, *, source="notification", payment_id="pay-1"):
    details = PaymentDetails(
        payment_id=payment_id,
        amount=charge.amount,
        date=dt.date(2026, 11, 27),
        fee=Decimal("1.00"),
        type="BOLETO",
        status=PaymentDetails.CONFIRMED,
    )
    return payment_record(charge_id=charge.pk, gateway="juno", details=details, source=source)


def status_of(customer):
    customer.refresh_from_db()
    return customer.status, customer.status_cause


# --- the daily pass ------------------------------------------------------------------------------
def test_blocked_the_day_after_due_plus_15_days_with_history_and_event():
    customer, _charge = overdue_customer()
    with at(dt.date(2026, 11, 25)):
        assert service_status.overdue_pass().blocked == 0
    assert status_of(customer) == (CustomerStatus.ACTIVE, "")
    with at(dt.date(2026, 11, 26)):
        assert service_status.overdue_pass().blocked == 1
    assert status_of(customer) == (CustomerStatus.BLOCKED, StatusCause.OVERDUE)
    change = StatusChange.objects.get(customer=customer)
    assert (change.from_status, change.to_status, change.cause) == ("active", "blocked", "overdue")
    assert change.actor_label == service_status.ACTOR_PASS and change.reason
    event = Event.objects.get(type="customer.blocked")
    assert event.data["customer"]["id"] == customer.pk and event.data["to_status"] == "blocked"


def test_the_pass_is_idempotent():
    overdue_customer()
    with at(dt.date(2026, 11, 26)):
        service_status.overdue_pass()
        second = service_status.overdue_pass()
    assert second.as_dict() == {"blocked": 0, "blocked_again": 0, "unblocked": 0}
    assert StatusChange.objects.count() == 1 and Event.objects.count() == 1


def test_the_customer_override_wins_and_zero_means_never():
    soon, _ = overdue_customer(block_after_days=5)
    never, _ = overdue_customer(block_after_days=0)
    late, _ = overdue_customer(block_after_days=30)
    default, _ = overdue_customer()
    with at(dt.date(2026, 11, 16)):
        service_status.overdue_pass()
    assert [status_of(c)[0] for c in (soon, never, late, default)] == [
        "blocked",
        "active",
        "active",
        "active",
    ]
    with at(dt.date(2027, 1, 1)):
        service_status.overdue_pass()
    assert [status_of(c)[0] for c in (soon, never, late, default)] == [
        "blocked",
        "active",
        "blocked",
        "blocked",
    ]


def test_the_provider_default_is_read_from_the_provider(provider):
    provider.block_after_days = 3
    provider.save()
    customer, _ = overdue_customer()
    with at(dt.date(2026, 11, 14)):
        service_status.overdue_pass()
    assert status_of(customer)[0] == CustomerStatus.BLOCKED


@pytest.mark.parametrize("state", [S.PENDING, S.FAILED, S.UNKNOWN, S.CANCEL_REQUESTED, S.PAID, S.CANCELLED])
def test_only_issued_charges_block(state):
    customer, _ = overdue_customer(state=state)
    with at(dt.date(2026, 12, 31)):
        service_status.overdue_pass()
    assert status_of(customer)[0] == CustomerStatus.ACTIVE


def test_contra_apresentacao_charges_never_block():
    account = JunoAccountFactory(contra_apresentacao=True)
    customer, _ = overdue_customer(bank_account=account)
    with at(dt.date(2026, 12, 31)):
        service_status.overdue_pass()
    assert status_of(customer)[0] == CustomerStatus.ACTIVE


def test_staff_blocks_suspensions_and_inactive_customers_are_left_alone():
    staff_blocked = CustomerFactory(status=CustomerStatus.BLOCKED, status_cause=StatusCause.STAFF)
    suspended, _ = overdue_customer(status=CustomerStatus.SUSPENDED)
    inactive, _ = overdue_customer(status=CustomerStatus.INACTIVE)
    with at(dt.date(2026, 12, 31)):
        service_status.overdue_pass()
    assert status_of(staff_blocked) == (CustomerStatus.BLOCKED, StatusCause.STAFF)
    assert status_of(suspended)[0] == CustomerStatus.SUSPENDED
    assert status_of(inactive)[0] == CustomerStatus.INACTIVE
    assert not StatusChange.objects.exists()


def test_the_pass_unblocks_blocked_for_debt_customers_with_nothing_overdue():
    customer, charge = overdue_customer()
    with at(dt.date(2026, 11, 26)):
        service_status.overdue_pass()
        charge.state = S.PAID  # as if the refresh task after the payment had been lost
        charge.save()
        assert service_status.overdue_pass().unblocked == 1
    assert status_of(customer) == (CustomerStatus.ACTIVE, StatusCause.PAYMENT)
    assert Event.objects.filter(type="customer.unblocked").count() == 1


def _pass_queries(customers: int) -> int:
    for _ in range(customers):
        overdue_customer()  # to block
        blocked, charge = overdue_customer(status=CustomerStatus.BLOCKED, status_cause=StatusCause.OVERDUE)
        charge.state = S.PAID
        charge.save()  # to unblock
        CustomerFactory()  # nothing to do
    with at(dt.date(2026, 11, 26)), CaptureQueriesContext(connection) as queries:
        result = service_status.overdue_pass()
    assert result.blocked == result.unblocked == customers
    return len(queries)


def test_the_pass_runs_a_fixed_number_of_queries():
    service_status.overdue_pass(today=dt.date(2026, 1, 1))  # its lease row exists from now on
    small = _pass_queries(2)
    Event.objects.all().delete()
    Charge.objects.all().delete()
    Customer.objects.all().delete()
    large = _pass_queries(40)
    if connection.vendor == "postgresql":
        assert large == small
    else:  # SQLite splits the history and outbox INSERTs by its parameter limit
        assert large <= small + 4


# --- unblocking on payment -----------------------------------------------------------------------
def run_queued(queued):
    """Run what was enqueued, as a worker would right after the commit."""
    from celery import current_app

    while queued:
        name, args = queued.pop(0)
        current_app.tasks[name].apply(args=args).get()


@pytest.mark.parametrize("source", ["notification", SOURCE_RECONCILIATION, "staff"])
def test_a_payment_from_any_path_unblocks_right_after_commit(
    queued, django_capture_on_commit_callbacks, source
):
    customer, charge = overdue_customer()
    with at(dt.date(2026, 11, 27)):
        service_status.overdue_pass()
        assert status_of(customer)[0] == CustomerStatus.BLOCKED
        queued.clear()
        with django_capture_on_commit_callbacks(execute=True):
            pay(charge, source=source)
        assert ("billing.service_status_refresh", (customer.pk,)) in queued
        run_queued(queued)
    assert status_of(customer) == (CustomerStatus.ACTIVE, StatusCause.PAYMENT)
    change = StatusChange.objects.filter(customer=customer).last()
    assert change.actor_label == service_status.ACTOR_REFRESH
    assert Event.objects.filter(type="charge.paid").get().data["payment"]["gateway_payment_id"] == "pay-1"
    assert Event.objects.filter(type="customer.unblocked").count() == 1


def test_a_payment_leaving_another_charge_overdue_keeps_the_block(queued, django_capture_on_commit_callbacks):
    customer, charge = overdue_customer()
    ChargeFactory(customer=customer, due_date=dt.date(2026, 10, 10), state=S.ISSUED)
    with at(dt.date(2026, 11, 27)):
        service_status.overdue_pass()
        with django_capture_on_commit_callbacks(execute=True):
            pay(charge)
        run_queued(queued)
    assert status_of(customer)[0] == CustomerStatus.BLOCKED


def test_a_payment_leaving_only_charges_within_the_limit_unblocks(queued, django_capture_on_commit_callbacks):
    customer, charge = overdue_customer()
    ChargeFactory(customer=customer, due_date=dt.date(2026, 11, 20), state=S.ISSUED)  # 7 days late
    with at(dt.date(2026, 11, 27)):
        service_status.overdue_pass()
        with django_capture_on_commit_callbacks(execute=True):
            pay(charge)
        run_queued(queued)
    assert status_of(customer)[0] == CustomerStatus.ACTIVE


def test_a_cancelled_overdue_charge_unblocks_too(queued, django_capture_on_commit_callbacks):
    from django.db import transaction

    customer, charge = overdue_customer()
    with at(dt.date(2026, 11, 27)):
        service_status.overdue_pass()
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            transition(charge, S.CANCEL_REQUESTED, actor_label="test")
        run_queued(queued)
    assert status_of(customer)[0] == CustomerStatus.ACTIVE


def test_a_written_off_charge_keeps_blocking_and_is_announced(queued, django_capture_on_commit_callbacks):
    from billing.services.charges import charges_write_off

    customer, charge = overdue_customer()
    days = charge.bank_account.days_to_write_off
    with at(dt.date(2026, 11, 26)):
        service_status.overdue_pass()
    assert status_of(customer)[0] == CustomerStatus.BLOCKED
    with at(dt.date(2026, 11, 10) + dt.timedelta(days=days + 1)):
        with django_capture_on_commit_callbacks(execute=True):
            assert charges_write_off() == 1
        assert not [name for name, _args in queued if name == "billing.service_status_refresh"]
        assert service_status.overdue_pass().unblocked == 0
    charge.refresh_from_db()
    assert charge.state == S.WRITTEN_OFF
    assert status_of(customer)[0] == CustomerStatus.BLOCKED
    event = Event.objects.get(type="charge.written_off")
    assert event.data["charge"]["id"] == charge.pk and event.data["charge"]["state"] == "written_off"


def test_a_written_off_charge_blocks_and_paying_it_unblocks(queued, django_capture_on_commit_callbacks):
    customer, charge = overdue_customer(state=S.WRITTEN_OFF)
    with at(dt.date(2026, 11, 27)):
        assert service_status.overdue_pass().blocked == 1
        with django_capture_on_commit_callbacks(execute=True):
            pay(charge)
        run_queued(queued)
    charge.refresh_from_db()
    assert charge.state == S.PAID
    assert status_of(customer) == (CustomerStatus.ACTIVE, StatusCause.PAYMENT)


def test_a_written_off_month_billed_again_and_paid_unblocks_and_stays_so(
    queued, django_capture_on_commit_callbacks
):
    customer, written_off = overdue_customer(due=dt.date(2026, 10, 10), state=S.WRITTEN_OFF)
    with at(dt.date(2026, 11, 27)):
        assert service_status.overdue_pass().blocked == 1
        again = ChargeFactory(
            customer=customer,
            due_date=dt.date(2026, 11, 30),
            billing_month=written_off.billing_month,
            state=S.ISSUED,
        )
        # A bill for the current month paid before its due date touches nothing.
        ordinary = ChargeFactory(customer=CustomerFactory(), due_date=dt.date(2026, 11, 30), state=S.ISSUED)
        with django_capture_on_commit_callbacks(execute=True):
            pay(ordinary, payment_id="pay-ordinary")
        assert not [name for name, _args in queued if name == "billing.service_status_refresh"]
        with django_capture_on_commit_callbacks(execute=True):
            pay(again)
        run_queued(queued)
        assert status_of(customer) == (CustomerStatus.ACTIVE, StatusCause.PAYMENT)
    with at(dt.date(2026, 11, 28)):
        service_status.overdue_pass()
    assert status_of(customer)[0] == CustomerStatus.ACTIVE
    written_off.refresh_from_db()
    assert written_off.state == S.WRITTEN_OFF  # still kept as what happened at the gateway


def test_paying_a_charge_not_yet_due_enqueues_nothing(queued, django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    charge = ChargeFactory(customer=customer, due_date=dt.date(2026, 12, 10), state=S.ISSUED)
    with at(dt.date(2026, 11, 27)), django_capture_on_commit_callbacks(execute=True):
        pay(charge)
    assert not [name for name, _args in queued if name == "billing.service_status_refresh"]


def test_refresh_never_unblocks_a_staff_block():
    customer = CustomerFactory(status=CustomerStatus.BLOCKED, status_cause=StatusCause.STAFF)
    with at(dt.date(2026, 11, 27)):
        assert service_status.service_status_refresh(customer_id=customer.pk) is False
    assert status_of(customer)[0] == CustomerStatus.BLOCKED


# --- the trust unblock ---------------------------------------------------------------------------
def test_trust_unblock_for_three_days_then_blocked_again_when_unpaid():
    customer, _charge = overdue_customer()
    with at(dt.date(2026, 11, 26)):
        service_status.overdue_pass()
    with at(dt.date(2026, 11, 30)):  # a Monday
        trust = service_status.trust_unblock_grant(customer_id=customer.pk, actor_label="portal")
        assert (trust.granted_on, trust.last_day, trust.cycle) == (
            dt.date(2026, 11, 30),
            dt.date(2026, 12, 2),
            dt.date(2026, 11, 1),
        )
        assert status_of(customer) == (CustomerStatus.ACTIVE, StatusCause.TRUST)
    for day in (dt.date(2026, 12, 1), dt.date(2026, 12, 2)):
        with at(day):
            service_status.overdue_pass()
        assert status_of(customer)[0] == CustomerStatus.ACTIVE
    with at(dt.date(2026, 12, 3)):
        assert service_status.overdue_pass().blocked_again == 1
    assert status_of(customer) == (CustomerStatus.BLOCKED, StatusCause.OVERDUE)
    history = list(StatusChange.objects.filter(customer=customer).values_list("to_status", "cause"))
    assert history == [("blocked", "overdue"), ("active", "trust"), ("blocked", "overdue")]
    assert StatusChange.objects.filter(customer=customer).last().reason == gettext(
        "The trust unblock ended with charges still overdue."
    )


def test_a_second_trust_unblock_in_the_same_cycle_is_refused_with_the_reason():
    customer, _charge = overdue_customer()
    with at(dt.date(2026, 11, 26)):
        service_status.overdue_pass()
        service_status.trust_unblock_grant(customer_id=customer.pk)
    with at(dt.date(2026, 11, 29)):
        service_status.overdue_pass()
        with pytest.raises(service_status.TrustUnblockRefused) as refused:
            service_status.trust_unblock_grant(customer_id=customer.pk)
    assert refused.value.code == policy.ALREADY_USED
    assert "26/11/2026" in refused.value.message
    assert status_of(customer)[0] == CustomerStatus.BLOCKED


def test_a_new_cycle_allows_a_new_trust_unblock():
    customer, october = overdue_customer(due=dt.date(2026, 10, 10))
    with at(dt.date(2026, 10, 26)):
        service_status.overdue_pass()
        service_status.trust_unblock_grant(customer_id=customer.pk)
    october.state = S.PAID
    october.save()
    ChargeFactory(customer=customer, due_date=dt.date(2026, 11, 10), state=S.ISSUED)
    with at(dt.date(2026, 11, 26)):
        service_status.overdue_pass()
        assert status_of(customer)[0] == CustomerStatus.BLOCKED
        service_status.trust_unblock_grant(customer_id=customer.pk)
    assert TrustUnblock.objects.filter(customer=customer).count() == 2


@pytest.mark.parametrize(
    ("status", "cause", "code"),
    [
        (CustomerStatus.ACTIVE, "", policy.NOT_BLOCKED),
        (CustomerStatus.BLOCKED, StatusCause.STAFF, policy.NOT_FOR_DEBT),
    ],
)
def test_trust_unblock_refusals(status, cause, code):
    customer, _ = overdue_customer(status=status, status_cause=cause)
    with at(dt.date(2026, 11, 27)), pytest.raises(service_status.TrustUnblockRefused) as refused:
        service_status.trust_unblock_grant(customer_id=customer.pk)
    assert refused.value.code == code
    assert not TrustUnblock.objects.exists()


def test_trust_unblock_not_offered_when_the_provider_sets_zero_days(provider):
    provider.trust_unblock_days = 0
    provider.save()
    customer, _ = overdue_customer()
    with at(dt.date(2026, 11, 27)):
        service_status.overdue_pass()
        assert service_status.trust_unblock_check(customer).code == policy.DISABLED
