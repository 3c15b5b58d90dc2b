"""The monthly cycle run every day: each customer billed N days before the due day, nothing twice."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from billing.models import Carne, Charge, ChargeState
from billing.services import cycle
from customers.models import BillingType, CustomerStatus
from tests.factories import CarneFactory, ChargeFactory, CustomerFactory, ProviderFactory

S = ChargeState
SP = dt.timezone(dt.timedelta(hours=-3))
pytestmark = pytest.mark.django_db


def at(day: dt.date):
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, 5, 30, tzinfo=SP), tick=False)


@pytest.fixture(autouse=True)
def provider():
    return ProviderFactory(bill_days_before_due=10)


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr("core.queue.publish", lambda name, args, countdown: sent.append((name, tuple(args))))
    return sent


def test_a_titulo_is_created_ten_days_before_the_due_day_and_only_once(
    juno_account, queued, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(bank_account=juno_account, due_day=21)  # Monday 21/12/2026
    with at(dt.date(2026, 12, 10)):
        assert cycle.cycle_run().created == 0
    with at(dt.date(2026, 12, 11)), django_capture_on_commit_callbacks(execute=True):
        result = cycle.cycle_run()
        assert result.created == 1
        assert cycle.cycle_run().created == 0  # twice the same day
    with at(dt.date(2026, 12, 12)):
        assert cycle.cycle_run().created == 0  # the next day
    charge = Charge.objects.get(customer=customer)
    assert (charge.due_date, charge.billing_month, charge.state) == (
        dt.date(2026, 12, 21),
        dt.date(2026, 12, 1),
        S.PENDING,
    )
    assert [name for name, _args in queued] == ["billing.issue_charge"]


def test_the_horizon_reaches_into_next_month(juno_account):
    early = CustomerFactory(bank_account=juno_account, due_day=5)  # 05/01/2027, Tuesday
    with at(dt.date(2026, 12, 26)):
        result = cycle.cycle_run()
    assert result.horizon == dt.date(2027, 1, 5)
    assert list(Charge.objects.filter(customer=early).values_list("due_date", flat=True)) == [
        dt.date(2027, 1, 5)
    ]


def test_the_days_before_due_come_from_the_provider(juno_account, provider):
    provider.bill_days_before_due = 3
    provider.save()
    CustomerFactory(bank_account=juno_account, due_day=21)
    with at(dt.date(2026, 12, 11)):
        assert cycle.cycle_run().created == 0
    with at(dt.date(2026, 12, 18)):
        assert cycle.cycle_run().created == 1


def test_the_cycle_beside_the_command_bills_nothing_twice(juno_account):
    CustomerFactory(bank_account=juno_account, due_day=21)
    with at(dt.date(2026, 12, 1)):
        call_command("billing_run", "--month", "2026-12", "--no-progress", stdout=io.StringIO())
    with at(dt.date(2026, 12, 11)):
        assert cycle.cycle_run().created == 0
    assert Charge.objects.count() == 1


def test_blocked_customers_are_billed_suspended_ones_are_not(juno_account):
    blocked = CustomerFactory(bank_account=juno_account, due_day=21, status=CustomerStatus.BLOCKED)
    CustomerFactory(bank_account=juno_account, due_day=21, status=CustomerStatus.SUSPENDED)
    CustomerFactory(bank_account=juno_account, due_day=21, status=CustomerStatus.INACTIVE)
    with at(dt.date(2026, 12, 11)):
        cycle.cycle_run()
    assert list(Charge.objects.values_list("customer_id", flat=True)) == [blocked.pk]


def _carne(customer, *, unpaid: int, months=(9, 10, 11, 12)):
    carne = CarneFactory(
        customer=customer, installments=len(months), first_due_date=dt.date(2026, months[0], 10)
    )
    for number, month in enumerate(months, start=1):
        paid = number <= len(months) - unpaid
        ChargeFactory(
            customer=customer,
            carne=carne,
            installment_number=number,
            due_date=dt.date(2026, month, 10),
            billing_month=dt.date(2026, month, 1),
            state=S.PAID if paid else S.ISSUED,
        )
    return carne


def test_a_carne_with_one_unpaid_installment_left_is_renewed_after_its_last_month(juno_account):
    customer = CustomerFactory(bank_account=juno_account, billing_type=BillingType.CARNE, due_day=10)
    _carne(customer, unpaid=1)
    with at(dt.date(2026, 11, 20)):
        result = cycle.cycle_run()
        assert result.carnes_renewed == 1
        assert cycle.cycle_run().carnes_renewed == 0
    new = Carne.objects.exclude(reference__startswith="C-TEST").get()
    assert new.installments == 12 and new.first_due_date == dt.date(2027, 1, 11)  # 10/01/2027 is a Sunday
    months = sorted(new.installment_charges.values_list("billing_month", flat=True))
    assert months[0] == dt.date(2027, 1, 1) and months[-1] == dt.date(2027, 12, 1)


def test_a_carne_with_two_unpaid_installments_is_not_renewed(juno_account):
    customer = CustomerFactory(bank_account=juno_account, billing_type=BillingType.CARNE, due_day=10)
    _carne(customer, unpaid=2)
    with at(dt.date(2026, 11, 20)):
        assert cycle.cycle_run().carnes_renewed == 0
    assert Carne.objects.count() == 1


def test_a_carne_customer_without_a_carne_gets_one_when_due_within_the_horizon(juno_account):
    customer = CustomerFactory(bank_account=juno_account, billing_type=BillingType.CARNE, due_day=21)
    with at(dt.date(2026, 12, 11)):
        cycle.cycle_run()
        cycle.cycle_run()
    carne = Carne.objects.get(customer=customer)
    assert carne.first_due_date == dt.date(2026, 12, 21) and carne.installment_charges.count() == 12


def test_a_suspended_carne_customer_is_not_renewed(juno_account):
    customer = CustomerFactory(
        bank_account=juno_account, billing_type=BillingType.CARNE, due_day=10, status=CustomerStatus.SUSPENDED
    )
    _carne(customer, unpaid=0)
    with at(dt.date(2026, 11, 20)):
        assert cycle.cycle_run().carnes_renewed == 0


def test_the_cycle_tasks_are_scheduled_in_the_admin():
    tasks = dict(PeriodicTask.objects.values_list("task", "enabled"))
    for name in ("billing.monthly_cycle", "billing.overdue_pass", "webhooks.deliver_due", "radius.sync_all"):
        assert tasks.get(name) is True, name
    cycle_task = PeriodicTask.objects.get(task="billing.monthly_cycle")
    assert (cycle_task.crontab.hour, cycle_task.crontab.minute) == ("5", "30")
    assert str(cycle_task.crontab.timezone) == "America/Sao_Paulo"


def test_the_cycle_task_runs_the_service(juno_account):
    from billing.tasks import monthly_cycle

    CustomerFactory(bank_account=juno_account, due_day=21)
    with at(dt.date(2026, 12, 11)):
        assert monthly_cycle.apply().get()["created"] == 1
