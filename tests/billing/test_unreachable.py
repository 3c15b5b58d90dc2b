"""Errors read as the wire means them: throttling is retried, never a failure; a gateway that cannot
be reached is retried and, after GATEWAY_UNREACHABLE_ATTEMPTS, shown to staff."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import responses

from billing.models import Attention, ChargeState
from billing.selectors.attention import charges_needing_attention
from billing.selectors.dashboard import billing_dashboard
from billing.services import charges as svc
from billing.tasks import countdown_for
from core.queue import BACKOFF_CAP_SECONDS
from gateways.base import GatewayUnavailable
from tests.billing.notifications_support import juno_down  # noqa: F401 - fixture

S = ChargeState
pytestmark = pytest.mark.django_db
JUNO = "https://juno.test/boletofacil/integration/api/v1/"


def new_charge(customer):
    return svc.charge_create(
        customer=customer,
        amount=Decimal("99.90"),
        due_date=dt.date.today() + dt.timedelta(days=10),
        description="Internet",
        enqueue=False,
    )


@responses.activate
def test_http_429_goes_back_to_pending_and_is_retried_never_failed(customer, settings):
    settings.JUNO_BASE_URL = settings.JUNO_SANDBOX_BASE_URL = JUNO
    responses.post(JUNO + "issue-charge", status=429, headers={"Retry-After": "120"}, json={})
    charge = new_charge(customer)
    with pytest.raises(GatewayUnavailable) as raised:  # the task retries it
        svc.charge_issue(charge_id=charge.pk)
    charge.refresh_from_db()
    assert (charge.state, charge.attention) == (S.PENDING, "")
    assert raised.value.throttled
    assert countdown_for(raised.value, retries=0) >= 120  # not sooner than the gateway asked


def test_a_retry_after_never_outlasts_the_backoff_cap():
    error = GatewayUnavailable("slow down", maybe_sent=False, throttled=True, retry_after=86400)
    assert countdown_for(error, retries=0) == BACKOFF_CAP_SECONDS


def test_an_unreachable_gateway_is_flagged_after_the_configured_attempts(customer, settings, juno_down):  # noqa: F811
    settings.GATEWAY_UNREACHABLE_ATTEMPTS = 3
    charge = new_charge(customer)
    for attempt in range(1, 4):
        with pytest.raises(GatewayUnavailable):
            svc.charge_issue(charge_id=charge.pk)
        charge.refresh_from_db()
        assert charge.state == S.PENDING  # never failed, never unknown: nothing left this machine
        assert charge.issue_attempts == attempt
        assert charge.attention == (Attention.UNREACHABLE if attempt >= 3 else "")


def test_flagged_charges_are_counted_until_they_move_on(customer, settings, juno_down):  # noqa: F811
    settings.GATEWAY_UNREACHABLE_ATTEMPTS = 1
    charge = new_charge(customer)
    with pytest.raises(GatewayUnavailable):
        svc.charge_issue(charge_id=charge.pk)
    assert charges_needing_attention().filter(pk=charge.pk).exists()
    (summary,) = [a for a in billing_dashboard().accounts if a.account == customer.bank_account]
    assert summary.attention == 1
    svc.charge_request_cancel(charge=charge, enqueue=False)  # staff give up on it
    charge.refresh_from_db()
    assert (charge.state, charge.attention) == (S.CANCELLED, "")
    assert not charges_needing_attention().filter(pk=charge.pk).exists()
