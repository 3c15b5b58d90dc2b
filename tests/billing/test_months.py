"""Never a second bill for a month already billed: from the customer page, the billing run, the
services, and in the database itself (carnês included). Staff may override with a written reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.urls import reverse

from billing.models import Carne, Charge, ChargeEvent, ChargeState
from billing.services import billing_run
from billing.services import charges as svc
from billing.services.dates import add_months, due_date_for
from billing.services.transitions import transition
from core.dates import today
from core.errors import ApplicationError
from tests import factories

S = ChargeState
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def queued(monkeypatch):
    from core import queue

    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(queue, "enqueue", lambda name, pk, countdown=None: calls.append((name, pk)))
    return calls


@pytest.fixture
def operator():
    user = factories.UserFactory(username="operator")
    user.groups.add(Group.objects.get(name="Billing operators"))
    return user


def next_month_day(day: int = 10) -> dt.date:
    month = add_months(today().replace(day=1), 1)
    return due_date_for(month.year, month.month, day)


def titulo(customer, due, **kw):
    return svc.charge_create(
        customer=customer, amount=Decimal("99.90"), due_date=due, description="Internet", enqueue=False, **kw
    )


def carne(customer, first_due, installments=3, **kw):
    return svc.carne_create(
        customer=customer,
        installments=installments,
        amount=Decimal("99.90"),
        first_due_date=first_due,
        description="Internet",
        enqueue=False,
        **kw,
    )


# --- the customer page ----------------------------------------------------------------------------
def test_a_carne_issued_twice_from_the_customer_page_is_refused_naming_the_bills(
    client, operator, customer, queued
):
    client.force_login(operator)
    url = reverse("admin:customers_customer_issue_carne", args=[customer.pk])
    form = {
        "installments": "3",
        "first_due_date": next_month_day().isoformat(),
        "amount": "99.90",
        "description": "Internet",
    }
    assert client.post(url, form).status_code == 302
    first = Carne.objects.get(customer=customer)

    again = client.post(url, form)

    assert again.status_code == 200  # the form again, with the reason
    text = again.content.decode()
    assert "already has a bill for" in text
    for installment in first.installment_charges.all():
        assert installment.reference in text
    assert Carne.objects.filter(customer=customer).count() == 1
    assert Charge.objects.filter(customer=customer).count() == 3


def test_a_titulo_over_a_carne_month_is_refused_and_an_override_reason_allows_it(
    client, operator, customer, queued
):
    existing = carne(customer, next_month_day())
    client.force_login(operator)
    url = reverse("admin:customers_customer_issue_charge", args=[customer.pk])
    due = add_months(next_month_day(), 1)  # the carnê's second month
    form = {"amount": "30.00", "due_date": due.isoformat(), "description": "Visita técnica"}

    refused = client.post(url, form)
    assert refused.status_code == 200
    second = existing.installment_charges.get(installment_number=2)
    assert second.reference in refused.content.decode()

    allowed = client.post(url, {**form, "override_reason": "Technician visit billed apart"})
    assert allowed.status_code == 302
    extra = Charge.objects.get(customer=customer, carne__isnull=True)
    assert extra.billing_month == due.replace(day=1) and extra.month_claim is None
    created = ChargeEvent.objects.get(charge=extra)
    assert "Technician visit billed apart" in created.reason and second.reference in created.reason
    assert created.actor == operator


# --- the services and the database ----------------------------------------------------------------
def test_every_installment_bills_and_claims_its_own_month(customer):
    made = carne(customer, next_month_day(31), installments=4)
    months = list(
        made.installment_charges.order_by("installment_number").values_list("billing_month", "month_claim")
    )
    expected = [add_months(next_month_day(1), n) for n in range(4)]
    assert months == [(m, m) for m in expected]


def test_the_database_refuses_a_second_claim_of_a_month(customer):
    made = carne(customer, next_month_day())
    installment = made.installment_charges.get(installment_number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.ChargeFactory(
            customer=customer,
            due_date=installment.due_date,
            billing_month=installment.billing_month,
            month_claim=installment.billing_month,
        )


def test_a_month_claimed_meanwhile_is_refused_like_any_overlap(customer, monkeypatch):
    """Two requests checked at the same time: the database's claim decides, and staff read why."""
    due = next_month_day()
    first = titulo(customer, due)
    real, calls = svc.billed_months, []

    def checked_before_the_first_committed(**kwargs):
        calls.append(kwargs)
        return [] if len(calls) == 1 else real(**kwargs)

    monkeypatch.setattr(svc, "billed_months", checked_before_the_first_committed)
    with pytest.raises(ApplicationError, match=first.reference):
        titulo(customer, due)
    assert Charge.objects.filter(customer=customer).count() == 1


def test_cancelled_months_are_free_again_and_a_late_payment_keeps_both(customer):
    due = next_month_day()
    first = titulo(customer, due)
    svc.charge_request_cancel(charge=first, enqueue=False)  # pending: cancelled at once
    first.refresh_from_db()
    assert (first.state, first.month_claim) == (S.CANCELLED, None)
    second = titulo(customer, due)
    assert second.month_claim == due.replace(day=1)
    # Money is never hidden: the cancelled boleto paid after all still records, claims nothing.
    transition(first, S.PAID, actor_label="test", reason="paid after cancel")
    first.refresh_from_db()
    assert (first.state, first.month_claim) == (S.PAID, None)


def test_paid_months_stay_billed(customer):
    due = next_month_day()
    paid = titulo(customer, due)
    Charge.objects.filter(pk=paid.pk).update(state=S.PAID)
    with pytest.raises(ApplicationError, match=paid.reference):
        carne(customer, due, installments=2)


# --- the billing run ------------------------------------------------------------------------------
def test_the_billing_run_never_bills_a_month_a_hand_made_charge_claims(juno_account, monkeypatch):
    month = add_months(today().replace(day=1), 1)
    customer = factories.CustomerFactory(bank_account=juno_account, due_day=10)
    by_hand = titulo(customer, month.replace(day=20))
    result = billing_run.billing_run_generate(month=month)
    assert result.total("created") == 0
    assert list(Charge.objects.filter(customer=customer)) == [by_hand]


def test_the_billing_runs_carne_claims_the_run_month_onwards(juno_account):
    month = add_months(today().replace(day=1), 1)
    customer = factories.CustomerFactory(bank_account=juno_account, due_day=10, billing_type="carne")
    billing_run.billing_run_generate(month=month)
    months = sorted(Charge.objects.filter(customer=customer).values_list("month_claim", flat=True))
    assert months == [add_months(month, n) for n in range(billing_run.CARNE_INSTALLMENTS)]
