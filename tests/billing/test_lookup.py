"""An ``unknown`` charge is sent again only when the gateway proves it absent (services level).

Against the strict Juno simulator (answers without ``reference``, as Boleto Fácil's SDK fixtures
show) and against the in-memory gateway for the cases the simulator cannot stage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils import translation

from billing.models import ChargeEvent, ChargeState
from billing.services import charges as svc
from billing.services.gateway_access import gateway_for
from core import queue
from core.errors import ApplicationError
from gateways.base import GatewayUnavailable, IssuedCharge
from tests import factories
from tests.billing.fakes import FakeGateway
from tests.billing.notifications_support import juno_sim  # noqa: F401 - fixture

S = ChargeState
pytestmark = pytest.mark.django_db
DUE = dt.date.today() + dt.timedelta(days=10)


@pytest.fixture(autouse=True)
def _english():
    """History reasons are asserted in the source language (pt-BR is the default)."""
    with translation.override("en"):
        yield


def new_charge(customer, amount=Decimal("99.90"), **kw):
    return svc.charge_create(
        customer=customer, amount=amount, due_date=DUE, description="Internet", enqueue=False, **kw
    )


def lose_the_answer(sim) -> None:
    """The next issue-charge is processed at the gateway and its answer never arrives."""
    sim.faults.drop_next = 1


# --- against the strict simulator -----------------------------------------------------------------
def test_a_lost_charge_is_found_by_its_fields_and_never_sent_twice(juno_sim, customer):  # noqa: F811
    factories.CustomerFactory(bank_account=customer.bank_account)  # a neighbour billed another amount
    other = new_charge(factories.CustomerFactory(bank_account=customer.bank_account), Decimal("120.00"))
    svc.charge_issue(charge_id=other.pk)
    charge = new_charge(customer)
    lose_the_answer(juno_sim)
    with pytest.raises(GatewayUnavailable):
        svc.charge_issue(charge_id=charge.pk)
    charge.refresh_from_db()
    assert charge.state == S.UNKNOWN

    charge = svc.charge_issue(charge_id=charge.pk)  # what the task's retry or the sweep does

    assert charge.state == S.ISSUED
    assert juno_sim.snapshot()["count"] == 2  # the other customer's and this one: nothing resent
    at_gateway = next(c for c in juno_sim.snapshot()["charges"] if c["reference"] == charge.reference)
    assert charge.gateway_code == str(at_gateway["code"])
    assert charge.link == at_gateway["link"] and len(charge.linha_digitavel) == 47
    assert "Found at the gateway" in charge.events.order_by("-at", "-id").first().reason


def test_an_ambiguous_look_up_keeps_it_unknown_with_candidates(juno_sim, customer):  # noqa: F811
    charge = new_charge(customer)
    # The same subscriber billed the same amount for the same day by hand, in the gateway's panel.
    request = svc._request_for([charge])
    gateway_for(charge.bank_account).issue(replace(request, reference="BY-HAND"))
    lose_the_answer(juno_sim)
    with pytest.raises(GatewayUnavailable):
        svc.charge_issue(charge_id=charge.pk)

    for _attempt in range(3):  # retries and hourly sweeps: still never resent, noted once
        charge = svc.charge_issue(charge_id=charge.pk)

    assert charge.state == S.UNKNOWN
    assert juno_sim.snapshot()["count"] == 2
    candidates = svc.lookup_candidates(charge)
    assert len(candidates) == 2 and {c["amount"] for c in candidates} == {"99.90"}
    notes = ChargeEvent.objects.filter(charge=charge, from_state=S.UNKNOWN, to_state=S.UNKNOWN)
    assert notes.count() == 1
    assert "not sent again" in notes.get().reason


# --- with the in-memory gateway -------------------------------------------------------------------
@pytest.fixture
def gateway(monkeypatch):
    fake = FakeGateway(lists_references=False)
    monkeypatch.setattr(svc, "gateway_for", lambda account, charge_id=None: fake)
    return fake


def unknown_charge(customer, gateway, *, created: bool):
    charge = new_charge(customer)
    gateway.create_then_fail = created
    gateway.fail_next = [GatewayUnavailable("read timeout", maybe_sent=True)]
    with pytest.raises(GatewayUnavailable):
        svc.charge_issue(charge_id=charge.pk)
    gateway.create_then_fail = False
    charge.refresh_from_db()
    assert charge.state == S.UNKNOWN
    return charge


def someone_elses(code: str, **fields) -> IssuedCharge:
    return IssuedCharge(code=code, reference="", due_date=DUE, **fields)


def test_absent_only_when_every_listed_charge_carries_a_reference(customer, gateway):
    charge = unknown_charge(customer, gateway, created=False)
    gateway.others = [someone_elses("777", amount=Decimal("10.00"))]
    assert svc.charge_issue(charge_id=charge.pk).state == S.UNKNOWN
    assert gateway.issue_calls == 1
    gateway.lists_references = True
    gateway.others = [IssuedCharge(code="777", reference="T-SOMEONE-ELSE", due_date=DUE)]
    charge = svc.charge_issue(charge_id=charge.pk)  # proved absent: sent again, once
    assert charge.state == S.ISSUED and gateway.issue_calls == 2
    assert "Proved absent" in charge.events.filter(to_state=S.PENDING).last().reason


def test_an_incomplete_listing_is_not_proof(customer, gateway):
    charge = unknown_charge(customer, gateway, created=False)
    gateway.lists_references, gateway.listing_complete = True, False
    assert svc.charge_issue(charge_id=charge.pk).state == S.UNKNOWN
    assert gateway.issue_calls == 1


def test_staff_adopt_a_candidate(customer, gateway, admin_user):
    charge = unknown_charge(customer, gateway, created=True)
    gateway.others = [
        someone_elses(
            "555", amount=Decimal("99.90"), link="https://www.boletobancario.com/boletofacil/charge/555"
        )
    ]
    charge = svc.charge_issue(charge_id=charge.pk)
    assert charge.state == S.UNKNOWN  # two charges match: ours and the twin
    ours = next(c for c in svc.lookup_candidates(charge) if c["code"] != "555")

    with pytest.raises(ApplicationError):
        svc.charge_adopt_candidate(charge=charge, code="not-a-candidate", actor=admin_user)
    charge = svc.charge_adopt_candidate(charge=charge, code=ours["code"], actor=admin_user)

    assert (charge.state, charge.gateway_code) == (S.ISSUED, ours["code"])
    assert charge.link == ours["link"]
    event = charge.events.order_by("-at", "-id").first()
    assert event.actor == admin_user and ours["code"] in event.reason
    assert gateway.issue_calls == 1
    with pytest.raises(ApplicationError):  # decided already: nothing left to adopt
        svc.charge_adopt_candidate(charge=charge, code=ours["code"], actor=admin_user)


def test_staff_confirm_absent_sends_again_with_the_reason_kept(
    customer, gateway, admin_user, django_capture_on_commit_callbacks, sent_tasks
):
    charge = unknown_charge(customer, gateway, created=False)
    gateway.others = [someone_elses("555", amount=Decimal("99.90"))]
    svc.charge_issue(charge_id=charge.pk)
    with pytest.raises(ApplicationError):
        svc.charge_confirm_absent(charge=charge, actor=admin_user, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        charge = svc.charge_confirm_absent(
            charge=charge, actor=admin_user, reason="Checked the Juno panel: 555 is another customer's"
        )
    assert charge.state == S.PENDING and sent_tasks == [(queue.ISSUE_CHARGE, [charge.pk], None)]
    event = charge.events.get(to_state=S.PENDING, actor=admin_user)
    assert "Checked the Juno panel" in event.reason
