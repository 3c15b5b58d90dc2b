"""The daily reconciliation against the Juno simulator, and the warnings staff see on the admin index."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import (
    ChargeState,
    DifferenceKind,
    Lease,
    Notification,
    Payment,
    ReconciliationDifference,
    ReconciliationRun,
)
from billing.selectors.notifications import admin_warnings, silent_accounts
from billing.services import leases
from billing.services.payments import payment_record
from billing.services.reconciliation import reconcile_all, reconciliation_run
from tests import factories
from tests.billing import notifications_support as support
from tests.billing.notifications_support import details, issued_charge, sim_pay

S = ChargeState
pytestmark = pytest.mark.django_db
juno_sim = support.juno_sim
juno_down = support.juno_down


def _record(charge, paid, **overrides):
    payment = paid["payment"]
    values = {
        "amount": str(payment["amount"]),
        "code": charge.gateway_code,
        "reference": charge.reference,
        "date": dt.datetime.strptime(payment["date"], "%d/%m/%Y").date(),
        **overrides,
    }
    return payment_record(charge_id=charge.pk, gateway="juno", details=details(str(payment["id"]), **values))


def test_a_lost_notification_is_repaired_through_the_payment_service(juno_account, juno_sim, caplog):
    lost = issued_charge(juno_account)
    known = issued_charge(juno_account)
    _record(known, sim_pay(juno_sim, known))
    sim_pay(juno_sim, lost)  # paid at the gateway; the notification never arrived

    with caplog.at_level(logging.WARNING, logger="billing.services.reconciliation"):
        totals = reconcile_all()

    assert totals == {"accounts": 1, "repaired": 1, "differences": 1, "skipped": 0}
    lost.refresh_from_db()
    assert lost.state == S.PAID
    payment = Payment.objects.get(charge=lost)
    assert payment.source == "reconciliation" and payment.amount == Decimal("99.90")
    run = ReconciliationRun.objects.get()
    assert (run.gateway_payments, run.local_payments, run.repaired, run.differences) == (2, 2, 1, 1)
    assert run.finished_at is not None and run.error == ""
    difference = ReconciliationDifference.objects.get()
    assert (difference.kind, difference.charge, difference.repaired) == (
        DifferenceKind.MISSING_HERE,
        lost,
        True,
    )
    assert any("recorded 1 payment" in record.getMessage() for record in caplog.records)
    assert Lease.objects.get(name=leases.RECONCILIATION).last_finished_at is not None
    arrived = ("whose notification never arrived", "cuja notificação nunca chegou")
    assert any(text in w for w in admin_warnings() for text in arrived)


def test_a_second_run_finds_nothing_more(juno_account, juno_sim):
    charge = issued_charge(juno_account)
    sim_pay(juno_sim, charge)
    reconcile_all()
    assert reconcile_all()["repaired"] == 0
    assert Payment.objects.count() == 1


def test_differences_missing_there_amount_and_state(juno_account, juno_sim):
    here_only = factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=juno_account), state=S.ISSUED, gateway_code="1"
    )
    payment_record(charge_id=here_only.pk, gateway="juno", details=details("ghost-1"))
    amount_differs = issued_charge(juno_account)
    _record(amount_differs, sim_pay(juno_sim, amount_differs), amount="90.00")
    state_differs = issued_charge(juno_account)
    paid = sim_pay(juno_sim, state_differs)
    _record(state_differs, paid, status="AUTHORIZED")  # we saw it before it was confirmed

    run = reconciliation_run(account=juno_account)

    kinds = dict(ReconciliationDifference.objects.filter(run=run).values_list("kind", "charge"))
    assert kinds == {
        DifferenceKind.MISSING_THERE: here_only.pk,
        DifferenceKind.AMOUNT_DIFFERS: amount_differs.pk,
        DifferenceKind.STATE_DIFFERS: state_differs.pk,
    }
    assert run.differences == 3 and run.repaired == 1
    state_differs.refresh_from_db()
    assert state_differs.state == S.PAID


def test_a_gateway_payment_for_an_unknown_charge_is_reported_not_invented(juno_account, juno_sim):
    charge = issued_charge(juno_account)
    sim_pay(juno_sim, charge)
    type(charge).objects.filter(pk=charge.pk).update(gateway_code="other", reference="T-ELSEWHERE")
    run = reconciliation_run(account=juno_account)
    difference = ReconciliationDifference.objects.get(run=run, kind=DifferenceKind.MISSING_HERE)
    assert not difference.repaired
    assert not Payment.objects.exists()
    # And the charge open here under another code is not listed by the gateway: reported, not touched.
    assert (
        ReconciliationDifference.objects.get(run=run, kind=DifferenceKind.NOT_LISTED).charge_id == charge.pk
    )


def test_a_gateway_outage_is_recorded_on_the_run(juno_account, juno_down):
    run = reconciliation_run(account=juno_account)
    assert run.error and run.finished_at is not None
    assert any("failed" in warning or "falhou" in warning for warning in admin_warnings())


def test_only_active_juno_accounts_are_reconciled(juno_sim):
    factories.JunoAccountFactory(active=False)
    factories.MycontasAccountFactory()
    active = factories.JunoAccountFactory()
    assert reconcile_all()["accounts"] == 1
    assert ReconciliationRun.objects.get().bank_account == active


def test_runs_never_overlap(juno_account, juno_sim):
    with leases.lease(leases.RECONCILIATION, ttl=dt.timedelta(minutes=5)):
        assert reconcile_all()["skipped"] == 1
    assert not ReconciliationRun.objects.exists()


def test_the_period_is_the_configured_number_of_days(juno_account, juno_sim, settings):
    settings.RECONCILIATION_DAYS = 3
    run = reconciliation_run(account=juno_account, on=dt.date(2026, 11, 20))
    assert (run.period_start, run.period_end) == (dt.date(2026, 11, 17), dt.date(2026, 11, 20))


def test_the_task_runs_the_reconciliation(juno_account, juno_sim):
    from billing.notification_tasks import reconcile

    assert reconcile.name == "billing.reconcile"
    assert reconcile.apply().get()["accounts"] == 1


# --- silence --------------------------------------------------------------------------------------
def _notified(account, when):
    notification = Notification.objects.create(gateway="juno", bank_account=account, path="/x")
    Notification.objects.filter(pk=notification.pk).update(received_at=when)


def test_an_account_that_usually_gets_notifications_and_went_silent_is_flagged(
    juno_account, juno_down, settings, caplog
):
    settings.NOTIFICATION_SILENCE_HOURS = 48
    now = timezone.now()
    for days in (3, 4, 5):
        _notified(juno_account, now - dt.timedelta(days=days))
    quiet = factories.JunoAccountFactory()  # never received any: not "usually"
    busy = factories.JunoAccountFactory()
    for days in (3, 4, 5):
        _notified(busy, now - dt.timedelta(days=days))
    _notified(busy, now - dt.timedelta(hours=1))

    assert [account for account, _last in silent_accounts()] == [juno_account]
    warnings = admin_warnings()
    assert any(juno_account.name in w and ("48 hours" in w or "48 horas" in w) for w in warnings)
    assert not any(quiet.name in w or busy.name in w for w in warnings)

    with caplog.at_level(logging.WARNING, logger="billing.services.reconciliation"):
        reconcile_all()  # the gateway is down: every run fails, the silence check still logs
    assert any("no notification since" in record.getMessage() for record in caplog.records)


def test_admin_warnings_is_empty_on_a_quiet_installation(juno_account):
    assert admin_warnings() == []


def test_admin_warnings_costs_a_few_queries(juno_account, django_assert_max_num_queries):
    factories.JunoAccountFactory()
    with django_assert_max_num_queries(8):
        admin_warnings()
