"""Payments recorded by staff (baixa manual): the service, the charge page and the undo."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.utils import translation

from billing.models import Charge, ChargeEvent, ChargeState, Payment
from billing.services import manual_payments as svc
from billing.services.payments import SOURCE_STAFF, payment_record
from core.errors import ApplicationError
from gateways.base import GatewayRejected, GatewayUnavailable
from tests import factories
from tests.billing.fakes import FakeGateway
from tests.browser.helpers import pt, staff_user

S = ChargeState
TODAY = dt.date(2026, 12, 15)


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(dt.datetime(2026, 12, 15, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture(autouse=True)
def _english_messages():
    """Service messages are matched in English here (the admin tests read them through pt())."""
    with translation.override("en"):
        yield


@pytest.fixture
def gateway(monkeypatch):
    fake = FakeGateway()
    monkeypatch.setattr(svc, "gateway_for", lambda account, charge_id=None: fake)
    return fake


@pytest.fixture
def operator(db):
    return staff_user("operadora", groups=("Billing operators",))


@pytest.fixture
def issued(db):
    return factories.ChargeFactory(
        state=S.ISSUED, amount=Decimal("99.90"), due_date=dt.date(2026, 12, 10), gateway_code="4242"
    )


def record(charge, actor, **overrides):
    values = {
        "charge_id": charge.pk,
        "amount": Decimal("99.90"),
        "paid_on": TODAY,
        "method": "dinheiro",
        "note": "Recebido no balcão",
        "actor": actor,
        "form_key": uuid.uuid4().hex,
        "today": TODAY,
    }
    return svc.payment_record_manual(**(values | overrides))


def test_staff_payment_pays_the_charge_through_the_payment_service(issued, operator, monkeypatch):
    from core import queue

    handed = []
    monkeypatch.setattr(queue, "enqueue", lambda name, *args, **kwargs: handed.append((name, args)))
    outcome = record(issued, operator, method="pix", note="PIX E2E123")
    issued.refresh_from_db()

    assert issued.state == S.PAID and issued.gateway_cancel_due
    payment = outcome.payment
    assert outcome.created and outcome.cancel_queued
    assert (payment.source, payment.method, payment.note, payment.entered_by) == (
        SOURCE_STAFF,
        "pix",
        "PIX E2E123",
        operator,
    )
    assert payment.status == "CONFIRMED" and payment.paid_on == TODAY and payment.amount == Decimal("99.90")
    assert payment.gateway_payment_id.startswith("staff-")
    event = issued.events.filter(to_state=S.PAID).get()
    assert event.actor == operator and "PIX E2E123" in event.reason
    # The cancel at the gateway is handed over once (what follows any payment is handed over too).
    assert handed.count((queue.CANCEL_BOLETO_PAID_ELSEWHERE, (issued.pk,))) == 1


def test_double_submit_records_one_payment(issued, operator):
    key = uuid.uuid4().hex
    first = record(issued, operator, form_key=key)
    second = record(issued, operator, form_key=key)
    assert first.created and not second.created and second.payment.pk == first.payment.pk
    assert Payment.objects.filter(charge=issued).count() == 1


def test_a_second_form_for_a_paid_charge_is_refused(issued, operator):
    record(issued, operator)
    with pytest.raises(ApplicationError, match="already paid"):
        record(issued, operator)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": Decimal("0")}, "greater than zero"),
        ({"paid_on": TODAY + dt.timedelta(days=1)}, "future"),
        ({"method": "cheque"}, "how the payment"),
        ({"form_key": "x"}, "expired"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(issued, operator, change, message):
    with pytest.raises(ApplicationError, match=message):
        record(issued, operator, **change)
    issued.refresh_from_db()
    assert issued.state == S.ISSUED and not Payment.objects.exists()


@pytest.mark.parametrize("state", [S.PENDING, S.ISSUING, S.UNKNOWN, S.FAILED, S.REFUNDED])
def test_charges_not_at_the_gateway_or_in_flight_take_no_staff_payment(operator, state):
    charge = factories.ChargeFactory(state=state)
    with pytest.raises(ApplicationError):
        record(charge, operator)


def test_boleto_is_cancelled_at_the_gateway_after_the_payment(issued, operator, gateway):
    record(issued, operator)
    charge = svc.boleto_cancel_paid_elsewhere(charge_id=issued.pk)
    assert gateway.cancelled == ["4242"]
    assert charge.state == S.PAID and not charge.gateway_cancel_due
    assert (
        charge.events.filter(reason__icontains="cancelled at the gateway").exists()
        or charge.events.filter(
            reason=pt("Boleto cancelled at the gateway: it was paid outside it.")
        ).exists()
    )
    svc.boleto_cancel_paid_elsewhere(charge_id=issued.pk)
    assert gateway.cancelled == ["4242"]  # idempotent


def test_gateway_unavailable_propagates_for_a_retry_and_a_refusal_is_kept_for_staff(
    issued, operator, gateway
):
    record(issued, operator)
    gateway.fail_next.append(GatewayUnavailable("timeout"))
    with pytest.raises(GatewayUnavailable):
        svc.boleto_cancel_paid_elsewhere(charge_id=issued.pk)
    assert Charge.objects.get(pk=issued.pk).gateway_cancel_due
    gateway.fail_next.append(GatewayRejected("Cobrança já paga"))
    charge = svc.boleto_cancel_paid_elsewhere(charge_id=issued.pk)
    assert not charge.gateway_cancel_due
    assert charge.events.filter(reason__contains="Cobrança já paga").exists()


def test_a_mycontas_charge_without_gateway_code_needs_no_cancel(operator, mycontas_account):
    charge = factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=mycontas_account), state=S.ISSUED, gateway_code=""
    )
    outcome = record(charge, operator)
    charge.refresh_from_db()
    assert charge.state == S.PAID and not outcome.cancel_queued and not charge.gateway_cancel_due


def test_gateway_paying_anyway_is_recorded_and_flags_paid_twice(issued, operator):
    record(issued, operator)
    paid = factories.PaymentDetailsFactory(payment_id="987654", amount=Decimal("99.90"), fee=Decimal("1.50"))
    outcome = payment_record(charge_id=issued.pk, gateway="juno", details=paid)
    issued.refresh_from_db()
    assert outcome.created
    assert issued.state == S.PAID and issued.paid_twice
    assert Payment.objects.filter(charge=issued, status="CONFIRMED").count() == 2
    assert issued.events.filter(reason__contains="987654").exists()
    # The gateway repeating its notification changes nothing more.
    again = payment_record(charge_id=issued.pk, gateway="juno", details=paid)
    assert not again.created and issued.events.filter(reason__contains="987654").count() == 1


# --- undo -----------------------------------------------------------------------------------------


def test_only_a_superuser_undoes_and_the_reason_is_kept(issued, operator):
    outcome = record(issued, operator)
    with pytest.raises(ApplicationError, match="superuser"):
        svc.payment_undo(payment_id=outcome.payment.pk, actor=operator, reason="engano")
    boss = factories.UserFactory(username="chefe", is_superuser=True)
    with pytest.raises(ApplicationError, match="why"):
        svc.payment_undo(payment_id=outcome.payment.pk, actor=boss, reason="  ")

    svc.payment_undo(payment_id=outcome.payment.pk, actor=boss, reason="Lançado no cliente errado")
    issued.refresh_from_db()
    payment = Payment.objects.get(pk=outcome.payment.pk)
    assert payment.status == svc.UNDONE and payment.undone_by == boss and payment.undo_reason
    # The boleto had not been cancelled at the gateway yet: the charge is open again, no cancel.
    assert issued.state == S.ISSUED and not issued.gateway_cancel_due
    event = issued.events.order_by("-id").first()
    assert event.actor == boss and "Lançado no cliente errado" in event.reason
    with pytest.raises(ApplicationError, match="already"):
        svc.payment_undo(payment_id=payment.pk, actor=boss, reason="de novo")


def test_undo_after_the_boleto_was_cancelled_leaves_the_charge_cancelled(issued, operator, gateway):
    outcome = record(issued, operator)
    svc.boleto_cancel_paid_elsewhere(charge_id=issued.pk)
    boss = factories.UserFactory(username="chefe", is_superuser=True)
    svc.payment_undo(payment_id=outcome.payment.pk, actor=boss, reason="Engano")
    issued.refresh_from_db()
    assert issued.state == S.CANCELLED  # nothing left to pay at the gateway: staff issue a second copy


def test_gateway_payments_cannot_be_undone(issued):
    payment_record(
        charge_id=issued.pk,
        gateway="juno",
        details=factories.PaymentDetailsFactory(payment_id="1", amount=Decimal("99.90")),
    )
    boss = factories.UserFactory(username="chefe", is_superuser=True)
    with pytest.raises(ApplicationError, match="recorded by staff"):
        svc.payment_undo(payment_id=Payment.objects.get().pk, actor=boss, reason="x")


# --- the admin ------------------------------------------------------------------------------------


def form_key(page: str) -> str:
    return re.search(r'name="form_key" value="([^"]+)"', page).group(1)


def test_operator_records_a_payment_from_the_charge_page(
    client, issued, operator, django_capture_on_commit_callbacks
):
    client.force_login(operator)
    page = client.get(f"/admin/billing/charge/{issued.pk}/change/").content.decode()
    url = f"/admin/billing/charge/{issued.pk}/do/record-payment/"
    assert f'href="{url}"' in page

    form = client.get(url).content.decode()
    assert "R$\u00a0102,06" in form  # amount due today: 5 days late, 99,90 × (1 + 2 % + 5 × 0,033 %)
    data = {
        "amount": "102,06",
        "paid_on": "2026-12-15",
        "method": "dinheiro",
        "note": "Balcão",
        "form_key": form_key(form),
        "post": "yes",
    }
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url, data)
        again = client.post(url, data)  # the browser's double submit
    assert response.status_code == 302 and again.status_code == 302
    assert Payment.objects.filter(charge=issued).count() == 1
    payment = Payment.objects.get(charge=issued)
    assert (
        payment.amount == Decimal("102.06") and payment.entered_by == operator and not payment.amount_mismatch
    )


def test_readers_cannot_record_and_do_not_see_the_button(client, issued):
    reader = staff_user("leitor", groups=("Billing readers",))
    client.force_login(reader)
    page = client.get(f"/admin/billing/charge/{issued.pk}/change/").content.decode()
    assert "record-payment" not in page
    url = f"/admin/billing/charge/{issued.pk}/do/record-payment/"
    assert client.get(url).status_code == 403
    assert (
        client.post(
            url,
            {
                "amount": "1",
                "paid_on": "2026-12-15",
                "method": "pix",
                "form_key": uuid.uuid4().hex,
                "post": "yes",
            },
        ).status_code
        == 403
    )
    assert not Payment.objects.exists()


def test_bulk_action_opens_the_form_for_one_charge(client, issued, operator):
    client.force_login(operator)
    response = client.post(
        "/admin/billing/charge/", {"action": "record_payment", "_selected_action": [issued.pk]}
    )
    assert response.status_code == 302 and response["Location"].endswith(f"/{issued.pk}/do/record-payment/")
    other = factories.ChargeFactory(state=S.ISSUED)
    response = client.post(
        "/admin/billing/charge/",
        {"action": "record_payment", "_selected_action": [issued.pk, other.pk]},
        follow=True,
    )
    assert pt("Select one charge to record a payment for.") in response.content.decode()


def test_undo_page_is_for_superusers_only(client, issued, operator):
    payment = record(issued, operator).payment
    url = f"/admin/billing/payment/{payment.pk}/undo/"
    client.force_login(operator)
    assert client.get(url).status_code == 403
    boss = factories.UserFactory(username="chefe", is_superuser=True)
    client.force_login(boss)
    assert "undo-payment-link" in client.get(f"/admin/billing/payment/{payment.pk}/change/").content.decode()
    response = client.post(url, {"reason": "Cliente errado"})
    assert response.status_code == 302
    issued.refresh_from_db()
    assert issued.state == S.ISSUED
    assert ChargeEvent.objects.filter(charge=issued, reason__contains="Cliente errado").exists()
