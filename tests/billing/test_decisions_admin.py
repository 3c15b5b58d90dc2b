"""The charge's page offers staff the decisions no process can take: each with a confirmation page,
each recorded with who took it (charge history and the admin's log)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse

from billing.models import Attention, ChargeState
from billing.services import charges as svc
from gateways.base import GatewayRejected, GatewayUnavailable, IssuedCharge
from tests import factories
from tests.billing.fakes import FakeGateway

S = ChargeState
pytestmark = pytest.mark.django_db
DUE = dt.date.today() + dt.timedelta(days=10)


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def gateway(monkeypatch):
    fake = FakeGateway(lists_references=False)
    monkeypatch.setattr(svc, "gateway_for", lambda account, charge_id=None: fake)
    return fake


@pytest.fixture
def queued(monkeypatch):
    from core import queue

    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(queue, "enqueue", lambda name, pk, countdown=None: sent.append((name, pk)))
    return sent


@pytest.fixture
def operator(client):
    user = factories.UserFactory(username="operator")
    user.groups.add(Group.objects.get(name="Billing operators"))
    client.force_login(user)
    return user


@pytest.fixture
def undecided(customer, gateway):
    """An unknown charge whose look-up found two charges that could be it."""
    charge = svc.charge_create(
        customer=customer, amount=Decimal("99.90"), due_date=DUE, description="Internet", enqueue=False
    )
    gateway.create_then_fail = True
    gateway.fail_next = [GatewayUnavailable("read timeout", maybe_sent=True)]
    with pytest.raises(GatewayUnavailable):
        svc.charge_issue(charge_id=charge.pk)
    gateway.create_then_fail = False
    gateway.others = [IssuedCharge(code="555", due_date=DUE, amount=Decimal("99.90"))]
    charge = svc.charge_issue(charge_id=charge.pk)
    assert charge.state == S.UNKNOWN
    return charge


def action_url(charge, name: str) -> str:
    return reverse("admin:billing_charge_object_action", args=[charge.pk, name])


def change_page(client, charge) -> str:
    return client.get(reverse("admin:billing_charge_change", args=[charge.pk])).content.decode()


def test_the_page_lists_the_candidates_with_both_decisions(client, operator, undecided):
    html = change_page(client, undecided)
    for candidate in svc.lookup_candidates(undecided):
        assert reverse("admin:billing_charge_adopt", args=[undecided.pk, candidate["code"]]) in html
    assert action_url(undecided, "confirm-absent") in html
    assert "This one is ours" in html and "Confirmed absent: send again" in html


def test_this_one_is_ours_asks_first_then_adopts_and_audits(client, operator, undecided, gateway):
    ours = next(c for c in svc.lookup_candidates(undecided) if c["code"] != "555")
    url = reverse("admin:billing_charge_adopt", args=[undecided.pk, ours["code"]])
    page = client.get(url)
    assert page.status_code == 200 and "Yes, this one is ours" in page.content.decode()
    undecided.refresh_from_db()
    assert undecided.state == S.UNKNOWN  # the page alone changes nothing

    response = client.post(url, {"post": "yes"})

    assert response.status_code == 302
    undecided.refresh_from_db()
    assert (undecided.state, undecided.gateway_code) == (S.ISSUED, ours["code"])
    assert undecided.events.get(to_state=S.ISSUED).actor == operator
    assert LogEntry.objects.filter(object_id=str(undecided.pk), user=operator).exists()
    assert gateway.issue_calls == 1


def test_confirmed_absent_needs_a_reason_then_sends_again(client, operator, undecided, queued):
    url = action_url(undecided, "confirm-absent")
    assert client.post(url, {"post": "yes", "reason": ""}).status_code == 200  # the page again
    undecided.refresh_from_db()
    assert undecided.state == S.UNKNOWN and queued == []

    client.post(url, {"post": "yes", "reason": "Checked Juno's panel: 555 is a neighbour's"})

    undecided.refresh_from_db()
    assert undecided.state == S.PENDING
    assert len(queued) == 1
    event = undecided.events.get(to_state=S.PENDING, actor=operator)
    assert "neighbour" in event.reason
    assert LogEntry.objects.filter(object_id=str(undecided.pk), user=operator).exists()


def test_a_refused_cancel_offers_resend_or_keep(client, operator, customer, gateway, queued):
    charge = svc.charge_issue(
        charge_id=svc.charge_create(
            customer=customer, amount=Decimal("50"), due_date=DUE, description="x", enqueue=False
        ).pk
    )
    svc.charge_request_cancel(charge=charge, enqueue=False)
    gateway.fail_next.append(GatewayRejected("Cobrança inválida"))
    svc.charge_cancel_at_gateway(charge_id=charge.pk)
    html = change_page(client, charge)
    assert "Cobrança inválida" in html
    assert action_url(charge, "retry-cancel") in html

    client.post(action_url(charge, "keep-issued"), {"post": "yes", "reason": "Paid"})

    charge.refresh_from_db()
    assert (charge.state, charge.attention) == (S.ISSUED, "")
    assert Attention.CANCEL_REFUSED not in change_page(client, charge)


def test_readers_cannot_decide(client, undecided):
    reader = factories.UserFactory(username="reader")
    reader.groups.add(Group.objects.get(name="Billing readers"))
    client.force_login(reader)
    url = action_url(undecided, "confirm-absent")
    assert client.post(url, {"post": "yes", "reason": "x"}).status_code == 403
