"""Celery tasks: enqueued after commit, thin, idempotent, retrying transport errors with backoff."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings

from billing import tasks
from billing.models import Charge, ChargeState
from billing.services import charges as svc
from config.celery import app
from core import queue
from gateways.base import GatewayRejected, GatewayUnavailable
from tests.billing.fakes import FakeGateway

S = ChargeState
pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway(monkeypatch):
    fake = FakeGateway()
    monkeypatch.setattr(svc, "gateway_for", lambda account, charge_id=None: fake)
    return fake


@pytest.fixture
def no_sleep_backoff(monkeypatch):
    calls = []

    def record(retries, **kwargs):
        calls.append(retries)
        return 1

    monkeypatch.setattr(tasks, "backoff", record)
    return calls


def make_charge(customer):
    return svc.charge_create(
        customer=customer,
        amount=Decimal("99.90"),
        due_date=dt.date(2026, 12, 10),
        description="x",
        enqueue=False,
    )


def test_tasks_have_explicit_names():
    assert tasks.issue_charge.name == "billing.issue_charge"
    assert tasks.cancel_charge.name == "billing.cancel_charge"
    assert tasks.run_sweep.name == "billing.sweep"
    assert {"billing.issue_charge", "billing.cancel_charge", "billing.sweep"} <= set(app.tasks)


def test_broker_settings_make_redelivery_safe():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_every_retry_countdown_is_below_the_visibility_timeout():
    countdowns = [tasks.backoff(r) for r in range(tasks.MAX_RETRIES + 1) for _ in range(200)]
    assert max(countdowns) <= queue.BACKOFF_CAP_SECONDS < settings.CELERY_BROKER_VISIBILITY_TIMEOUT
    assert min(countdowns) >= 1


def test_staff_create_enqueues_issue_only_after_commit(
    customer, django_capture_on_commit_callbacks, sent_tasks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        charge = svc.charge_create(
            customer=customer, amount=Decimal("10"), due_date=dt.date(2026, 12, 1), description="x"
        )
        assert sent_tasks == []  # nothing reaches the broker inside the transaction
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent_tasks == [(queue.ISSUE_CHARGE, [charge.pk], None)]


def test_cancel_request_enqueues_cancel_after_commit(
    customer, gateway, django_capture_on_commit_callbacks, sent_tasks
):
    charge = svc.charge_issue(charge_id=make_charge(customer).pk)
    with django_capture_on_commit_callbacks(execute=True):
        svc.charge_request_cancel(charge=charge)
    assert sent_tasks == [(queue.CANCEL_CHARGE, [charge.pk], None)]


def test_issue_task_issues_and_is_safe_twice(customer, gateway):
    charge = make_charge(customer)
    assert tasks.issue_charge.apply(args=[charge.pk]).get() == S.ISSUED
    assert tasks.issue_charge.apply(args=[charge.pk]).get() == S.ISSUED
    assert gateway.issue_calls == 1


def test_transport_error_retries_with_backoff_then_issues(customer, gateway, no_sleep_backoff):
    gateway.fail_next.extend([GatewayUnavailable("refused", maybe_sent=False)] * 2)
    charge = make_charge(customer)
    assert tasks.issue_charge.apply(args=[charge.pk]).get() == S.ISSUED
    assert no_sleep_backoff == [0, 1]  # two retries, each with the next backoff step
    assert gateway.issue_calls == 3


def test_lost_answer_is_looked_up_on_retry_not_resent(customer, gateway, no_sleep_backoff):
    gateway.create_then_fail = True
    gateway.fail_next.append(GatewayUnavailable("read timeout", maybe_sent=True))
    charge = make_charge(customer)
    assert tasks.issue_charge.apply(args=[charge.pk]).get() == S.ISSUED
    assert gateway.issue_calls == 1  # the retry found it by reference
    assert no_sleep_backoff == [0]


def test_retries_give_up_and_leave_the_charge_for_the_sweep(customer, gateway, no_sleep_backoff):
    gateway.fail_next.extend([GatewayUnavailable("refused", maybe_sent=False)] * (tasks.MAX_RETRIES + 1))
    charge = make_charge(customer)
    assert tasks.issue_charge.apply(args=[charge.pk]).get() == "deferred"
    assert no_sleep_backoff == list(range(tasks.MAX_RETRIES))
    charge.refresh_from_db()
    assert charge.state == S.PENDING  # the sweep takes it from here


def test_rejection_fails_without_retry(customer, gateway, no_sleep_backoff):
    gateway.fail_next.append(GatewayRejected("CPF inválido"))
    charge = make_charge(customer)
    assert tasks.issue_charge.apply(args=[charge.pk]).get() == S.FAILED
    assert no_sleep_backoff == []
    charge.refresh_from_db()
    assert charge.error_message == "CPF inválido"


def test_cancel_task_cancels_and_retries_transport_errors(customer, gateway, no_sleep_backoff):
    charge = svc.charge_issue(charge_id=make_charge(customer).pk)
    svc.charge_request_cancel(charge=charge, enqueue=False)
    gateway.fail_next.append(GatewayUnavailable("timeout"))
    assert tasks.cancel_charge.apply(args=[charge.pk]).get() == S.CANCELLED
    assert no_sleep_backoff == [0]
    assert gateway.cancelled == [charge.gateway_code]
    assert tasks.cancel_charge.apply(args=[charge.pk]).get() == S.CANCELLED
    assert len(gateway.cancelled) == 1


@pytest.mark.django_db(transaction=True)
def test_issue_hot_path_query_budget(settings):
    """One título through the real adapter and the simulator: 8 statements (transaction control aside).

    Lock + read, pending → issuing (update, event), the gateway log, lock + read, → issued (update,
    event, and the ``charge.issued`` outbound event in the same transaction). The benchmark's target
    is 8 per charge.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gateways.juno.simulator import API_PREFIX, start_in_thread
    from tests.factories import CustomerFactory

    server, base_url = start_in_thread(port=0)
    settings.JUNO_SANDBOX_BASE_URL = base_url + API_PREFIX
    try:
        charge = make_charge(CustomerFactory())
        with CaptureQueriesContext(connection) as captured:
            assert tasks.issue_charge.apply(args=[charge.pk]).get() == S.ISSUED
    finally:
        server.shutdown()
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].upper().startswith(control)]
    assert len(statements) <= 8, "\n".join(s[:90] for s in statements)


def test_issue_and_cancel_lock_only_charge_rows(customer, gateway):
    """Locking the joined bank account row would serialise every charge of that account."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if not connection.features.has_select_for_update_of:
        pytest.skip("this database has no row locks (SQLite locks the whole file)")
    charge = make_charge(customer)
    with CaptureQueriesContext(connection) as issued:
        svc.charge_issue(charge_id=charge.pk)
    svc.charge_request_cancel(charge=Charge.objects.get(pk=charge.pk), enqueue=False)
    with CaptureQueriesContext(connection) as cancelled:
        svc.charge_cancel_at_gateway(charge_id=charge.pk)
    locks = [
        q["sql"] for q in issued.captured_queries + cancelled.captured_queries if "FOR UPDATE" in q["sql"]
    ]
    joined = [sql for sql in locks if " JOIN " in sql]
    assert len(joined) == 3  # issue: lock before and after the call; cancel: lock before the call
    assert all(sql.endswith('FOR UPDATE OF "billing_charge"') for sql in joined), joined


def test_celery_never_closes_database_connections_itself():
    """Celery's Django fixup closes every connection around every task unless told otherwise:
    a new PostgreSQL connection per task (measured: 100 vs 70 charges/s in bench/issue_throughput)."""
    from celery.fixups.django import DjangoWorkerFixup

    fixup = DjangoWorkerFixup(app)
    assert fixup.db_reuse_max >= 1_000_000
    closed = []
    fixup._close_database = lambda *args, **kwargs: closed.append(1)
    for _ in range(1000):
        fixup.close_database()
    assert closed == []


@pytest.mark.django_db(transaction=True)
def test_connections_are_recycled_between_tasks_as_django_does_between_requests(monkeypatch):
    """Kept while younger than CONN_MAX_AGE, closed once obsolete; eager tasks leave them alone."""
    import time
    from types import SimpleNamespace

    from django.db import connections

    from config.celery import recycle_database_connections

    worker_task = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    eager_task = SimpleNamespace(request=SimpleNamespace(is_eager=True))
    connection = connections["default"]
    connection.ensure_connection()
    closed = []
    monkeypatch.setattr(connection, "close", lambda: closed.append(connection.alias))

    connection.close_at = time.monotonic() + 60
    recycle_database_connections(task=worker_task)
    assert closed == []

    connection.close_at = time.monotonic() - 1
    recycle_database_connections(task=eager_task)
    assert closed == []
    recycle_database_connections(task=worker_task)
    assert closed == ["default"]
