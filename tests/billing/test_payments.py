"""billing.services.payments: one payment per gateway payment id, the charge moved as the gateway says."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError

from billing.models import ChargeEvent, ChargeState, Payment
from billing.services.payments import is_amount_mismatch, payment_record
from tests import factories
from tests.billing.notifications_support import details

S = ChargeState
pytestmark = pytest.mark.django_db


@pytest.fixture
def charge(juno_account):
    return factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=juno_account), state=S.ISSUED, gateway_code="555"
    )


def test_confirmed_pays_the_charge_with_the_gateways_amount_date_and_fee(charge):
    paid_on = dt.date(2026, 11, 20)
    outcome = payment_record(charge_id=charge.pk, gateway="juno", details=details("1", date=paid_on))
    charge.refresh_from_db()
    assert charge.state == S.PAID
    assert outcome.created and outcome.state_changed
    payment = Payment.objects.get()
    assert (payment.amount, payment.paid_on, payment.fee, payment.status) == (
        Decimal("99.90"),
        paid_on,
        Decimal("1.49"),
        "CONFIRMED",
    )
    assert payment.source == "notification" and not payment.amount_mismatch
    assert ChargeEvent.objects.filter(charge=charge, to_state=S.PAID).count() == 1


def test_the_same_payment_twice_gives_one_row_and_one_event(charge):
    first = payment_record(charge_id=charge.pk, gateway="juno", details=details("7"))
    second = payment_record(charge_id=charge.pk, gateway="juno", details=details("7"))
    assert first.created and not second.created
    assert second.payment.pk == first.payment.pk
    assert not second.state_changed
    assert Payment.objects.count() == 1
    assert ChargeEvent.objects.filter(charge=charge, to_state=S.PAID).count() == 1


def test_the_unique_constraint_itself_refuses_a_second_row(charge):
    payment_record(charge_id=charge.pk, gateway="juno", details=details("8"))
    with pytest.raises(IntegrityError):
        Payment.objects.create(
            charge=charge, gateway="juno", gateway_payment_id="8", amount=Decimal("1.00"), status="CONFIRMED"
        )


def test_a_duplicate_inserted_meanwhile_is_read_back(charge, monkeypatch):
    """The race: another process commits the payment between our look-up and our insert."""
    from billing.services import payments

    Payment.objects.create(  # the other process's row, committed
        charge=charge, gateway="juno", gateway_payment_id="9", amount=Decimal("99.90"), status="CONFIRMED"
    )
    real_filter = Payment.objects.filter
    calls = {"n": 0}

    def racing_filter(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:  # our first look-up ran before that commit: it saw nothing
            return real_filter(pk=-1)
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(payments.Payment.objects, "filter", racing_filter)
    outcome = payment_record(charge_id=charge.pk, gateway="juno", details=details("9"))
    monkeypatch.undo()
    assert calls["n"] == 2  # the insert failed, the step ran again and read the row
    assert not outcome.created
    assert Payment.objects.filter(gateway_payment_id="9").count() == 1
    charge.refresh_from_db()
    assert charge.state == S.PAID


@pytest.mark.parametrize("state", [S.CANCEL_REQUESTED, S.CANCELLED])
def test_payment_after_cancel_keeps_the_money_visible(juno_account, state):
    charge = factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=juno_account), state=state
    )
    payment_record(charge_id=charge.pk, gateway="juno", details=details("10"))
    charge.refresh_from_db()
    assert charge.state == S.PAID
    assert charge.paid_after_cancel is True


@pytest.mark.parametrize("status", ["CUSTOMER_PAID_BACK", "BANK_PAID_BACK", "PARTIALLY_REFUNDED"])
def test_paid_back_statuses_refund_a_paid_charge(charge, status):
    payment_record(charge_id=charge.pk, gateway="juno", details=details("11"))
    outcome = payment_record(charge_id=charge.pk, gateway="juno", details=details("11", status=status))
    charge.refresh_from_db()
    assert charge.state == S.REFUNDED
    assert outcome.status_changed and Payment.objects.get().status == status


def test_a_refund_whose_confirmation_never_arrived_shows_both_moves(charge):
    payment_record(charge_id=charge.pk, gateway="juno", details=details("12", status="CUSTOMER_PAID_BACK"))
    charge.refresh_from_db()
    assert charge.state == S.REFUNDED
    moves = list(ChargeEvent.objects.filter(charge=charge).values_list("to_state", flat=True))
    assert moves[-2:] == [S.PAID, S.REFUNDED]


def test_a_stale_confirmation_does_not_undo_a_refund(charge):
    payment_record(charge_id=charge.pk, gateway="juno", details=details("13"))
    payment_record(charge_id=charge.pk, gateway="juno", details=details("13", status="BANK_PAID_BACK"))
    payment_record(charge_id=charge.pk, gateway="juno", details=details("13"))
    charge.refresh_from_db()
    assert charge.state == S.REFUNDED
    assert Payment.objects.get().status == "BANK_PAID_BACK"


@pytest.mark.parametrize("status", ["AUTHORIZED", "AWAITING_PROCESSING", "DECLINED", "FAILED"])
def test_other_statuses_are_recorded_without_a_state_change(charge, status):
    outcome = payment_record(charge_id=charge.pk, gateway="juno", details=details("14", status=status))
    charge.refresh_from_db()
    assert charge.state == S.ISSUED and not outcome.state_changed
    assert Payment.objects.get().status == status


def test_an_amount_that_differs_is_kept_and_flagged(charge):
    outcome = payment_record(charge_id=charge.pk, gateway="juno", details=details("15", amount="50.00"))
    charge.refresh_from_db()
    assert charge.state == S.PAID
    assert outcome.payment.amount == Decimal("50.00") and outcome.payment.amount_mismatch


def test_late_fees_are_not_a_mismatch_but_more_than_due_is(charge):
    late = charge.due_date + dt.timedelta(days=10)
    assert not is_amount_mismatch(charge, Decimal("99.90"), late)
    # 2% fine + 10 × 0.033% interest on 99.90 = 102.23
    assert not is_amount_mismatch(charge, Decimal("102.23"), late)
    assert is_amount_mismatch(charge, Decimal("110.00"), late)
    assert is_amount_mismatch(charge, Decimal("102.23"), charge.due_date)
    assert is_amount_mismatch(charge, Decimal("90.00"), late)


def test_a_pending_charge_is_not_moved_but_the_payment_is_kept(juno_account):
    charge = factories.ChargeFactory(customer=factories.CustomerFactory(bank_account=juno_account))
    outcome = payment_record(charge_id=charge.pk, gateway="juno", details=details("16"))
    charge.refresh_from_db()
    assert charge.state == S.PENDING and outcome.created and not outcome.state_changed


# --- what a payment id is unique in ---------------------------------------------------------------------
def _issued(account, code: str):
    return factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=account), state=S.ISSUED, gateway_code=code
    )


def test_two_accounts_whose_payment_ids_collide_both_get_their_payment(juno_account):
    other = factories.JunoAccountFactory()
    first, second = _issued(juno_account, "1"), _issued(other, "2")
    one = payment_record(charge_id=first.pk, gateway="juno", details=details("9001"))
    two = payment_record(charge_id=second.pk, gateway="juno", details=details("9001"))
    assert one.created and two.created and not (one.elsewhere or two.elsewhere)
    for charge in (first, second):
        charge.refresh_from_db()
        assert charge.state == S.PAID
    assert sorted(Payment.objects.values_list("bank_account_id", flat=True)) == sorted(
        [juno_account.pk, other.pk]
    )


def test_sandbox_and_production_ids_of_one_account_are_two_id_spaces(juno_account):
    sandbox_charge = _issued(juno_account, "1")
    payment_record(charge_id=sandbox_charge.pk, gateway="juno", details=details("77"))
    juno_account.sandbox_token = ""
    juno_account.token = "PRODUCTION-TOKEN"
    juno_account.save()
    production_charge = _issued(juno_account, "2")
    outcome = payment_record(charge_id=production_charge.pk, gateway="juno", details=details("77"))
    assert outcome.created and not outcome.elsewhere
    assert sorted(Payment.objects.values_list("sandbox", flat=True)) == [False, True]


def test_a_payment_recorded_on_another_charge_is_never_a_silent_success(juno_account):
    first, second = _issued(juno_account, "1"), _issued(juno_account, "2")
    payment_record(charge_id=first.pk, gateway="juno", details=details("5"))
    outcome = payment_record(charge_id=second.pk, gateway="juno", details=details("5"))
    assert outcome.elsewhere and not outcome.created and not outcome.state_changed
    assert first.reference in outcome.elsewhere_message() and second.reference in outcome.elsewhere_message()
    second.refresh_from_db()
    assert second.state == S.ISSUED


def test_a_payment_created_without_its_account_takes_the_charges(charge, juno_account):
    payment = Payment.objects.create(
        charge=charge, gateway="juno", gateway_payment_id="X1", amount=Decimal("1.00"), status="CONFIRMED"
    )
    assert (payment.bank_account, payment.sandbox) == (juno_account, juno_account.is_sandbox)
