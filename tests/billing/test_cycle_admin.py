"""The collection cycle's admin screens: "Gerar cobranças", the customer's status and trust unblock,
and the outbound events' endpoints and delivery log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse

from billing.models import BillingRun, BillingRunState, Charge, ChargeState, TrustUnblock
from billing.services import service_status
from customers.models import Customer, CustomerStatus, StatusCause, StatusChange
from tests import factories
from tests.customers.test_admin import customer_form
from webhooks.models import Delivery, Endpoint, EventType
from webhooks.services import event_record, events_fan_out

S = ChargeState
SP = dt.timezone(dt.timedelta(hours=-3))
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def november_27():
    with time_machine.travel(dt.datetime(2026, 11, 27, 10, 0, tzinfo=SP), tick=False):
        yield


@pytest.fixture(autouse=True)
def provider():
    return factories.ProviderFactory()


@pytest.fixture
def queued(monkeypatch):
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr("core.queue.publish", lambda name, args, countdown: sent.append((name, tuple(args))))
    return sent


def staff(name: str, group: str):
    user = factories.UserFactory(username=name)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def operator():
    return staff("operator", "Billing operators")


@pytest.fixture
def reader():
    return staff("reader", "Billing readers")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Gerar cobranças -----------------------------------------------------------------------------
def test_the_preview_counts_totals_and_names_who_is_skipped_and_why_writing_nothing(
    client, operator, juno_account
):
    factories.CustomerFactory(bank_account=juno_account, plan_amount=Decimal("99.90"))
    factories.CustomerFactory(bank_account=juno_account, plan_amount=Decimal("120.00"))
    billed = factories.CustomerFactory(bank_account=juno_account, name="Already Billed")
    factories.ChargeFactory(customer=billed, billing_month=dt.date(2026, 12, 1))
    factories.CustomerFactory(bank_account=juno_account, plan_amount=0, name="Zero Plan")
    client.force_login(operator)
    url = reverse("admin:billing_billingrun_generate")
    assert client.get(url).status_code == 200
    page = client.post(url, {"month": "2026-12", "bank_account": ""})
    assert page.status_code == 200
    text = page.content.decode()
    assert "2 charges would be created, R$\xa0219,90 in total." in text
    assert "Already Billed" in text and "already billed this month" in text
    assert "Zero Plan" in text and "plan amount is zero" in text
    assert Charge.objects.count() == 1 and not BillingRun.objects.exists()


def test_the_run_is_a_recorded_task_with_progress_and_summary(
    client, operator, juno_account, queued, django_capture_on_commit_callbacks
):
    for _ in range(3):
        factories.CustomerFactory(bank_account=juno_account)
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:billing_billingrun_generate"),
            {"month": "2026-12", "bank_account": juno_account.pk, "run": "yes"},
        )
    run = BillingRun.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{run.pk}/progress/")
    assert (run.state, run.month, run.requested_by.username, run.customers_total) == (
        BillingRunState.QUEUED,
        dt.date(2026, 12, 1),
        "operator",
        3,
    )
    assert queued == [("billing.billing_run", (run.pk,))]
    waiting = client.get(response["Location"])
    assert b'http-equiv="refresh"' in waiting.content
    from billing.tasks import run_billing

    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert run_billing.apply(args=[run.pk]).get() == BillingRunState.DONE
    run.refresh_from_db()
    assert (run.created, run.amount, run.queued, run.failed, run.customers_done) == (
        3,
        Decimal("299.70"),
        3,
        0,
        3,
    )
    assert [name for name, _args in queued] == ["billing.issue_charge"] * 3
    done = client.get(response["Location"])
    assert b'http-equiv="refresh"' not in done.content
    assert b'class="run-created">3<' in done.content
    progress = client.get(reverse("admin:billing_billingrun_progress_json", args=[run.pk])).json()
    assert progress == {
        "state": "done",
        "percent": 100,
        "customers_done": 3,
        "customers_total": 3,
        "created": 3,
    }
    assert run_billing.apply(args=[run.pk]).get() == BillingRunState.DONE  # delivered twice: runs once
    assert Charge.objects.count() == 3


def test_a_past_month_is_refused_in_the_form(client, operator, juno_account):
    client.force_login(operator)
    page = client.post(reverse("admin:billing_billingrun_generate"), {"month": "2026-10", "bank_account": ""})
    assert "A past month cannot be billed." in page.content.decode()


def test_readers_may_look_at_runs_but_not_generate(client, reader):
    client.force_login(reader)
    assert client.get(reverse("admin:billing_billingrun_changelist")).status_code == 200
    assert client.get(reverse("admin:billing_billingrun_generate")).status_code == 403
    assert b"Gerar cobran" not in client.get(reverse("admin:billing_billingrun_changelist")).content


# --- the customer page: status, history, trust unblock -------------------------------------------
def test_a_status_changed_on_the_customer_page_is_recorded_with_who_and_why(client, operator, juno_account):
    customer = factories.CustomerFactory(bank_account=juno_account, document="52998224725")
    client.force_login(operator)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    refused = client.post(url, customer_form(juno_account, status="suspended"))
    assert refused.status_code == 200
    assert "status_reason" in refused.context["adminform"].form.errors
    response = client.post(
        url, customer_form(juno_account, status="suspended", status_reason="Pediu suspensão")
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.status, customer.status_cause) == (CustomerStatus.SUSPENDED, StatusCause.STAFF)
    change = StatusChange.objects.get(customer=customer)
    assert (change.to_status, change.reason, change.actor.username) == (
        "suspended",
        "Pediu suspensão",
        "operator",
    )
    page = client.get(url).content.decode()
    assert 'id="status-history"' in page and "Pediu suspensão" in page and "operator" in page


def test_editing_the_radius_username_resyncs_and_drops_the_old_one(
    client, operator, juno_account, queued, settings, django_capture_on_commit_callbacks
):
    settings.RADIUS_DATABASE_URL = "postgres://u:p@127.0.0.1:1/radius"
    customer = factories.CustomerFactory(
        bank_account=juno_account, document="52998224725", radius_username="old"
    )
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:customers_customer_change", args=[customer.pk]),
            customer_form(juno_account, radius_username="new", radius_group="plano-100m"),
        )
    assert response.status_code == 302
    assert ("radius.sync_customers", ([customer.pk], ["old"])) in queued


def test_a_radius_username_is_unique(client, operator, juno_account):
    factories.CustomerFactory(bank_account=juno_account, radius_username="joana")
    client.force_login(operator)
    page = client.post(
        reverse("admin:customers_customer_add"), customer_form(juno_account, radius_username="joana")
    )
    assert "Another customer already has this RADIUS username." in page.content.decode()


def _blocked_for_debt(account):
    customer = factories.CustomerFactory(bank_account=account)
    factories.ChargeFactory(customer=customer, due_date=dt.date(2026, 11, 5), state=S.ISSUED)
    service_status.overdue_pass()
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.BLOCKED
    return customer


def test_trust_unblock_from_the_customer_page_then_refused_with_the_reason(client, operator, juno_account):
    customer = _blocked_for_debt(juno_account)
    client.force_login(operator)
    change_url = reverse("admin:customers_customer_change", args=[customer.pk])
    url = reverse("admin:customers_customer_trust_unblock", args=[customer.pk])
    assert url in client.get(change_url).content.decode()
    confirm = client.get(url)
    assert "29/11/2026" in confirm.content.decode()  # 3 days counting today
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert messages_of(response) == ["Service unblocked on trust until 29/11/2026."]
    trust = TrustUnblock.objects.get(customer=customer)
    assert trust.actor.username == "operator" and trust.actor_label == "admin"
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE
    Customer.objects.filter(pk=customer.pk).update(
        status=CustomerStatus.BLOCKED, status_cause=StatusCause.OVERDUE
    )
    again = client.get(url).content.decode()
    assert "already used for this billing cycle, on 27/11/2026" in again
    client.post(url, {"post": "yes"})
    assert TrustUnblock.objects.count() == 1


def test_readers_cannot_trust_unblock(client, reader, juno_account):
    customer = _blocked_for_debt(juno_account)
    client.force_login(reader)
    assert (
        client.post(
            reverse("admin:customers_customer_trust_unblock", args=[customer.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


# --- outbound events -----------------------------------------------------------------------------
def test_the_endpoint_secret_is_typed_in_and_never_shown_back(client, operator):
    client.force_login(operator)
    add = reverse("admin:webhooks_endpoint_add")
    short = client.post(
        add, {"name": "NOC", "url": "https://noc.example/hook", "secret": "short", "active": "on"}
    )
    assert "Use at least 16 characters." in short.content.decode()
    secret = "very-secret-signing-key-1234"
    response = client.post(
        add,
        {
            "name": "NOC",
            "url": "https://noc.example/hook",
            "secret": secret,
            "event_types": ["customer.blocked"],
            "active": "on",
        },
    )
    assert response.status_code == 302
    endpoint = Endpoint.objects.get()
    assert endpoint.secret == secret and endpoint.event_types == ["customer.blocked"]
    change = reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])
    page = client.get(change).content.decode()
    assert secret not in page and secret[:-4] not in page
    assert secret not in client.get(reverse("admin:webhooks_endpoint_changelist")).content.decode()
    client.post(change, {"name": "NOC 2", "url": "https://noc.example/hook", "secret": "", "active": "on"})
    endpoint.refresh_from_db()
    assert endpoint.name == "NOC 2" and endpoint.secret == secret  # empty keeps the current one


def test_the_delivery_log_and_send_again(
    client, operator, reader, queued, django_capture_on_commit_callbacks
):
    endpoint = Endpoint.objects.create(name="NOC", url="http://127.0.0.1:9/hook", secret="x" * 20)
    event = event_record(type=EventType.CHARGE_PAID, data={"charge": {"reference": "T-1"}})
    events_fan_out(event_ids=[event.pk])
    delivery = Delivery.objects.get()
    client.force_login(reader)
    changelist = reverse("admin:webhooks_delivery_changelist")
    assert client.get(changelist).status_code == 200
    page = client.get(reverse("admin:webhooks_delivery_change", args=[delivery.pk])).content.decode()
    assert "T-1" in page and str(delivery.event.event_id) in page
    forbidden = client.post(changelist, {"action": "send_again", "_selected_action": [delivery.pk]})
    assert forbidden.status_code == 403
    client.force_login(operator)
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(changelist, {"action": "send_again", "_selected_action": [delivery.pk]})
    assert response.status_code == 302
    assert queued == [("webhooks.deliver", (delivery.pk,))]
    assert endpoint.pk
