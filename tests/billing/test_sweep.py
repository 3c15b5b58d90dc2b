"""The sweep: what it picks up, what it leaves for staff, and that two never run at once."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext

from billing import tasks
from billing.models import Charge, ChargeState, Lease
from billing.services import charges as svc
from billing.services import leases, sweep
from billing.services.dates import add_months
from core import queue
from gateways.base import GatewayRejected, GatewayUnavailable
from tests.billing.fakes import FakeGateway
from tests.factories import CustomerFactory

S = ChargeState
pytestmark = pytest.mark.django_db
NOW = dt.timedelta(0)
LONG_AGO = dt.timedelta(hours=3)


@pytest.fixture
def gateway(monkeypatch):
    fake = FakeGateway()
    monkeypatch.setattr(svc, "gateway_for", lambda account, charge_id=None: fake)
    return fake


_months = itertools.count()


def make(customer, state=S.PENDING, *, age=LONG_AGO, gateway=None):
    """A charge brought to ``state`` the way the services would, then aged (each bills its own month)."""
    charge = svc.charge_create(
        customer=customer,
        amount=Decimal("50"),
        due_date=add_months(dt.date(2026, 12, 10), next(_months) % 24),
        description="x",
        enqueue=False,
    )
    if state in (S.ISSUED, S.CANCEL_REQUESTED):
        svc.charge_issue(charge_id=charge.pk)
        if state == S.CANCEL_REQUESTED:
            svc.charge_request_cancel(charge=charge, enqueue=False)
    elif state in (S.UNKNOWN, S.ISSUING):
        Charge.objects.filter(pk=charge.pk).update(state=state)
    Charge.objects.filter(pk=charge.pk).update(state_changed_at=timezone.now() - age)
    return Charge.objects.get(pk=charge.pk)


def test_inline_sweep_issues_pending_resolves_unknown_and_cancels(customer, gateway, mycontas_account):
    pending = make(customer)
    unknown = make(customer, S.UNKNOWN)
    to_cancel = make(customer, S.CANCEL_REQUESTED)
    mycontas_customer = CustomerFactory(bank_account=mycontas_account)
    mycontas_unknown = make(mycontas_customer, S.UNKNOWN)
    calls_before = gateway.issue_calls

    result = sweep.sweep_run(dispatch=sweep.inline_dispatch, min_age=NOW)

    for charge, state in ((pending, S.ISSUED), (unknown, S.ISSUED), (to_cancel, S.CANCELLED)):
        charge.refresh_from_db()
        assert charge.state == state
    assert gateway.issue_calls == calls_before + 2
    mycontas_unknown.refresh_from_db()
    assert mycontas_unknown.state == S.UNKNOWN  # never re-sent: no look-up at Mycontas
    assert result.needs_attention == 1
    assert result.handed == {"pending": 1, "unknown": 1, "cancel_requested": 1}
    assert result.problems == 0


def test_unknown_found_at_the_gateway_is_not_resent(customer, gateway):
    gateway.create_then_fail = True
    gateway.fail_next.append(GatewayUnavailable("read timeout"))
    charge = make(customer, age=NOW)
    with pytest.raises(GatewayUnavailable):
        svc.charge_issue(charge_id=charge.pk)
    gateway.create_then_fail = False
    sweep.sweep_run(dispatch=sweep.inline_dispatch, min_age=NOW)
    charge.refresh_from_db()
    assert charge.state == S.ISSUED and gateway.issue_calls == 1


def test_young_mycontas_unknown_is_not_yet_attention(mycontas_account, gateway, settings):
    settings.MYCONTAS_UNKNOWN_ATTENTION_MINUTES = 60
    make(CustomerFactory(bank_account=mycontas_account), S.UNKNOWN, age=dt.timedelta(minutes=5))
    result = sweep.sweep_run(dispatch=sweep.inline_dispatch, min_age=NOW)
    assert result.needs_attention == 0 and gateway.issue_calls == 0


def test_stuck_issuing_becomes_unknown_then_is_looked_up(customer, gateway):
    charge = make(customer, S.ISSUING, age=dt.timedelta(minutes=30))
    result = sweep.sweep_run(dispatch=sweep.inline_dispatch, min_age=NOW)
    assert result.expired == 1
    charge.refresh_from_db()
    assert charge.state == S.ISSUED
    states = list(charge.events.values_list("to_state", flat=True))
    assert states == [S.PENDING, S.UNKNOWN, S.PENDING, S.ISSUING, S.ISSUED]  # looked up, absent, sent


def test_recent_issuing_is_left_alone(customer, gateway):
    charge = make(customer, S.ISSUING, age=dt.timedelta(seconds=5))
    result = sweep.sweep_run(dispatch=sweep.inline_dispatch, min_age=NOW)
    charge.refresh_from_db()
    assert result.expired == 0 and charge.state == S.ISSUING


def test_fresh_pending_is_left_to_its_queued_task(customer, gateway):
    charge = make(customer, age=dt.timedelta(seconds=10))
    sweep.sweep_run(dispatch=sweep.inline_dispatch, min_age=dt.timedelta(minutes=5))
    charge.refresh_from_db()
    assert charge.state == S.PENDING


def test_finished_charges_are_not_touched(customer, gateway):
    issued = make(customer, S.ISSUED)
    result = sweep.sweep_run(dispatch=sweep.inline_dispatch, min_age=NOW)
    assert sum(result.handed.values()) == 0
    issued.refresh_from_db()
    assert issued.state == S.ISSUED and gateway.issue_calls == 1


def test_enqueue_sweep_queues_one_task_per_charge_and_one_per_carne(
    customer, gateway, django_capture_on_commit_callbacks, sent_tasks
):
    pending = make(customer)
    unknown = make(customer, S.UNKNOWN)
    to_cancel = make(customer, S.CANCEL_REQUESTED)
    carne = svc.carne_create(
        customer=customer,
        installments=3,
        amount=Decimal("30"),
        first_due_date=dt.date(2026, 12, 5),
        description="x",
        enqueue=False,
    )
    Charge.objects.filter(carne=carne).update(state_changed_at=timezone.now() - LONG_AGO)
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.run_sweep.apply().get()
    issued = [args[0] for name, args, _countdown in sent_tasks if name == queue.ISSUE_CHARGE]
    cancelled = [args[0] for name, args, _countdown in sent_tasks if name == queue.CANCEL_CHARGE]
    first = carne.installment_charges.order_by("installment_number").first()
    assert sorted(issued) == sorted([pending.pk, unknown.pk, first.pk])
    assert cancelled == [to_cancel.pk]
    assert result["outcome_queued"] == 4
    assert gateway.issue_calls == 1  # only the setup's issue: the sweep itself sent nothing


def test_second_sweep_while_one_runs_does_nothing(customer, gateway):
    charge = make(customer)
    assert leases.lease_acquire(leases.SWEEP, holder="other-worker", ttl=dt.timedelta(minutes=10))
    assert sweep.sweep_run(dispatch=sweep.inline_dispatch, min_age=NOW) is None
    assert tasks.run_sweep.apply().get() == {"skipped": 1}
    charge.refresh_from_db()
    assert charge.state == S.PENDING and gateway.issue_calls == 0


def test_expired_lease_is_taken_over_and_finish_is_recorded(customer, gateway):
    make(customer)
    leases.lease_acquire(leases.SWEEP, holder="dead-worker", ttl=dt.timedelta(minutes=10))
    Lease.objects.filter(name=leases.SWEEP).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    result = sweep.sweep_run(dispatch=sweep.inline_dispatch, min_age=NOW)
    assert result is not None and result.outcomes[S.ISSUED] == 1
    lease = Lease.objects.get(name=leases.SWEEP)
    assert lease.holder == "" and lease.last_finished_at is not None


def test_sweep_retries_the_waiting_notifications(gateway, monkeypatch):
    monkeypatch.setattr(sweep, "notifications_retry_pending", lambda: 3)
    result = sweep.sweep_run(dispatch=sweep.inline_dispatch, min_age=NOW)
    assert result.notifications == 3 and result.as_dict()["notifications"] == 3


def test_claims_use_skip_locked_where_the_database_has_it(customer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make(customer)
    with CaptureQueriesContext(connection) as queries:
        rows = sweep._claim_batch(sweep._work_filter(min_age=NOW, no_lookup=[]), after_id=0, limit=10)
    assert len(rows) == 1
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    if connection.features.has_select_for_update_skip_locked:
        assert "SKIP LOCKED" in sql


def test_command_prints_summary_and_exits_zero(customer, gateway, capsys):
    make(customer)
    make(customer, S.CANCEL_REQUESTED)
    call_command("sweep", "--min-age", "0", "--threads", "1", "--no-progress")
    out = capsys.readouterr().out
    # The command speaks the active language (pt-BR by default): compare with the catalogue.
    outcome = gettext("outcome: %(state)s")
    assert gettext("pending taken") in out
    # Each outcome in words (the state's label), never the bare code.
    assert outcome % {"state": S.ISSUED.label} in out and outcome % {"state": S.CANCELLED.label} in out
    assert outcome % {"state": "issued"} not in out


def test_progress_total_counts_stuck_issuing_charges_the_run_will_look_up(customer, gateway):
    make(customer)
    make(customer, S.ISSUING, age=dt.timedelta(minutes=30))  # expired to unknown, then looked up
    make(customer, S.ISSUING, age=dt.timedelta(seconds=5))  # left alone
    total = sweep.count_work(min_age=NOW)
    steps: list[int] = []
    result = sweep.sweep_run(dispatch=sweep.inline_dispatch, min_age=NOW, progress=steps.append)
    assert total == sum(steps) == sum(result.handed.values()) == 2


def test_command_progress_bar_never_reads_more_done_than_its_total(customer, gateway, capsys):
    make(customer)
    make(customer, S.ISSUING, age=dt.timedelta(minutes=30))
    call_command("sweep", "--min-age", "0", "--threads", "1")
    bar = capsys.readouterr().err
    counts = [(int(done), int(total)) for done, total in re.findall(r"(\d+)/(\d+)", bar)]
    assert counts and all(done <= total for done, total in counts)
    assert counts[-1] == (2, 2)


def test_command_fails_when_a_charge_did_not_get_through(customer, gateway):
    make(customer)
    gateway.fail_next.append(GatewayRejected("Cobrança inválida"))
    with pytest.raises(CommandError):
        call_command("sweep", "--min-age", "0", "--threads", "1", "--no-progress")


def test_command_fails_when_another_sweep_runs(gateway):
    leases.lease_acquire(leases.SWEEP, holder="other", ttl=dt.timedelta(minutes=10))
    with pytest.raises(CommandError, match=re.escape(gettext("Another sweep is running; nothing done."))):
        call_command("sweep", "--no-progress")


def test_migration_installs_the_periodic_tasks():
    from django_celery_beat.models import PeriodicTask

    sweep_task = PeriodicTask.objects.get(task="billing.sweep")
    # Named for the staff who read the list of periodic tasks (in Portuguese, as the whole site).
    assert sweep_task.name == "Varredura de cobranças (a cada hora)"
    assert (
        PeriodicTask.objects.get(task="billing.reconcile").name
        == "Conciliação com os gateways (diária, 06:00)"
    )
    assert sweep_task.enabled and sweep_task.crontab.minute == "0" and sweep_task.crontab.hour == "*"
    reconcile = PeriodicTask.objects.get(task="billing.reconcile")
    assert reconcile.enabled
    assert (reconcile.crontab.minute, reconcile.crontab.hour) == ("0", "6")
    assert str(reconcile.crontab.timezone) == "America/Sao_Paulo"
