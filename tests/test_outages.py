"""With Redis down (cache and broker pointed at a closed port), every page people use answers
something they can read, and nothing committed turns into an error that invites a second submit."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from decimal import Decimal
from html import unescape
from unittest import mock

import pytest
from celery import current_app
from django.contrib.messages import get_messages
from django.core import signing
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from billing.forms import SUBMISSION_SALT
from billing.models import Carne, Charge, ChargeState
from billing.services import charges as charge_services
from core import queue
from core.dates import today
from tests import factories
from tests.test_secrets_in_admin import admin_pages, make_world

CLOSED_PORT = "redis://127.0.0.1:9/3"  # the discard port: nothing listens on loopback
CLOSED_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CLOSED_PORT}
}


@pytest.fixture
def redis_down(monkeypatch):
    """The Celery app's broker and Django's cache both at a closed port; restored afterwards."""
    app = current_app._get_current_object()
    before, eager = app.conf.broker_url, app.conf.task_always_eager
    app.conf.task_always_eager = False  # messages really go to the broker

    def reconnect(url: str) -> None:
        app.conf.broker_url = url
        app._pool = None  # the producers were made for the old broker
        app.amqp._producer_pool = None

    monkeypatch.setenv("CELERY_BROKER_URL", CLOSED_PORT)  # Celery reads it before its own setting
    reconnect(CLOSED_PORT)
    try:
        with override_settings(CACHES=CLOSED_CACHE):
            yield
    finally:
        reconnect(before)
        app.conf.task_always_eager = eager


def messages_of(response) -> list[str]:
    return [unescape(str(m)) for m in get_messages(response.wsgi_request)]


def charge_post(client, url: str) -> dict[str, str]:
    """What the browser sends: the form as the page rendered it, filled in."""
    form = client.get(url).context["form"]
    return {
        "submission": form["submission"].value(),
        "amount": "120,50",
        "due_date": (today() + dt.timedelta(days=10)).isoformat(),
        "description": "Internet [MES]/[ANO]",
    }


@pytest.mark.django_db(transaction=True)  # real commits: the hand-off to the broker happens on commit
def test_issue_charge_with_the_broker_down_commits_says_so_and_a_resubmit_issues_nothing(
    client, redis_down, caplog
):
    customer = factories.CustomerFactory(bank_account=factories.JunoAccountFactory())
    client.force_login(factories.UserFactory(username="root", is_superuser=True))
    url = reverse("admin:customers_customer_issue_charge", args=[customer.pk])
    data = charge_post(client, url)

    with caplog.at_level(logging.ERROR, logger="core.queue"):
        response = client.post(url, data)
    assert response.status_code == 302  # not a 500 after the commit
    charge = Charge.objects.get(customer=customer)
    assert charge.state == ChargeState.PENDING  # the sweep sends it once the broker is back
    [message] = messages_of(response)
    assert charge.reference in message
    assert "a fila de tarefas não pode ser alcançada" in message
    assert "Não emita de novo" in message
    assert any("queue unreachable" in r.getMessage() for r in caplog.records)

    again = client.post(url, data)  # the same page submitted again (back button, double click)
    assert again.status_code == 302
    assert Charge.objects.filter(customer=customer).count() == 1
    message = messages_of(again)[-1]  # after the first submit's, never read
    assert f"{charge.reference} foi emitido" in message and "nada novo foi emitido" in message


@pytest.mark.django_db(transaction=True)
def test_issue_carne_with_the_broker_down_commits_once(client, redis_down):
    customer = factories.CustomerFactory(bank_account=factories.JunoAccountFactory())
    client.force_login(factories.UserFactory(username="root", is_superuser=True))
    url = reverse("admin:customers_customer_issue_carne", args=[customer.pk])
    form = client.get(url).context["form"]
    data = {
        "submission": form["submission"].value(),
        "installments": "3",
        "first_due_date": (today() + dt.timedelta(days=5)).isoformat(),
        "amount": "99,90",
        "description": "Internet",
    }
    first = client.post(url, data)
    assert first.status_code == 302
    carne = Carne.objects.get(customer=customer)
    assert carne.installment_charges.count() == 3
    assert carne.reference in messages_of(first)[0]
    assert client.post(url, data).status_code == 302
    assert Carne.objects.count() == 1 and Charge.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_other_staff_actions_with_the_broker_down_say_the_work_waits(client, redis_down):
    charge = factories.ChargeFactory(state=ChargeState.ISSUED, gateway_code="123")
    client.force_login(factories.UserFactory(username="root", is_superuser=True))
    url = reverse("admin:billing_charge_changelist")
    response = client.post(
        url, {"action": "cancel_selected_charges", "_selected_action": [charge.pk], "post": "yes"}
    )
    assert response.status_code == 302
    charge.refresh_from_db()
    assert charge.state == ChargeState.CANCEL_REQUESTED
    assert any("fila de tarefas não pode ser alcançada" in m for m in messages_of(response))


@pytest.mark.django_db
def test_a_page_submitted_twice_issues_one_charge(client, sent_tasks):
    customer = factories.CustomerFactory(bank_account=factories.JunoAccountFactory())
    client.force_login(factories.UserFactory(username="root", is_superuser=True))
    url = reverse("admin:customers_customer_issue_charge", args=[customer.pk])
    data = charge_post(client, url)
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert Charge.objects.filter(customer=customer).count() == 1
    # A page opened again carries a new reference: a second charge for the month, as staff asked
    # (and said why: a second bill for a month already billed needs a reason).
    again = {**charge_post(client, url), "override_reason": "Second point of presence"}
    assert client.post(url, again).status_code == 302
    assert Charge.objects.filter(customer=customer).count() == 2


@pytest.mark.django_db
def test_an_edited_or_foreign_submission_is_refused_and_the_page_offers_a_fresh_one(client, sent_tasks):
    customer = factories.CustomerFactory(bank_account=factories.JunoAccountFactory())
    client.force_login(factories.UserFactory(username="root", is_superuser=True))
    url = reverse("admin:customers_customer_issue_charge", args=[customer.pk])
    data = charge_post(client, url)
    for bad in ("T-0123456789ABCDEF", signing.dumps("C-0123456789ABCDEF", salt=SUBMISSION_SALT)):
        response = client.post(url, {**data, "submission": bad})
        assert response.status_code == 200
        assert "Este formulário não é mais válido" in unescape(response.content.decode())
        fresh = response.context["form"]["submission"].value()
        assert fresh != bad and signing.loads(fresh, salt=SUBMISSION_SALT).startswith("T-")
    assert not Charge.objects.exists()


@pytest.mark.django_db
def test_portal_with_cache_and_broker_down_answers_a_readable_page(client, redis_down):
    customer = factories.CustomerFactory(bank_account=factories.JunoAccountFactory())
    response = client.get(reverse("portal:page", args=[customer.portal_token]))
    assert response.status_code == 503
    assert "Temporariamente indisponível" in unescape(response.content.decode())


@pytest.mark.django_db(transaction=True)
def test_after_a_commit_a_broker_error_is_reported_not_raised(redis_down):
    with queue.delivery_report() as undelivered:
        from django.db import transaction

        with transaction.atomic():
            queue.enqueue(queue.ISSUE_CHARGE, 1)
    assert undelivered == [queue.ISSUE_CHARGE]
    # Outside a transaction nothing was committed by the call: the caller gets the error.
    with pytest.raises(queue.BROKER_ERRORS):
        queue.enqueue(queue.ISSUE_CHARGE, 2)


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submits_of_one_page_issue_one_charge(sent_tasks):
    """Both pass the "already issued?" check together; the unique reference decides at the insert."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (set DATABASE_URL)")
    customer = factories.CustomerFactory(bank_account=factories.JunoAccountFactory())
    reference = charge_services.new_reference("T")
    start = threading.Barrier(2)
    outcomes: list[str] = []
    real_saved = charge_services._saved_with_claims

    def saved_after_both_checked(save, **kwargs):
        start.wait(timeout=10)  # both requests have checked and found nothing
        return real_saved(save, **kwargs)

    def submit() -> None:
        try:
            charge_services.charge_create(
                customer=customer,
                amount=Decimal("99.90"),
                due_date=today() + dt.timedelta(days=5),
                description="Internet",
                reference=reference,
            )
            outcomes.append("issued")
        except charge_services.AlreadyIssued as repeated:
            outcomes.append(f"already {repeated.existing.reference}")
        finally:
            connection.close()

    with mock.patch.object(charge_services, "_saved_with_claims", saved_after_both_checked):
        threads = [threading.Thread(target=submit) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert sorted(outcomes) == [f"already {reference}", "issued"]
    assert Charge.objects.filter(reference=reference).count() == 1


@pytest.mark.django_db
def test_every_page_answers_without_an_error_with_redis_down(client, redis_down):
    """Every admin page of every model and the API's documents, with the cache and the broker down."""
    make_world()
    client.force_login(factories.UserFactory(username="root", is_superuser=True))
    answers = {url: client.get(url).status_code for url in [*admin_pages(), "/api/schema/", "/api/docs/"]}
    assert [url for url, status in answers.items() if status >= 500] == []
    assert sum(status == 200 for status in answers.values()) > 100
