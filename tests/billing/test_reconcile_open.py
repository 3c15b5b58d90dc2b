"""What changed at the gateway shows here: the open charges compared with the gateway, on the
daily run and on "reconcile now"; refused cancels and Mycontas boletos still being prepared."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone, translation

from billing.models import Charge, ChargeState, DifferenceKind, Payment
from billing.selectors.attention import charges_needing_attention
from billing.services.gateway_access import gateway_for
from billing.services.reconciliation import reconcile_account_now, reconciliation_run
from tests import factories
from tests.billing.notifications_support import issued_charge, juno_sim, sim_pay  # noqa: F401

S = ChargeState
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_a_charge_cancelled_in_the_gateways_panel_is_cancelled_here(juno_account, juno_sim):  # noqa: F811
    charge = issued_charge(juno_account)
    kept = issued_charge(juno_account)
    gateway_for(juno_account).cancel(charge.gateway_code)  # staff cancelled it in Juno's own panel

    run = reconciliation_run(account=juno_account)

    charge.refresh_from_db()
    assert charge.state == S.CANCELLED
    assert "Cancelled at the gateway" in charge.events.get(to_state=S.CANCELLED).reason
    difference = run.items.get(kind=DifferenceKind.CANCELLED_THERE)
    assert difference.charge_id == charge.pk and difference.repaired
    assert Charge.objects.get(pk=kept.pk).state == S.ISSUED
    assert not run.error


def test_paid_there_with_no_notification_is_recorded_once_through_the_payment_service(
    juno_account,
    juno_sim,  # noqa: F811
):
    charge = issued_charge(juno_account)
    sim_pay(juno_sim, charge)  # the notification never arrives
    # Even when the paid-date window misses the payment, the open charge is compared.
    long_ago = dt.date.today() - dt.timedelta(days=60)
    for _run in range(2):
        reconciliation_run(account=juno_account, on=long_ago)
    charge.refresh_from_db()
    assert charge.state == S.PAID
    (payment,) = Payment.objects.filter(charge=charge)
    assert payment.source == "reconciliation"


def test_reconcile_now_is_an_audited_action_per_bank_account(client, juno_account, monkeypatch):
    from core import queue

    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(queue, "enqueue", lambda name, pk, countdown=None: sent.append((name, pk)))
    boss = factories.UserFactory(username="boss", is_superuser=True)
    client.force_login(boss)
    url = reverse("admin:providers_bankaccount_changelist")
    form = {"action": "reconcile_now", "_selected_action": [juno_account.pk]}
    page = client.post(url, form)
    assert page.status_code == 200 and juno_account.name in page.content.decode()  # confirmation first
    assert sent == []
    client.post(url, {**form, "post": "yes"})
    assert sent == [(queue.RECONCILE_ACCOUNT, juno_account.pk)]
    assert LogEntry.objects.filter(object_id=str(juno_account.pk), user=boss).exists()


def test_reconcile_now_runs_the_same_comparison(juno_account, juno_sim):  # noqa: F811
    charge = issued_charge(juno_account)
    gateway_for(juno_account).cancel(charge.gateway_code)
    run = reconcile_account_now(account_id=juno_account.pk)
    assert run is not None and run.bank_account == juno_account
    assert Charge.objects.get(pk=charge.pk).state == S.CANCELLED
    assert reconcile_account_now(account_id=factories.MycontasAccountFactory().pk) is None


def test_a_mycontas_boleto_without_link_is_being_prepared_on_the_portal(client, mycontas_account):
    customer = factories.CustomerFactory(bank_account=mycontas_account)
    factories.ChargeFactory(customer=customer, state=S.ISSUED, link="", linha_digitavel="")
    with translation.override("en"):
        response = client.get(reverse("portal:page", args=[customer.portal_token]), HTTP_ACCEPT_LANGUAGE="en")
    (item,) = response.context["page"].open_charges
    assert item.preparing
    assert 'class="preparing"' in response.content.decode()
    assert "boleto-link" not in response.content.decode()


def test_a_mycontas_boleto_still_without_link_after_the_delay_needs_attention(mycontas_account, settings):
    settings.MYCONTAS_UNKNOWN_ATTENTION_MINUTES = 60
    customer = factories.CustomerFactory(bank_account=mycontas_account)
    waiting = factories.ChargeFactory(customer=customer, state=S.ISSUED, link="", gateway_code="")
    Charge.objects.filter(pk=waiting.pk).update(state_changed_at=timezone.now() - dt.timedelta(minutes=30))
    assert not charges_needing_attention().filter(pk=waiting.pk).exists()  # the return POST may come
    Charge.objects.filter(pk=waiting.pk).update(state_changed_at=timezone.now() - dt.timedelta(minutes=61))
    assert charges_needing_attention().filter(pk=waiting.pk).exists()
    Charge.objects.filter(pk=waiting.pk).update(
        gateway_code="4321", link="https://www.mycontas.com.br/cobranca/?id=x"
    )
    assert not charges_needing_attention().filter(pk=waiting.pk).exists()
