"""The second copy (segunda via): service, staff page, portal button."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import translation

from billing.models import Charge, ChargeState
from billing.services import charges as charge_services
from billing.services import second_copy as svc
from billing.services.billing_run import billing_run_generate
from billing.services.payments import payment_record
from core.errors import ApplicationError
from tests import factories
from tests.billing.fakes import FakeGateway
from tests.browser.helpers import pt, staff_user

S = ChargeState
TODAY = dt.date(2026, 12, 15)  # a Tuesday


pytestmark = pytest.mark.usefixtures("local_cache")


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(dt.datetime(2026, 12, 15, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def gateway(monkeypatch):
    fake = FakeGateway()
    monkeypatch.setattr(charge_services, "gateway_for", lambda account, charge_id=None: fake)
    return fake


@pytest.fixture
def overdue(db, provider):
    return factories.ChargeFactory(
        state=S.ISSUED,
        amount=Decimal("100.00"),
        due_date=dt.date(2026, 12, 5),  # 10 days late
        billing_month=dt.date(2026, 12, 1),
        month_claim=dt.date(2026, 12, 1),
        gateway_code="777",
        description="Internet [MES]/[ANO]",
    )


def copy_of(charge, **kwargs):
    values = {"charge_id": charge.pk, "today": TODAY, "provider": None}
    return svc.charge_second_copy(**(values | kwargs))


def test_second_copy_is_for_the_amount_due_today_and_due_in_three_days(
    overdue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        new = copy_of(overdue)
    overdue.refresh_from_db()
    # 2 % fine once + 10 × 0.033 % interest: 100.00 × 1.0233
    assert new.amount == Decimal("102.33")
    assert new.due_date == dt.date(2026, 12, 18)
    assert new.state == S.PENDING and new.replaces == overdue
    assert overdue.state == S.ISSUED  # untouched until the copy is issued
    assert len(callbacks) == 1  # the copy's issue task
    assert "T-" in new.description and overdue.reference in new.description


def test_provider_sets_the_days_and_a_weekend_moves_to_monday(overdue):
    provider = factories.ProviderFactory(second_copy_days=4)  # 19/12/2026 is a Saturday
    assert copy_of(overdue, provider=provider).due_date == dt.date(2026, 12, 21)


def test_the_month_is_still_billed_once(overdue):
    new = copy_of(overdue)
    overdue.refresh_from_db()
    # Both bill December; the claim on it (one per customer and month) moved to the copy.
    assert overdue.billing_month == new.billing_month == dt.date(2026, 12, 1)
    assert (overdue.month_claim, new.month_claim) == (None, dt.date(2026, 12, 1))
    assert Charge.objects.filter(customer=overdue.customer, month_claim=dt.date(2026, 12, 1)).count() == 1
    billing_run_generate(month=dt.date(2026, 12, 1))  # the monthly run does not bill it again
    assert Charge.objects.filter(customer=overdue.customer).count() == 2


def test_old_boleto_is_cancelled_only_after_the_copy_is_issued(overdue, gateway):
    new = copy_of(overdue)
    charge_services.charge_issue(charge_id=new.pk)
    new.refresh_from_db()
    overdue.refresh_from_db()
    assert new.state == S.ISSUED
    assert overdue.state == S.CANCEL_REQUESTED
    charge_services.charge_cancel_at_gateway(charge_id=overdue.pk)
    assert gateway.cancelled == ["777"]
    # Linked in both histories.
    assert overdue.events.filter(reason__contains=new.reference).count() >= 2
    assert new.events.filter(reason__contains=overdue.reference).exists()


def test_a_rejected_copy_leaves_the_old_boleto_payable(overdue, gateway):
    from gateways.base import GatewayRejected

    new = copy_of(overdue)
    gateway.fail_next.append(GatewayRejected("Valor inválido"))
    charge_services.charge_issue(charge_id=new.pk)
    overdue.refresh_from_db()
    assert Charge.objects.get(pk=new.pk).state == S.FAILED and overdue.state == S.ISSUED


def test_paying_the_old_boleto_withdraws_the_copy_and_gives_the_month_back(overdue):
    new = copy_of(overdue)
    payment_record(
        charge_id=overdue.pk,
        gateway="juno",
        details=factories.PaymentDetailsFactory(payment_id="55", amount=Decimal("102.33")),
    )
    new.refresh_from_db()
    overdue.refresh_from_db()
    assert overdue.state == S.PAID and new.state == S.CANCELLED
    assert (overdue.month_claim, new.month_claim) == (dt.date(2026, 12, 1), None)


def test_paying_the_old_boleto_while_the_copy_is_issued_cancels_the_copy(overdue, gateway):
    new = copy_of(overdue)
    charge_services.charge_issue(charge_id=new.pk)
    charge_services.charge_cancel_at_gateway(charge_id=overdue.pk)  # old: cancelled at the gateway
    payment_record(  # ...but the payment was already on its way: money is never hidden
        charge_id=overdue.pk,
        gateway="juno",
        details=factories.PaymentDetailsFactory(payment_id="56", amount=Decimal("102.33")),
    )
    new.refresh_from_db()
    overdue.refresh_from_db()
    assert new.state == S.CANCEL_REQUESTED
    assert (overdue.month_claim, new.month_claim) == (dt.date(2026, 12, 1), None)  # the paid one bills it


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"due_date": dt.date(2026, 12, 20)}, "not overdue"),
        ({"state": S.PAID}, "Only an open boleto"),
        ({"state": S.CANCELLED}, "Only an open boleto"),
    ],
)
def test_refused_with_the_reason(db, fields, message):
    charge = factories.ChargeFactory(**({"state": S.ISSUED, "due_date": dt.date(2026, 12, 5)} | fields))
    with translation.override("en"), pytest.raises(ApplicationError, match=message):
        copy_of(charge)


def test_no_third_copy_while_one_is_on_its_way_and_subscribers_get_one_a_day(overdue):
    new = copy_of(overdue)
    with translation.override("en"), pytest.raises(ApplicationError, match=new.reference):
        copy_of(overdue)
    Charge.objects.filter(pk=new.pk).update(state=S.FAILED)  # the copy failed: staff may try again
    copy_of(overdue)
    Charge.objects.filter(replaces=overdue).update(state=S.FAILED)
    with translation.override("en"), pytest.raises(ApplicationError, match="already requested today"):
        copy_of(overdue, by_subscriber=True)


# --- staff page -----------------------------------------------------------------------------------


def test_operator_issues_a_second_copy_from_the_charge_page(
    client, overdue, django_capture_on_commit_callbacks
):
    client.force_login(staff_user("operadora", groups=("Billing operators",)))
    page = client.get(f"/admin/billing/charge/{overdue.pk}/change/").content.decode()
    url = f"/admin/billing/charge/{overdue.pk}/do/second-copy/"
    assert f'href="{url}"' in page
    confirm = client.get(url).content.decode()
    assert "R$\u00a0102,33" in confirm and "18/12/2026" in confirm
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url, {"post": "yes"})
    assert len(callbacks) == 1  # the copy is sent to the gateway by a task
    new = Charge.objects.get(replaces=overdue)
    assert response.status_code == 302 and response["Location"].endswith(f"/{overdue.pk}/change/")
    page = client.get(f"/admin/billing/charge/{new.pk}/change/").content.decode()
    assert overdue.reference in page  # linked both ways on the charge pages
    assert new.reference in client.get(f"/admin/billing/charge/{overdue.pk}/change/").content.decode()


def test_readers_cannot_issue_a_second_copy(client, overdue):
    client.force_login(staff_user("leitor", groups=("Billing readers",)))
    assert (
        client.post(f"/admin/billing/charge/{overdue.pk}/do/second-copy/", {"post": "yes"}).status_code == 403
    )
    assert not Charge.objects.filter(replaces=overdue).exists()


# --- portal ---------------------------------------------------------------------------------------


def test_subscriber_gets_a_second_copy_from_the_portal_once_a_day(client, overdue):
    base = f"/portal/{overdue.customer.portal_token}/"
    page = client.get(base).content.decode()
    url = f"{base}boleto/{overdue.pk}/second-copy/"
    assert f'action="{url}"' in page

    response = client.post(url)
    assert response.status_code == 200
    new = Charge.objects.get(replaces=overdue)
    assert "R$\u00a0102,33" in response.content.decode() and "18/12/2026" in response.content.decode()
    assert new.events.filter(actor_label="portal").exists()
    page = response.content.decode()
    assert f'action="{url}"' not in page  # no second button while the copy is on its way

    again = client.post(url)
    assert again.status_code == 409
    assert pt(
        "A second copy (%(reference)s) was already issued for this boleto.", reference=new.reference
    ) in (again.content.decode())
    assert Charge.objects.filter(replaces=overdue).count() == 1


def test_portal_shows_the_copy_linked_to_the_old_boleto_and_hides_the_old_one(client, overdue, gateway):
    new = copy_of(overdue)
    charge_services.charge_issue(charge_id=new.pk)
    page = client.get(f"/portal/{overdue.customer.portal_token}/").content.decode()
    assert f'data-charge="{new.pk}"' in page and f'data-charge="{overdue.pk}"' not in page
    assert (
        pt(
            "Second copy of the boleto due %(due)s, with the fine and interest up to the day it was issued.",
            due="05/12/2026",
        )
        in page
    )


def test_portal_refuses_someone_elses_boleto_and_rate_limits(client, overdue, settings):
    stranger = factories.ChargeFactory(state=S.ISSUED, due_date=dt.date(2026, 12, 5))
    base = f"/portal/{overdue.customer.portal_token}/"
    assert client.post(f"{base}boleto/{stranger.pk}/second-copy/").status_code == 404
    assert client.get(f"{base}boleto/{overdue.pk}/second-copy/").status_code == 405
    settings.PORTAL_SECOND_COPY_LIMIT_PER_MINUTE = 1
    client.post(f"{base}boleto/{overdue.pk}/second-copy/")
    response = client.post(f"{base}boleto/{overdue.pk}/second-copy/")
    assert response.status_code == 429 and response["Retry-After"]
