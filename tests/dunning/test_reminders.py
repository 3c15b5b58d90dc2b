"""The reminder schedule (régua de cobrança) under frozen time, against a real SMTP server."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from billing.models import ChargeState
from dunning import services
from dunning.models import Outcome, ReminderLog
from gateways.brazil import barcode, linha_digitavel
from tests import factories
from tests.browser.helpers import staff_user

S = ChargeState
TODAY = dt.date(2026, 12, 15)


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(dt.datetime(2026, 12, 15, 11, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def eager(settings):
    """Celery runs the send tasks in this thread once the transaction commits."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def provider(db):
    return factories.ProviderFactory(
        name="Fibra Rápida", phone="(11) 4002-8922", email="financeiro@fibra.example"
    )


def open_charge(due: dt.date, **kwargs):
    code = barcode(bank="341", due_date=due, amount=Decimal("99.90"), free_field="7" * 25)
    values = {
        "state": S.ISSUED,
        "amount": Decimal("99.90"),
        "due_date": due,
        "linha_digitavel": linha_digitavel(code),
        "barcode": code,
        "link": "https://boleto.example/1",
    }
    return factories.ChargeFactory(**(values | kwargs))


def run_day(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.reminders_queue(today=TODAY)


def test_each_default_step_reaches_the_subscriber_by_email(
    provider, smtp, eager, django_capture_on_commit_callbacks
):
    before = open_charge(TODAY + dt.timedelta(days=5))
    on_due = open_charge(TODAY)
    three_late = open_charge(TODAY - dt.timedelta(days=3))
    ten_late = open_charge(TODAY - dt.timedelta(days=10))
    not_a_step = open_charge(TODAY + dt.timedelta(days=2))

    summary = run_day(django_capture_on_commit_callbacks)

    assert summary.queued == 4 and summary.per_step == {-5: 1, 0: 1, 3: 1, 10: 1}
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted(
        c.customer.email for c in (before, on_due, three_late, ten_late)
    )
    assert not ReminderLog.objects.filter(charge=not_a_step).exists()
    by_to = {m.rcpt_tos[0]: m for m in smtp.messages}
    late = by_to[ten_late.customer.email]
    assert late.subject == "Fibra Rápida: boleto vencido em 05/12/2026"
    text = late.text
    # Amount due today: 99,90 × (1 + 2 % + 10 × 0,033 %) = 102,23
    assert "Valor a pagar hoje, com multa e juros: R$\u00a0102,23" in text
    assert f"/portal/{ten_late.customer.portal_token}/" in text and text.count("http://") >= 1
    formatted = ten_late.linha_digitavel
    assert f"{formatted[0:5]}.{formatted[5:10]}" in text
    assert "há 10 dias" in text
    assert "vence em 20/12/2026, daqui a 5 dias" in by_to[before.customer.email].text
    assert by_to[on_due.customer.email].subject == "Fibra Rápida: seu boleto vence hoje"
    log = ReminderLog.objects.get(charge=ten_late)
    assert (log.outcome, log.step_days, log.recipient) == (Outcome.SENT, 10, ten_late.customer.email)
    assert log.body == text.replace("\r\n", "\n") and log.sent_at is not None


def test_running_twice_sends_each_step_once(provider, smtp, eager, django_capture_on_commit_callbacks):
    open_charge(TODAY)
    run_day(django_capture_on_commit_callbacks)
    second = run_day(django_capture_on_commit_callbacks)
    assert second.queued == 0 and len(smtp.messages) == 1
    assert ReminderLog.objects.count() == 1


def test_two_workers_sending_the_same_batch_send_once(provider, smtp, django_capture_on_commit_callbacks):
    open_charge(TODAY)
    open_charge(TODAY - dt.timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=False):
        services.reminders_queue(today=TODAY)
    ids = list(ReminderLog.objects.values_list("pk", flat=True))
    first = services.reminders_send(log_ids=ids, today=TODAY)  # a redelivered message, another worker
    second = services.reminders_send(log_ids=ids, today=TODAY)
    assert first == {Outcome.SENT: 2} and second == {}
    assert len(smtp.messages) == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_schedule_at_once_send_each_step_once(smtp, settings):
    """Two threads queue and send at the same moment (PostgreSQL: real row-level concurrency)."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (set DATABASE_URL)")
    factories.ProviderFactory()
    charges = [open_charge(TODAY - dt.timedelta(days=3)) for _ in range(20)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        from django.db import connections

        try:
            barrier.wait()
            summary = services.reminders_queue(today=TODAY)
            ids = list(ReminderLog.objects.values_list("pk", flat=True))  # both try every row
            services.reminders_send(log_ids=ids, today=TODAY)
            assert summary.queued >= 0
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    from unittest import mock

    with mock.patch.object(services, "_enqueue_send", lambda batches: None):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(smtp.messages) == len(charges)
    assert ReminderLog.objects.filter(outcome=Outcome.SENT).count() == len(charges)


@pytest.mark.parametrize("state", [S.PAID, S.CANCELLED, S.CANCEL_REQUESTED, S.PENDING, S.FAILED, S.REFUNDED])
def test_nothing_is_sent_for_charges_that_are_not_open(
    provider, smtp, eager, django_capture_on_commit_callbacks, state
):
    open_charge(TODAY, state=state)
    assert run_day(django_capture_on_commit_callbacks).queued == 0
    assert smtp.messages == []


def test_a_charge_paid_after_it_was_queued_is_skipped_not_sent(
    provider, smtp, django_capture_on_commit_callbacks
):
    charge = open_charge(TODAY)
    with django_capture_on_commit_callbacks(execute=False):
        services.reminders_queue(today=TODAY)
    type(charge).objects.filter(pk=charge.pk).update(state=S.PAID)
    services.reminders_send(log_ids=ReminderLog.objects.values_list("pk", flat=True), today=TODAY)
    log = ReminderLog.objects.get()
    assert log.outcome == Outcome.SKIPPED and smtp.messages == []


def test_opted_out_customers_and_contra_apresentacao_boletos_get_nothing(
    provider, smtp, eager, django_capture_on_commit_callbacks
):
    opted_out = factories.CustomerFactory(reminders_opt_out=True)
    open_charge(TODAY, customer=opted_out)
    contra = factories.CustomerFactory(bank_account=factories.JunoAccountFactory(contra_apresentacao=True))
    open_charge(TODAY, customer=contra)
    assert run_day(django_capture_on_commit_callbacks).queued == 0
    assert smtp.messages == []


def test_a_missed_day_is_caught_up_but_only_the_latest_step_goes_out(
    provider, smtp, eager, django_capture_on_commit_callbacks
):
    provider.reminder_days = "0,1"
    provider.save()
    open_charge(TODAY - dt.timedelta(days=2))  # step 0 was two days ago, step 1 yesterday: no run either day
    summary = run_day(django_capture_on_commit_callbacks)
    assert summary.per_step == {0: 0, 1: 1}
    assert len(smtp.messages) == 1
    open_charge(TODAY - dt.timedelta(days=3 + services.CATCH_UP_DAYS))  # too old: not sent any more
    assert run_day(django_capture_on_commit_callbacks).queued == 0


def test_step_windows_never_overlap_nor_cross_the_due_date():
    assert services.step_windows((-5, 0, 3, 10)) == [(-5, -3), (0, 2), (3, 5), (10, 12)]
    assert services.step_windows((-1, 0, 1)) == [(-1, -1), (0, 0), (1, 3)]


def test_provider_steps_and_switch(provider, smtp, eager, django_capture_on_commit_callbacks):
    provider.reminder_days = "-1, 7"
    provider.save()
    open_charge(TODAY + dt.timedelta(days=1))
    open_charge(TODAY)  # 0 is not a step any more
    assert run_day(django_capture_on_commit_callbacks).per_step == {-1: 1, 7: 0}
    provider.reminders_enabled = False
    provider.save()
    open_charge(TODAY - dt.timedelta(days=7))
    assert run_day(django_capture_on_commit_callbacks).queued == 0


def test_webhook_channel_gets_the_same_reminder_as_json(
    provider, smtp, webhook, eager, django_capture_on_commit_callbacks
):
    provider.reminder_webhook_url = webhook.url
    provider.save()
    charge = open_charge(TODAY - dt.timedelta(days=3))
    nobody = factories.CustomerFactory(email="")
    open_charge(TODAY - dt.timedelta(days=3), customer=nobody)

    run_day(django_capture_on_commit_callbacks)

    assert len(smtp.messages) == 1  # the customer without e-mail gets the webhook only
    assert len(webhook.requests) == 2
    posted = {r["json"]["data"]["charge_reference"]: r["json"] for r in webhook.requests}
    body = posted[charge.reference]
    assert body["data"]["amount_due_today"] == "102.00" and body["data"]["step_days"] == 3
    assert body["phone"] == charge.customer.phone and "Valor a pagar hoje" in body["body"]
    assert ReminderLog.objects.filter(channel="webhook", outcome=Outcome.SENT).count() == 2


def test_a_failed_delivery_is_logged_with_its_reason_and_not_retried(
    provider, smtp, eager, django_capture_on_commit_callbacks
):
    smtp.refuse_with = "550 5.1.1 Mailbox unavailable"
    open_charge(TODAY)
    run_day(django_capture_on_commit_callbacks)
    log = ReminderLog.objects.get()
    assert log.outcome == Outcome.FAILED and "550" in log.detail
    smtp.refuse_with = None
    assert run_day(django_capture_on_commit_callbacks).queued == 0  # at most once per step


def test_queue_task_is_the_daily_entry_point(provider, smtp, eager, django_capture_on_commit_callbacks):
    from dunning.tasks import queue_reminders

    open_charge(TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_reminders.apply().get() == 1
    assert len(smtp.messages) == 1


# --- by hand, from the charge page ----------------------------------------------------------------


def test_staff_send_the_boleto_by_email_from_the_charge_page(client, provider, smtp):
    charge = open_charge(TODAY + dt.timedelta(days=10))
    client.force_login(staff_user("operadora", groups=("Billing operators",)))
    page = client.get(f"/admin/billing/charge/{charge.pk}/change/").content.decode()
    url = f"/admin/billing/charge/{charge.pk}/do/send-email/"
    assert f'href="{url}"' in page
    assert client.get(url).status_code == 200
    assert client.post(url, {"post": "yes"}).status_code == 302

    [message] = smtp.messages
    assert message.rcpt_tos == [charge.customer.email]
    assert "Boleto: https://boleto.example/1" in message.text
    log = ReminderLog.objects.get()
    assert log.step_days is None and log.actor.username == "operadora" and log.outcome == Outcome.SENT
    client.post(url, {"post": "yes"})
    assert len(smtp.messages) == 2  # by hand, as often as staff ask


def test_readers_cannot_send_and_paid_charges_have_nothing_to_send(client, provider, smtp):
    charge = open_charge(TODAY)
    client.force_login(staff_user("leitor", groups=("Billing readers",)))
    assert (
        client.post(f"/admin/billing/charge/{charge.pk}/do/send-email/", {"post": "yes"}).status_code == 403
    )
    paid = open_charge(TODAY, state=S.PAID)
    client.force_login(staff_user("operadora", groups=("Billing operators",)))
    client.post(f"/admin/billing/charge/{paid.pk}/do/send-email/", {"post": "yes"})
    assert smtp.messages == [] and not ReminderLog.objects.exists()


# --- the customer page ----------------------------------------------------------------------------


def test_customer_page_shows_the_reminders_and_the_opt_out(
    client, provider, smtp, eager, django_capture_on_commit_callbacks
):
    charge = open_charge(TODAY - dt.timedelta(days=3))
    run_day(django_capture_on_commit_callbacks)
    client.force_login(staff_user("leitor", groups=("Billing readers",)))
    page = client.get(f"/admin/customers/customer/{charge.customer_id}/change/").content.decode()
    assert 'id="reminders"' in page and charge.reference in page
    assert 'name="reminders_opt_out"' not in page or "disabled" in page  # readers see, never change
    assert client.get("/admin/dunning/reminderlog/").status_code == 200  # readers may read the log

    operator = staff_user("operadora", groups=("Billing operators",))
    client.force_login(operator)
    page = client.get(f"/admin/customers/customer/{charge.customer_id}/change/").content.decode()
    assert 'name="reminders_opt_out"' in page
