""" "Dias para baixar": an unpaid boleto past its due date plus the account's days to write off is
written off (baixado), with its history; the portal stops offering it; the reconciliation leaves it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from billing.models import Charge, ChargeState
from billing.services import sweep
from billing.services.charges import charges_write_off
from billing.services.reconciliation import reconciliation_run
from billing.services.transitions import transition
from tests import factories
from tests.billing.notifications_support import issued_charge, juno_sim  # noqa: F401 - fixture

S = ChargeState
pytestmark = pytest.mark.django_db


def issued(account, due: dt.date, state: str = S.ISSUED) -> Charge:
    customer = factories.CustomerFactory(bank_account=account)
    return factories.ChargeFactory(customer=customer, state=state, due_date=due)


def test_an_unpaid_boleto_is_written_off_after_the_accounts_days(juno_account):
    juno_account.days_to_write_off = 10
    juno_account.save()
    charge = factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=juno_account),
        state=S.ISSUED,
        due_date=dt.date(2026, 12, 10),
    )
    with time_machine.travel(dt.datetime(2026, 12, 20, 12, tzinfo=dt.UTC)):
        assert charges_write_off() == 0  # due + 10 days: still the last day
    with time_machine.travel(dt.datetime(2026, 12, 21, 12, tzinfo=dt.UTC)):
        assert charges_write_off() == 1
        assert charges_write_off() == 0  # once
    charge.refresh_from_db()
    assert charge.state == S.WRITTEN_OFF
    event = charge.events.get(to_state=S.WRITTEN_OFF)
    assert event.from_state == S.ISSUED and event.actor_label == "write_off" and "10" in event.reason


def test_contra_apresentacao_and_paid_or_cancelled_boletos_are_never_written_off(mycontas_account):
    mycontas_account.contra_apresentacao = True
    mycontas_account.days_to_write_off = 0
    mycontas_account.save()
    long_ago = dt.date(2026, 1, 10)
    issued(mycontas_account, long_ago)
    juno = factories.JunoAccountFactory(days_to_write_off=0)
    for state in (S.PAID, S.CANCELLED, S.CANCEL_REQUESTED, S.PENDING):
        factories.ChargeFactory(
            customer=factories.CustomerFactory(bank_account=juno), state=state, due_date=long_ago
        )
    assert charges_write_off(on=dt.date(2026, 12, 1)) == 0


def test_the_sweep_writes_off_and_says_how_many(juno_account, settings):
    factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=juno_account),
        state=S.ISSUED,
        due_date=dt.date(2020, 1, 10),
    )
    result = sweep.sweep_run(dispatch=sweep.inline_dispatch)
    assert result is not None and result.written_off == 1
    assert result.as_dict()["written_off"] == 1


def test_the_portal_stops_offering_it_and_a_late_payment_still_counts(client, juno_account):
    customer = factories.CustomerFactory(bank_account=juno_account)
    charge = factories.ChargeFactory(customer=customer, state=S.ISSUED, due_date=dt.date(2020, 1, 10))
    portal = reverse("portal:page", args=[customer.portal_token])
    assert [item.charge.pk for item in client.get(portal).context["page"].open_charges] == [charge.pk]
    charges_write_off()
    assert client.get(portal).context["page"].open_charges == []
    charge.refresh_from_db()
    transition(charge, S.PAID, actor_label="notification", reason="paid after all")
    assert Charge.objects.get(pk=charge.pk).state == S.PAID


def test_the_reconciliation_does_not_bring_it_back(juno_account, juno_sim):  # noqa: F811
    charge = issued_charge(juno_account)
    Charge.objects.filter(pk=charge.pk).update(state=S.WRITTEN_OFF)
    run = reconciliation_run(account=juno_account)
    assert not run.error
    assert Charge.objects.get(pk=charge.pk).state == S.WRITTEN_OFF
    assert not run.items.filter(charge=charge).exists()
