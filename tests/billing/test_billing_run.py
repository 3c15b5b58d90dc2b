"""The monthly billing run: one charge per customer and month, business days, carnês, idempotent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase
from django.utils.translation import gettext

from billing.models import Charge, ChargeEvent, ChargeState
from billing.services import billing_run
from billing.services import charges as svc
from core import queue
from customers.models import BillingType, CustomerStatus
from tests.billing.fakes import FakeGateway
from tests.factories import CustomerFactory, JunoAccountFactory

S = ChargeState
pytestmark = pytest.mark.django_db
DEC = dt.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def before_december():
    with time_machine.travel(dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC), tick=True):
        yield


@pytest.fixture
def gateway(monkeypatch):
    fake = FakeGateway()
    monkeypatch.setattr(svc, "gateway_for", lambda account, charge_id=None: fake)
    return fake


@pytest.fixture
def queued(sent_tasks):
    """Messages that reached the broker; ``issue_ids`` reads the charge ids out of them."""
    return sent_tasks


def issue_ids(sent):
    return [args[0] for name, args, _countdown in sent if name == queue.ISSUE_CHARGE]


def run(month=DEC, **kw):
    # The command runs in autocommit; here the test's transaction stands in for it: tasks leave
    # when it "commits" at the end of the block.
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = billing_run.billing_run_generate(month=month, **kw)
        billing_run.billing_run_dispatch(result)
    return result


def test_parse_month():
    assert billing_run.parse_month("2026-12") == DEC
    for bad in ("2026-13", "2026-1", "12/2026", "", "2026-00", "abcd-ef"):
        with pytest.raises(ValueError):
            billing_run.parse_month(bad)


def test_titulos_at_plan_amount_and_due_day(juno_account, queued):
    customer = CustomerFactory(bank_account=juno_account, due_day=10, plan_amount=Decimal("120.00"))
    result = run()
    charge = Charge.objects.get(customer=customer)
    assert (charge.amount, charge.due_date, charge.billing_month) == (
        Decimal("120.00"),
        dt.date(2026, 12, 10),
        DEC,
    )
    assert charge.state == S.PENDING and charge.reference.startswith("T-")
    assert "12/2026" in charge.description
    assert list(charge.events.values_list("to_state", "actor_label")) == [(S.PENDING, "billing_run")]
    assert issue_ids(queued) == [charge.pk]
    assert result.total("created") == 1 and result.total("queued") == 1


def test_weekend_and_holiday_due_dates_move_to_the_next_business_day(juno_account, queued):
    saturday = CustomerFactory(bank_account=juno_account, due_day=5)  # Sat 5 Dec 2026
    christmas = CustomerFactory(bank_account=juno_account, due_day=25)  # Fri 25 Dec 2026 (holiday)
    day31 = CustomerFactory(bank_account=juno_account, due_day=31)  # Thu 31 Dec 2026
    run()
    due = dict(Charge.objects.values_list("customer_id", "due_date"))
    assert due[saturday.pk] == dt.date(2026, 12, 7)
    assert due[christmas.pk] == dt.date(2026, 12, 28)
    assert due[day31.pk] == dt.date(2026, 12, 31)


def test_short_month_clamps_then_moves(juno_account, queued):
    customer = CustomerFactory(bank_account=juno_account, due_day=31)
    run(month=dt.date(2027, 2, 1))  # 28 Feb 2027 is a Sunday; 1 Mar is a Monday
    assert Charge.objects.get(customer=customer).due_date == dt.date(2027, 3, 1)


def test_second_run_creates_nothing(juno_account, queued):
    CustomerFactory.create_batch(5, bank_account=juno_account)
    assert run().total("created") == 5
    again = run()
    assert again.total("created") == 0 and again.total("skipped") == 5
    assert again.reasons[billing_run.ALREADY_BILLED] == 5
    assert Charge.objects.count() == 5 and ChargeEvent.objects.count() == 5
    assert len(issue_ids(queued)) == 5


def test_issue_tasks_leave_only_after_the_commit(juno_account, queued):
    CustomerFactory(bank_account=juno_account)
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = billing_run.billing_run_generate(month=DEC)
        billing_run.billing_run_dispatch(result)
        assert queued == []  # nothing reaches the broker inside the transaction
    assert len(issue_ids(queued)) == 1 and result.total("queued") == 1


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_refuses_leaves_the_charge_pending_and_counts_it_failed(juno_account, monkeypatch):
    def refuse(name, args, countdown):
        raise OSError("connection refused")

    monkeypatch.setattr(queue, "publish", refuse)
    CustomerFactory(bank_account=juno_account)
    result = billing_run.billing_run_generate(month=DEC)
    billing_run.billing_run_dispatch(result)  # autocommit, as the command runs: sent at once
    assert result.total("failed") == 1 and result.total("queued") == 0
    assert Charge.objects.get().state == S.PENDING


def test_blocked_customers_are_billed_suspended_and_inactive_ones_are_not(juno_account, queued):
    blocked = CustomerFactory(bank_account=juno_account, status=CustomerStatus.BLOCKED)
    CustomerFactory(bank_account=juno_account, status=CustomerStatus.SUSPENDED)
    CustomerFactory(bank_account=juno_account, status=CustomerStatus.INACTIVE)
    assert run().total("created") == 1
    assert list(Charge.objects.values_list("customer_id", flat=True)) == [blocked.pk]
    assert billing_run.count_customers() == 1


def test_account_filter(juno_account, queued):
    other = JunoAccountFactory()
    CustomerFactory(bank_account=juno_account)
    CustomerFactory(bank_account=other)
    result = run(account_id=other.pk)
    assert list(Charge.objects.values_list("bank_account_id", flat=True)) == [other.pk]
    assert set(result.by_account) == {other.pk}


def test_carne_customer_gets_twelve_installments_from_the_month(juno_account, queued):
    customer = CustomerFactory(bank_account=juno_account, billing_type=BillingType.CARNE, due_day=10)
    result = run()
    carne = customer.carnes.get()
    installments = list(carne.installment_charges.order_by("installment_number"))
    assert len(installments) == 12 and carne.installments == 12
    assert installments[0].billing_month == DEC and installments[-1].billing_month == dt.date(2027, 11, 1)
    assert installments[0].due_date == dt.date(2026, 12, 10)
    assert issue_ids(queued) == [installments[0].pk]  # one task per carnê
    assert result.total("created") == 12


def test_no_new_carne_while_one_has_open_installments(juno_account, queued):
    customer = CustomerFactory(bank_account=juno_account, billing_type=BillingType.CARNE)
    run()
    result = run(month=dt.date(2027, 3, 1))
    assert result.reasons[billing_run.OPEN_CARNE] == 1 and customer.carnes.count() == 1


def test_new_carne_once_every_installment_from_the_month_on_is_closed(juno_account, queued):
    customer = CustomerFactory(bank_account=juno_account, billing_type=BillingType.CARNE)
    run()
    Charge.objects.filter(customer=customer).update(state=S.PAID)
    result = run(month=dt.date(2027, 12, 1))
    assert customer.carnes.count() == 2 and result.total("created") == 12
    newest = customer.carnes.order_by("-id").first()
    assert newest.installment_charges.order_by("installment_number").first().billing_month == dt.date(
        2027, 12, 1
    )


def test_dry_run_writes_nothing(juno_account, queued):
    CustomerFactory.create_batch(3, bank_account=juno_account)
    CustomerFactory(bank_account=juno_account, billing_type=BillingType.CARNE)
    result = billing_run.billing_run_generate(month=DEC, dry_run=True)
    billing_run.billing_run_dispatch(result)
    assert result.total("created") == 3 + 12
    assert Charge.objects.count() == 0 and ChargeEvent.objects.count() == 0 and issue_ids(queued) == []


def test_past_due_dates_are_skipped(juno_account, queued):
    CustomerFactory(bank_account=juno_account, due_day=10)
    result = run(month=dt.date(2026, 11, 1))  # 10 Nov is before "today" (20 Nov)
    assert result.reasons[billing_run.DUE_DATE_PASSED] == 1 and Charge.objects.count() == 0


def test_generation_queries_do_not_grow_with_customers(juno_account, django_assert_max_num_queries):
    CustomerFactory.create_batch(40, bank_account=juno_account)
    with django_assert_max_num_queries(12):
        result = billing_run.billing_run_generate(month=DEC)
    assert result.total("created") == 40


def test_sync_issues_in_process(juno_account, gateway):
    CustomerFactory.create_batch(2, bank_account=juno_account)
    CustomerFactory(bank_account=juno_account, billing_type=BillingType.CARNE)
    result = billing_run.billing_run_generate(month=DEC)
    billing_run.billing_run_dispatch(result, sync=True, threads=1)
    assert set(Charge.objects.values_list("state", flat=True)) == {S.ISSUED}
    assert gateway.issue_calls == 3 and result.total("queued") == 3 and result.total("failed") == 0


def test_command_summary_and_exit(juno_account, queued, capsys):
    CustomerFactory.create_batch(2, bank_account=juno_account)
    call_command("billing_run", "--month", "2026-12", "--no-progress")
    out = capsys.readouterr().out
    # The command speaks the active language (pt-BR by default): compare with the catalogue.
    assert juno_account.name in out and gettext("created") in out and gettext("total") in out
    call_command("billing_run", "--month", "2026-12", "--no-progress", "--dry-run")
    out = capsys.readouterr().out
    assert f"{gettext('already billed this month')}: 2" in out


def test_skip_reasons_are_in_the_catalogue():
    from django.utils import translation

    from billing.services import billing_run as run

    reasons = (run.ALREADY_BILLED, run.OPEN_CARNE, run.DUE_DATE_PASSED, run.NO_AMOUNT)
    with translation.override("pt-br"):
        translated = [translation.gettext(reason) for reason in reasons]
    assert translated == [
        "já faturado neste mês",
        "o carnê ainda tem parcelas em aberto",
        "o vencimento já passou",
        "o valor do plano é zero",
    ]


def test_command_sync_failure_exits_non_zero(juno_account, gateway):
    from gateways.base import GatewayRejected

    CustomerFactory(bank_account=juno_account)
    gateway.fail_next.append(GatewayRejected("CPF inválido"))
    with pytest.raises(CommandError):
        call_command("billing_run", "--month", "2026-12", "--sync", "--threads", "1", "--no-progress")


@pytest.mark.parametrize(
    "argv", [["--month", "2026-13"], ["--month", "dezembro"], ["--month", "2026-12", "--account", "999"]]
)
def test_bad_input_is_a_one_line_command_error(argv):
    with pytest.raises(CommandError) as exc:
        call_command("billing_run", *argv, "--no-progress")
    assert "\n" not in str(exc.value)
    assert Charge.objects.count() == 0


def test_bad_month_from_the_shell_is_one_line_on_stderr_and_exit_1():
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(  # noqa: S603 - our interpreter and manage.py
        [sys.executable, "manage.py", "billing_run", "--month", "2026-13", "--no-progress"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip() and " INFO " not in line]
    assert len(lines) == 1 and "2026-13" in lines[0], result.stderr
