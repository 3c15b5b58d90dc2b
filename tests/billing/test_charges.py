"""The charge lifecycle: every legal move, the illegal ones, and no duplicate issue ever."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils.translation import gettext

from billing.models import Attention, CarneEvent, CarneState, Charge, ChargeEvent, ChargeState
from billing.selectors.attention import charges_needing_attention
from billing.services import charges as svc
from billing.services.transitions import ALLOWED, IllegalTransition, transition
from core import queue
from core.dates import today
from core.errors import ApplicationError
from gateways.base import GatewayRejected, GatewayUnavailable, OperationUnsupported
from tests.billing.fakes import FakeGateway
from tests.factories import ChargeFactory, UserFactory

S = ChargeState
pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway(monkeypatch):
    fake = FakeGateway()
    monkeypatch.setattr(svc, "gateway_for", lambda account, charge_id=None: fake)
    return fake


def make_charge(customer, **kw):
    return svc.charge_create(
        customer=customer,
        amount=Decimal("99.90"),
        due_date=dt.date(2026, 12, 10),
        description="Internet [MES]/[ANO]",
        enqueue=False,
        **kw,
    )


@pytest.mark.parametrize(
    "from_state,to_state",
    [(f, t) for f in S.values for t in S.values if t in ALLOWED[f]],
)
def test_every_legal_transition_records_history(customer, from_state, to_state):
    charge = ChargeFactory(customer=customer, state=from_state)
    transition(charge, to_state, actor_label="test", reason="why")
    charge.refresh_from_db()
    assert charge.state == to_state
    event = ChargeEvent.objects.get(charge=charge)
    assert (event.from_state, event.to_state, event.reason) == (from_state, to_state, "why")


@pytest.mark.parametrize(
    "from_state,to_state",
    [(f, t) for f in S.values for t in S.values if t not in ALLOWED[f]],
)
def test_every_illegal_transition_is_refused(customer, from_state, to_state):
    charge = ChargeFactory(customer=customer, state=from_state)
    with pytest.raises(IllegalTransition) as exc:
        transition(charge, to_state)
    assert charge.reference in exc.value.message
    charge.refresh_from_db()
    assert charge.state == from_state
    assert not ChargeEvent.objects.filter(charge=charge).exists()


def test_create_validates_amount_and_date(customer):
    with pytest.raises(ApplicationError):
        svc.charge_create(
            customer=customer,
            amount=Decimal("0"),
            due_date=dt.date(2026, 12, 1),
            description="x",
            enqueue=False,
        )
    with pytest.raises(ApplicationError):
        svc.charge_create(
            customer=customer,
            amount=Decimal("10"),
            due_date=dt.date(2020, 1, 1),
            description="x",
            enqueue=False,
        )


def test_create_enqueues_issue_after_commit(customer, django_capture_on_commit_callbacks, sent_tasks):
    with django_capture_on_commit_callbacks(execute=True):
        charge = svc.charge_create(
            customer=customer, amount=Decimal("10"), due_date=dt.date(2026, 12, 1), description="x"
        )
    assert sent_tasks == [(queue.ISSUE_CHARGE, [charge.pk], None)]
    assert len(charge.reference) <= 50


def test_what_the_gateway_said_besides_the_charge_lands_in_its_history(customer, gateway):
    gateway.note = "Mycontas test credentials: the request was validated but nothing was registered."
    charge = svc.charge_issue(charge_id=make_charge(customer).pk)
    event = ChargeEvent.objects.filter(charge=charge).latest("id")
    assert event.to_state == S.ISSUED and gateway.note in event.reason


def test_issue_records_what_the_gateway_returned(customer, gateway):
    charge = make_charge(customer)
    charge = svc.charge_issue(charge_id=charge.pk)
    assert charge.state == S.ISSUED
    assert charge.gateway_code and charge.link.startswith("https://")
    assert charge.issue_attempts == 1
    assert list(charge.events.values_list("to_state", flat=True)) == [S.PENDING, S.ISSUING, S.ISSUED]


@pytest.mark.parametrize(
    "site",
    ["https://evil.example", "http://boletos.boletobancario.com", "https://boletobancario.com.evil.example"],
)
def test_links_off_the_gateways_own_https_domains_are_not_stored(customer, gateway, site):
    gateway.link_site = site
    carne = svc.carne_create(
        customer=customer,
        installments=2,
        amount=Decimal("99.90"),
        first_due_date=today() + dt.timedelta(days=10),
        description="Internet",
        enqueue=False,
    )
    first = carne.installment_charges.order_by("installment_number").first()
    svc.charge_issue(charge_id=first.pk)
    carne.refresh_from_db()
    assert carne.installment_link == ""
    for charge in carne.installment_charges.all():
        assert charge.state == S.ISSUED and charge.gateway_code  # the boleto itself is kept
        assert (charge.link, charge.checkout_url, charge.installment_link) == ("", "", "")
        refused = [r for r in charge.events.values_list("reason", flat=True) if site in r]
        assert len(refused) == 2  # its boleto page and the carnê's, each said once


def test_links_on_the_gateways_own_https_domains_are_stored(customer, gateway):
    charge = svc.charge_issue(charge_id=make_charge(customer).pk)
    assert charge.link == f"https://www.boletobancario.com/boletofacil/charge/{charge.gateway_code}"


def test_issue_twice_sends_once(customer, gateway):
    charge = make_charge(customer)
    svc.charge_issue(charge_id=charge.pk)
    svc.charge_issue(charge_id=charge.pk)
    assert gateway.issue_calls == 1


def test_rejection_marks_failed_with_message_and_retry_resends(customer, gateway):
    gateway.fail_next.append(GatewayRejected("Cobrança inválida"))
    charge = make_charge(customer)
    charge = svc.charge_issue(charge_id=charge.pk)
    assert charge.state == S.FAILED and charge.error_message == "Cobrança inválida"
    svc.charge_retry(charge=charge, enqueue=False)
    assert svc.charge_issue(charge_id=charge.pk).state == S.ISSUED


def test_connect_error_goes_back_to_pending(customer, gateway):
    gateway.fail_next.append(GatewayUnavailable("refused", maybe_sent=False))
    charge = make_charge(customer)
    with pytest.raises(GatewayUnavailable):
        svc.charge_issue(charge_id=charge.pk)
    charge.refresh_from_db()
    assert charge.state == S.PENDING


def test_lost_answer_makes_unknown_and_lookup_finds_it_without_resending(customer, gateway):
    gateway.create_then_fail = True
    gateway.fail_next.append(GatewayUnavailable("read timeout", maybe_sent=True))
    charge = make_charge(customer)
    with pytest.raises(GatewayUnavailable):
        svc.charge_issue(charge_id=charge.pk)
    charge.refresh_from_db()
    assert charge.state == S.UNKNOWN
    gateway.create_then_fail = False
    charge = svc.charge_issue(charge_id=charge.pk)  # looks up first
    assert charge.state == S.ISSUED
    assert gateway.issue_calls == 1
    assert charge.gateway_code == gateway.issued[charge.reference][0].code


def test_unknown_proved_absent_is_sent_again_once(customer, gateway):
    gateway.fail_next.append(GatewayUnavailable("reset", maybe_sent=True))
    charge = make_charge(customer)
    with pytest.raises(GatewayUnavailable):
        svc.charge_issue(charge_id=charge.pk)
    charge = svc.charge_issue(charge_id=charge.pk)
    assert charge.state == S.ISSUED
    assert gateway.issue_calls == 2
    assert len(gateway.issued[charge.reference]) == 1


def test_unknown_without_lookup_waits(customer, gateway):
    gateway.supports_lookup = False
    charge = ChargeFactory(customer=customer, state=S.UNKNOWN)
    assert svc.charge_issue(charge_id=charge.pk).state == S.UNKNOWN
    assert gateway.issue_calls == 0


def test_stale_issuing_becomes_unknown(customer):
    charge = ChargeFactory(customer=customer, state=S.ISSUING)
    Charge.objects.filter(pk=charge.pk).update(state_changed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert svc.charges_expire_issuing(older_than=dt.timedelta(minutes=5)) == 1
    charge.refresh_from_db()
    assert charge.state == S.UNKNOWN


def test_carne_is_one_request_and_each_installment_gets_its_code(customer, gateway):
    carne = svc.carne_create(
        customer=customer,
        installments=3,
        amount=Decimal("80.00"),
        first_due_date=dt.date(2027, 1, 31),
        description="Internet fibra",
        enqueue=False,
    )
    dues = list(carne.installment_charges.order_by("installment_number").values_list("due_date", flat=True))
    assert dues == [dt.date(2027, 1, 31), dt.date(2027, 2, 28), dt.date(2027, 3, 31)]
    first = carne.installment_charges.get(installment_number=1)
    svc.charge_issue(charge_id=first.pk)
    assert gateway.issue_calls == 1
    codes = set(carne.installment_charges.values_list("gateway_code", flat=True))
    assert len(codes) == 3 and "" not in codes
    assert set(carne.installment_charges.values_list("state", flat=True)) == {S.ISSUED}
    carne.refresh_from_db()
    assert carne.installment_link


def test_cancel_pending_is_immediate_and_issued_goes_through_gateway(customer, gateway):
    pending = make_charge(customer)
    assert svc.charge_request_cancel(charge=pending, enqueue=False).state == S.CANCELLED
    issued = svc.charge_issue(charge_id=make_charge(customer).pk)
    assert svc.charge_request_cancel(charge=issued, enqueue=False).state == S.CANCEL_REQUESTED
    assert svc.charge_cancel_at_gateway(charge_id=issued.pk).state == S.CANCELLED
    assert gateway.cancelled == [issued.gateway_code]
    # twice is harmless
    assert svc.charge_cancel_at_gateway(charge_id=issued.pk).state == S.CANCELLED
    assert gateway.cancelled == [issued.gateway_code]


def test_cancel_refused_by_gateway_needs_attention_and_is_never_silently_issued(
    customer, gateway, admin_user
):
    issued = svc.charge_issue(charge_id=make_charge(customer).pk)
    svc.charge_request_cancel(charge=issued, enqueue=False)
    gateway.fail_next.append(GatewayRejected("Cobrança inválida"))
    charge = svc.charge_cancel_at_gateway(charge_id=issued.pk)
    assert charge.state == S.CANCEL_REQUESTED
    assert (charge.attention, charge.error_message) == (Attention.CANCEL_REFUSED, "Cobrança inválida")
    assert charges_needing_attention().filter(pk=charge.pk).exists()
    assert "Cobrança inválida" in charge.events.order_by("-id").first().reason
    svc.charge_cancel_at_gateway(charge_id=charge.pk)  # a task or the sweep again: nothing is resent
    assert gateway.cancelled == []

    charge = svc.charge_retry_cancel(charge=charge, actor=admin_user, enqueue=False)  # fixed at the gateway
    charge = svc.charge_cancel_at_gateway(charge_id=charge.pk)
    assert (charge.state, charge.attention) == (S.CANCELLED, "")
    assert gateway.cancelled == [issued.gateway_code]


def test_staff_keep_a_charge_whose_cancel_the_gateway_refused(customer, gateway, admin_user):
    issued = svc.charge_issue(charge_id=make_charge(customer).pk)
    svc.charge_request_cancel(charge=issued, enqueue=False)
    gateway.fail_next.append(GatewayRejected("Cobrança já paga"))
    charge = svc.charge_cancel_at_gateway(charge_id=issued.pk)
    with pytest.raises(ApplicationError):
        svc.charge_withdraw_cancel(charge=charge, actor=admin_user, reason=" ")
    charge = svc.charge_withdraw_cancel(charge=charge, actor=admin_user, reason="Paid at the counter")
    assert (charge.state, charge.attention) == (S.ISSUED, "")
    assert charge.events.get(to_state=S.ISSUED, actor=admin_user).reason.endswith("Paid at the counter")


def test_cancel_unsupported_cancels_locally_with_notice(customer, gateway):
    issued = svc.charge_issue(charge_id=make_charge(customer).pk)
    svc.charge_request_cancel(charge=issued, enqueue=False)
    gateway.fail_next.append(OperationUnsupported("Cancel it in the Mycontas panel"))
    charge = svc.charge_cancel_at_gateway(charge_id=issued.pk)
    assert charge.state == S.CANCELLED and "Mycontas" in charge.error_message


def test_cancel_paid_charge_is_refused_and_payment_stays(customer):
    charge = ChargeFactory(customer=customer, state=S.PAID)
    with pytest.raises(ApplicationError):
        svc.charge_request_cancel(charge=charge, enqueue=False)
    charge.refresh_from_db()
    assert charge.state == S.PAID


def test_cancel_carne_cancels_each_open_installment(customer, gateway):
    carne = svc.carne_create(
        customer=customer,
        installments=3,
        amount=Decimal("80.00"),
        first_due_date=dt.date(2027, 1, 10),
        description="x",
        enqueue=False,
    )
    svc.charge_issue(charge_id=carne.installment_charges.first().pk)
    paid = carne.installment_charges.get(installment_number=1)
    transition(paid, S.PAID)
    changed = svc.carne_request_cancel(carne=carne, enqueue=False)
    assert len(changed) == 2
    states = dict(carne.installment_charges.values_list("installment_number", "state"))
    assert states == {1: S.PAID, 2: S.CANCEL_REQUESTED, 3: S.CANCEL_REQUESTED}


# --- the carnê's own state: history, cancelled by staff, finished when nothing is left ----------
def make_carne(customer, gateway, installments=3):
    carne = svc.carne_create(
        customer=customer,
        installments=installments,
        amount=Decimal("80.00"),
        first_due_date=dt.date(2027, 1, 10),
        description="x",
        enqueue=False,
    )
    svc.charge_issue(charge_id=carne.installment_charges.first().pk)
    return carne


def carne_events(carne):
    return list(
        CarneEvent.objects.filter(carne=carne).values_list("from_state", "to_state", "actor", "reason")
    )


def test_cancelling_a_carne_is_recorded_with_who_and_why(customer, gateway):
    carne = make_carne(customer, gateway)
    staff = UserFactory(username="ana")
    svc.carne_request_cancel(carne=carne, actor=staff, reason="moved away", enqueue=False)
    carne.refresh_from_db()
    assert carne.state == CarneState.CANCELLED
    assert carne_events(carne) == [(CarneState.OPEN, CarneState.CANCELLED, staff.pk, "moved away")]
    # Its installments are then cancelled at the gateway: the carnê stays cancelled, not finished.
    for charge in carne.installment_charges.all():
        svc.charge_cancel_at_gateway(charge_id=charge.pk)
    carne.refresh_from_db()
    assert carne.state == CarneState.CANCELLED and len(carne_events(carne)) == 1


def test_the_last_settled_installment_finishes_the_carne(customer, gateway):
    carne = make_carne(customer, gateway)
    first, second, third = carne.installment_charges.order_by("installment_number")
    transition(first, S.PAID, actor_label="notification")
    svc.charge_request_cancel(charge=second, enqueue=False)
    svc.charge_cancel_at_gateway(charge_id=second.pk)
    carne.refresh_from_db()
    assert carne.state == CarneState.OPEN and carne_events(carne) == []  # the third is still open
    transition(third, S.PAID, actor_label="notification")
    carne.refresh_from_db()
    assert carne.state == CarneState.FINISHED
    reason = gettext("Every installment is paid, refunded or cancelled.")  # the active language
    assert carne_events(carne) == [(CarneState.OPEN, CarneState.FINISHED, None, reason)]
    assert CarneEvent.objects.get(carne=carne).actor_label == "notification"


def test_a_finished_carne_stays_finished_when_staff_cancel_it(customer, gateway):
    carne = make_carne(customer, gateway, installments=1)
    transition(carne.installment_charges.get(), S.PAID)
    assert svc.carne_request_cancel(carne=carne, enqueue=False) == []
    carne.refresh_from_db()
    assert carne.state == CarneState.FINISHED
    assert [to for _from, to, _actor, _why in carne_events(carne)] == [CarneState.FINISHED]
