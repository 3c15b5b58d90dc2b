"""The subscriber portal's service box and its "desbloqueio de confiança" button."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from billing.models import ChargeState, TrustUnblock
from billing.services import service_status
from customers.models import Customer, CustomerStatus, StatusCause
from tests import factories

S = ChargeState
SP = dt.timezone(dt.timedelta(hours=-3))
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def november_27(local_cache):
    with time_machine.travel(dt.datetime(2026, 11, 27, 20, 0, tzinfo=SP), tick=False):
        yield


@pytest.fixture(autouse=True)
def provider():
    return factories.ProviderFactory(trust_unblock_days=3)


@pytest.fixture
def blocked(juno_account):
    customer = factories.CustomerFactory(bank_account=juno_account)
    factories.ChargeFactory(customer=customer, due_date=dt.date(2026, 11, 5), state=S.ISSUED)
    service_status.overdue_pass()
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.BLOCKED
    return customer


def page_of(client, customer, **params):
    return client.get(reverse("portal:page", args=[customer.portal_token]), params).content.decode()


def test_a_blocked_subscriber_unblocks_on_trust_from_the_portal(client, blocked):
    page = page_of(client, blocked)
    assert "Seu serviço de internet está bloqueado" in page or "Your internet service is blocked" in page
    button = reverse("portal:trust_unblock", args=[blocked.portal_token])
    assert f'action="{button}"' in page
    response = client.post(button)
    assert response.status_code == 302
    assert response["Location"].endswith("?desbloqueio=ok#service")
    blocked.refresh_from_db()
    assert (blocked.status, blocked.status_cause) == (CustomerStatus.ACTIVE, StatusCause.TRUST)
    assert TrustUnblock.objects.get(customer=blocked).actor_label == "portal"
    after = page_of(client, blocked, desbloqueio="ok")
    assert "29/11/2026" in after and f'action="{button}"' not in after


def test_a_second_request_in_the_cycle_is_refused_with_the_reason_on_the_page(client, blocked):
    button = reverse("portal:trust_unblock", args=[blocked.portal_token])
    client.post(button)
    Customer.objects.filter(pk=blocked.pk).update(
        status=CustomerStatus.BLOCKED, status_cause=StatusCause.OVERDUE
    )
    page = page_of(client, blocked)
    assert f'action="{button}"' not in page
    assert "27/11/2026" in page  # the day the cycle's trust unblock was used
    response = client.post(button)
    assert response["Location"].endswith("?desbloqueio=already_used#service")
    refused = page_of(client, blocked, desbloqueio="already_used")
    assert 'class="notice refused" role="alert"' in refused and "27/11/2026" in refused
    assert TrustUnblock.objects.count() == 1


def test_a_staff_block_offers_no_button(client, juno_account):
    customer = factories.CustomerFactory(
        bank_account=juno_account, status=CustomerStatus.BLOCKED, status_cause=StatusCause.STAFF
    )
    page = page_of(client, customer)
    assert 'id="service"' in page and "trust-unblock" not in page
    client.post(reverse("portal:trust_unblock", args=[customer.portal_token]))
    assert not TrustUnblock.objects.exists()


def test_an_active_subscriber_sees_no_service_box(client, juno_account):
    customer = factories.CustomerFactory(bank_account=juno_account)
    assert 'id="service"' not in page_of(client, customer)


def test_the_button_needs_a_known_token_and_a_post(client, blocked):
    assert client.post(reverse("portal:trust_unblock", args=["x" * 43])).status_code == 404
    assert client.get(reverse("portal:trust_unblock", args=[blocked.portal_token])).status_code == 405
