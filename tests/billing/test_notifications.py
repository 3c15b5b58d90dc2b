"""Payment notifications: stored first, verified with the gateway, applied once.

Juno is the local simulator on loopback (or a closed port when the gateway must be down).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.db import DatabaseError, connection
from django.urls import reverse
from django.utils import timezone

from billing.models import ChargeState, GatewayLog, Notification, NotificationStatus, Payment
from billing.services.notifications import (
    Outcome,
    inbox,
    notification_process,
    notifications_retry_pending,
    outcome,
)
from tests import factories
from tests.billing import notifications_support as support
from tests.billing.notifications_support import (
    issued_charge,
    juno_form,
    juno_url,
    mycontas_url,
    post_form,
    sim_pay,
)

juno_sim = support.juno_sim
juno_down = support.juno_down
S = ChargeState
N = NotificationStatus
pytestmark = pytest.mark.django_db


# --- Juno: stored and answered at once, verified and applied in the task ---------------------------
def test_a_notification_is_answered_once_stored_and_the_task_pays_the_charge(
    client, juno_account, juno_sim, notification_queue
):
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge, amount="99.90")
    logs = GatewayLog.objects.count()
    response = post_form(client, juno_url(juno_account), juno_form(paid, charge))
    assert response.status_code == 200, response.content
    notification = Notification.objects.get()
    assert response.json() == {"status": "received", "notification": notification.pk, "detail": ""}
    # Answered before the gateway was asked: nothing applied yet, the row waits in the queue.
    assert GatewayLog.objects.count() == logs
    assert notification.status == N.RECEIVED and notification_queue.pending() == [notification.pk]
    assert notification_queue.wakes == 1
    assert notification.payment_token == paid["paymentToken"]
    charge.refresh_from_db()
    assert charge.state == S.ISSUED

    assert notification_queue.run() == [Outcome.PROCESSED]
    charge.refresh_from_db()
    assert charge.state == S.PAID
    payment = Payment.objects.get(charge=charge)
    assert payment.amount == Decimal("99.90")
    assert payment.fee == Decimal("1.49")
    assert payment.gateway_payment_id == str(paid["payment"]["id"])
    notification.refresh_from_db()
    assert notification.status == N.PROCESSED
    assert (notification.charge, notification.payment, notification.bank_account) == (
        charge,
        payment,
        juno_account,
    )


def test_the_raw_request_is_stored_without_cookies_or_credentials(client, juno_account, juno_sim):
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge)
    client.cookies["sessionid"] = "secret-session"
    post_form(
        client,
        juno_url(juno_account),
        juno_form(paid, charge),
        HTTP_AUTHORIZATION="Basic c2VjcmV0",
        HTTP_X_GATEWAY="juno",
        REMOTE_ADDR="10.1.2.3",
    )
    notification = Notification.objects.get()
    names = {name.lower() for name in notification.headers}
    assert "x-gateway" in names and "content-type" in names
    assert not names & {"cookie", "authorization"}
    assert "secret-session" not in str(notification.headers)
    assert notification.body.startswith("paymentToken=")
    assert notification.remote_addr == "10.1.2.3"
    assert notification.received_at is not None
    assert notification.path == juno_url(juno_account)


def test_mkauth_path_finds_the_account_through_the_charge(client, juno_account, juno_sim, notification_queue):
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge)
    response = post_form(client, "/retorno/juno_confirma.php", juno_form(paid, charge))
    assert response.status_code == 200, response.content
    assert notification_queue.run() == [Outcome.PROCESSED]
    charge.refresh_from_db()
    assert charge.state == S.PAID
    assert Notification.objects.get().bank_account == juno_account


def test_mkauth_path_answers_the_same_whether_or_not_the_charge_exists(
    client, juno_account, juno_sim, notification_queue
):
    charge = issued_charge(juno_account)
    logs = GatewayLog.objects.count()
    answers = []
    for reference in (charge.reference, "T-NOPE"):
        response = post_form(
            client, "/retorno/juno_confirma.php", {"paymentToken": "FORGED", "chargeReference": reference}
        )
        body = response.json()
        answers.append((response.status_code, body["status"], body["detail"], sorted(body)))
    assert answers[0] == answers[1] == (200, "received", "", ["detail", "notification", "status"])
    assert GatewayLog.objects.count() == logs  # neither post cost a gateway call before the answer

    assert notification_queue.run() == [Outcome.REJECTED, Outcome.NOT_FOUND]
    known, unknown = Notification.objects.order_by("pk")
    assert (known.bank_account, known.status) == (juno_account, N.REJECTED)
    assert (unknown.bank_account, unknown.status) == (None, N.REJECTED)
    assert GatewayLog.objects.count() == logs + 1  # the unknown charge never reached the gateway
    charge.refresh_from_db()
    assert charge.state == S.ISSUED


def test_mkauth_path_needs_a_charge_hint(client, juno_account, notification_queue):
    response = post_form(client, "/retorno/juno_confirma.php", {"paymentToken": "X", "chargeCode": "1"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"chargeReference"}
    assert Notification.objects.get().status == N.INVALID
    assert notification_queue.pending() == []


# --- malformed requests ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "form, field",
    [
        ({"chargeReference": "T-1", "chargeCode": "1"}, "paymentToken"),
        ({"paymentToken": "", "chargeReference": "T-1"}, "paymentToken"),
        ({"paymentToken": "   "}, "paymentToken"),
        ({"paymentToken": "A" * 129}, "paymentToken"),
        ({"paymentToken": "A", "chargeReference": "R" * 256}, "chargeReference"),
    ],
)
def test_missing_or_oversized_fields_are_400_and_kept_invalid(client, juno_account, form, field):
    response = post_form(client, juno_url(juno_account), form)
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"] and body["detail"]
    notification = Notification.objects.get()
    assert notification.status == N.INVALID and notification.error


def test_wrong_content_type_is_400(client, juno_account):
    response = client.post(
        juno_url(juno_account), data={"paymentToken": "A"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "content_type" in response.json()["errors"]
    assert Notification.objects.get().status == N.INVALID


def test_multipart_is_not_accepted(client, juno_account):
    response = client.post(juno_url(juno_account), data={"paymentToken": "A"})  # the test client's multipart
    assert response.status_code == 400
    assert "content_type" in response.json()["errors"]


def test_a_body_over_the_limit_is_400_and_only_the_limit_is_stored(client, juno_account, settings):
    settings.NOTIFICATION_MAX_BODY_BYTES = 100
    response = post_form(client, juno_url(juno_account), {"paymentToken": "A" * 120})
    assert response.status_code == 400
    assert "body" in response.json()["errors"]
    notification = Notification.objects.get()
    assert notification.status == N.INVALID and len(notification.body) == 100


def test_a_declared_length_over_the_limit_is_invalid(settings, juno_account):
    settings.NOTIFICATION_MAX_BODY_BYTES = 100
    request = inbox.InboundRequest(
        path="/x",
        headers={},
        body=b"paymentToken=A",
        content_type=support.FORM,
        charset="",
        declared_length=100000,
        remote_addr="127.0.0.1",
    )
    result = inbox.notification_receive(gateway="juno", public_id=juno_account.public_id, request=request)
    assert result.outcome == Outcome.INVALID and "body" in result.errors
    assert result.notification is not None and result.notification.status == N.INVALID


def test_a_body_with_nul_and_latin1_bytes_is_stored_and_refused(client, juno_account):
    response = client.generic(
        "POST",
        juno_url(juno_account),
        b"paymentToken=%00&x=\xe9\x00",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "paymentToken" in response.json()["errors"]
    notification = Notification.objects.get()
    assert "\x00" not in notification.body and "é" in notification.body


def test_a_nul_in_the_url_is_404_not_a_crash(client):
    response = post_form(client, "/api/notifications/juno/ab%00cd/", {"paymentToken": "A"})
    assert response.status_code == 404
    assert "\x00" not in Notification.objects.get().path


# --- unknown accounts --------------------------------------------------------------------------------
def test_unknown_account_is_404_and_kept_without_account(client, juno_account, notification_queue):
    url = reverse("notification", kwargs={"gateway": "juno", "public_id": "not-an-account"})
    response = post_form(client, url, {"paymentToken": "A"})
    assert response.status_code == 404
    notification = Notification.objects.get()
    assert notification.bank_account is None and notification.status == N.REJECTED
    assert notification_queue.pending() == []


def test_an_unknown_accounts_body_is_stored_truncated(client, settings):
    settings.NOTIFICATION_UNKNOWN_ACCOUNT_BODY_BYTES = 64
    url = reverse("notification", kwargs={"gateway": "juno", "public_id": "nobody"})
    response = post_form(client, url, {"paymentToken": "A" * 100, "x": "B" * 15000}, HTTP_X_PAD="C" * 5000)
    assert response.status_code == 404
    notification = Notification.objects.get()
    assert notification.body == ("paymentToken=" + "A" * 100)[:64]
    assert len(notification.headers["X-Pad"]) == inbox.UNKNOWN_ACCOUNT_HEADER_CHARS


def test_a_known_accounts_body_is_stored_whole(client, juno_account):
    post_form(client, juno_url(juno_account), {"paymentToken": "A", "x": "B" * 15000})
    assert len(Notification.objects.get().body) > 15000


def test_a_juno_url_with_a_mycontas_account_is_404(client, mycontas_account):
    response = post_form(client, juno_url(mycontas_account), {"paymentToken": "A"})
    assert response.status_code == 404


def test_an_unknown_gateway_name_is_404(client, juno_account):
    url = reverse("notification", kwargs={"gateway": "paypal", "public_id": juno_account.public_id})
    response = post_form(client, url, {"paymentToken": "A"})
    assert response.status_code == 404
    assert Notification.objects.get().gateway == "paypal"


# --- forged notifications: answered like any other, never applied -------------------------------------
def test_a_token_the_gateway_does_not_know_ends_rejected_and_changes_nothing(
    client, juno_account, juno_sim, notification_queue
):
    charge = issued_charge(juno_account)
    response = post_form(client, juno_url(juno_account), juno_form({"paymentToken": "FORGED"}, charge))
    assert response.status_code == 200 and response.json()["status"] == "received"
    assert notification_queue.run() == [Outcome.REJECTED]
    charge.refresh_from_db()
    assert charge.state == S.ISSUED
    assert not Payment.objects.exists()
    notification = Notification.objects.get()
    assert notification.status == N.REJECTED and notification.error


def test_a_reference_that_does_not_match_the_payment_changes_nothing(
    client, juno_account, juno_sim, notification_queue
):
    paid_charge = issued_charge(juno_account)
    target = issued_charge(juno_account)
    paid = sim_pay(juno_sim, paid_charge)
    # A real token of one charge, pointed at another charge.
    form = juno_form(paid, target)
    assert post_form(client, juno_url(juno_account), form).status_code == 200
    assert notification_queue.run() == [Outcome.REJECTED]
    for charge in (paid_charge, target):
        charge.refresh_from_db()
        assert charge.state == S.ISSUED
    assert not Payment.objects.exists()
    error = Notification.objects.get().error
    assert "does not match" in error or "não corresponde" in error  # English source or pt-BR catalogue


def test_a_code_that_does_not_match_the_payment_changes_nothing(
    client, juno_account, juno_sim, notification_queue
):
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge)
    post_form(client, juno_url(juno_account), juno_form(paid, charge, chargeCode="999999"))
    assert notification_queue.run() == [Outcome.REJECTED]
    charge.refresh_from_db()
    assert charge.state == S.ISSUED


def test_a_payment_of_another_accounts_charge_is_not_applied(
    client, juno_account, juno_sim, notification_queue
):
    other = factories.JunoAccountFactory()
    charge = issued_charge(other)
    paid = sim_pay(juno_sim, charge)
    post_form(client, juno_url(juno_account), juno_form(paid, charge))
    assert notification_queue.run() == [Outcome.FAILED]
    charge.refresh_from_db()
    assert charge.state == S.ISSUED
    assert Notification.objects.get().status == N.FAILED


def test_forged_posts_cost_no_gateway_call_before_the_answer(
    client, juno_account, juno_sim, notification_queue
):
    logs = GatewayLog.objects.count()
    for n in range(20):
        assert post_form(client, juno_url(juno_account), {"paymentToken": f"FORGED-{n}"}).status_code == 200
    assert GatewayLog.objects.count() == logs
    assert set(notification_queue.run()) == {Outcome.REJECTED}
    assert GatewayLog.objects.count() == logs + 20  # one fetch-payment-details each, in the task
    assert not Payment.objects.exists()


# --- duplicates and retries ---------------------------------------------------------------------------
def test_fifty_retries_give_one_payment_and_fifty_rows(client, juno_account, juno_sim, notification_queue):
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge)
    form = juno_form(paid, charge)
    statuses = {post_form(client, juno_url(juno_account), form).status_code for _ in range(50)}
    assert statuses == {200}
    assert set(notification_queue.run()) == {Outcome.PROCESSED}
    assert Payment.objects.count() == 1
    assert Notification.objects.count() == 50
    assert set(Notification.objects.values_list("status", flat=True)) == {N.PROCESSED}
    charge.refresh_from_db()
    assert charge.state == S.PAID
    assert charge.events.filter(to_state=S.PAID).count() == 1


def test_processing_one_row_twice_changes_nothing_more(client, juno_account, juno_sim, notification_queue):
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge)
    post_form(client, juno_url(juno_account), juno_form(paid, charge))
    notification_queue.run()
    notification = Notification.objects.get()
    again = notification_process(notification.pk)
    assert again.outcome == Outcome.PROCESSED
    assert Payment.objects.count() == 1
    assert Notification.objects.get().attempts == 2


def test_a_refund_after_payment_refunds_the_charge(client, juno_account, juno_sim, notification_queue):
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge)
    post_form(client, juno_url(juno_account), juno_form(paid, charge))
    notification_queue.run()
    juno_sim.pay({"payment_token": paid["paymentToken"], "status": "CUSTOMER_PAID_BACK", "notify": False})
    response = post_form(client, juno_url(juno_account), juno_form(paid, charge))
    assert response.status_code == 200
    notification_queue.run()
    charge.refresh_from_db()
    assert charge.state == S.REFUNDED
    assert Payment.objects.get().status == "CUSTOMER_PAID_BACK"


def test_an_awaiting_status_is_recorded_without_state_change(
    client, juno_account, juno_sim, notification_queue
):
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge, status="AWAITING_PROCESSING")
    post_form(client, juno_url(juno_account), juno_form(paid, charge))
    assert notification_queue.run() == [Outcome.PROCESSED]
    charge.refresh_from_db()
    assert charge.state == S.ISSUED
    assert Payment.objects.get().status == "AWAITING_PROCESSING"


def test_an_amount_mismatch_is_kept_and_flagged(client, juno_account, juno_sim, notification_queue):
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge, amount="10.00")
    post_form(client, juno_url(juno_account), juno_form(paid, charge))
    notification_queue.run()
    payment = Payment.objects.get()
    assert payment.amount == Decimal("10.00") and payment.amount_mismatch
    charge.refresh_from_db()
    assert charge.state == S.PAID


def test_payment_after_cancel_requested_is_paid_and_flagged(
    client, juno_account, juno_sim, notification_queue
):
    from billing.services.charges import charge_request_cancel

    charge = issued_charge(juno_account)
    charge_request_cancel(charge=charge, enqueue=False)
    paid = sim_pay(juno_sim, charge)
    post_form(client, juno_url(juno_account), juno_form(paid, charge))
    notification_queue.run()
    charge.refresh_from_db()
    assert charge.state == S.PAID and charge.paid_after_cancel
    from billing.selectors.notifications import admin_warnings

    assert any("after its cancel" in w or "após o cancelamento" in w for w in admin_warnings())


# --- queueing, the gateway or the broker unavailable ------------------------------------------------
def test_gateway_down_leaves_the_row_retrying_for_the_task(
    client, juno_account, juno_down, notification_queue
):
    charge = factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=juno_account), state=S.ISSUED, gateway_code="77"
    )
    response = post_form(client, juno_url(juno_account), {"paymentToken": "T", "chargeCode": "77"})
    assert response.status_code == 200
    assert notification_queue.run() == [Outcome.RETRYING]
    notification = Notification.objects.get()
    assert notification.status == N.RETRYING and notification.attempts == 1
    charge.refresh_from_db()
    assert charge.state == S.ISSUED


@pytest.fixture
def real_dispatcher(monkeypatch):
    """The intake's own wake-up (the autouse fixture replaces it), with no dispatch on its way."""
    from billing.services.notifications import dispatch, inbox

    monkeypatch.setattr(inbox, "wake_dispatcher", dispatch.wake_dispatcher)
    monkeypatch.setattr(dispatch, "_wake_runs_at", 0.0)
    return dispatch


@pytest.mark.django_db(transaction=True)
def test_broker_down_answers_503_with_retry_after_and_keeps_the_row_for_the_sweep(client, real_dispatcher):
    account = factories.JunoAccountFactory()
    from core import queue

    with mock.patch.object(queue, "publish", side_effect=ConnectionError("broker down")):
        response = post_form(client, juno_url(account), {"paymentToken": "T"})
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.json()["notification"] == Notification.objects.get().pk
    assert Notification.objects.get().status == N.RECEIVED  # the sweep takes it once stale


@pytest.mark.django_db(transaction=True)
def test_a_dispatch_is_sent_after_the_rows_commit_and_runs_after_it(client, real_dispatcher, monkeypatch):
    from django.db import transaction

    from core import queue

    account = factories.JunoAccountFactory()
    sent = []

    def publish(name, args, countdown):
        committed = not transaction.get_connection().in_atomic_block
        sent.append((name, countdown, Notification.objects.filter(status=N.RECEIVED).count(), committed))

    monkeypatch.setattr(queue, "publish", publish)
    for n in range(3):  # a burst: one dispatch for all three
        assert post_form(client, juno_url(account), {"paymentToken": f"T{n}"}).status_code == 200
    assert sent == [(queue.DISPATCH_NOTIFICATIONS, real_dispatcher.WAKE_DELAY, 1, True)]


def test_database_down_answers_503(client, juno_account):
    def down(execute, sql, params, many, context):
        if sql.startswith("INSERT"):
            raise DatabaseError("down")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(down):
        response = post_form(client, juno_url(juno_account), {"paymentToken": "T"})
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["notification"] is None


def test_the_retry_task_processes_once_the_gateway_is_back(
    client, juno_account, juno_down, settings, juno_sim, notification_queue
):
    # juno_sim was set up after juno_down: point the URLs at the closed port again, then back.
    sim_url = settings.JUNO_SANDBOX_BASE_URL
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge)
    settings.JUNO_BASE_URL = settings.JUNO_SANDBOX_BASE_URL = juno_down
    response = post_form(client, juno_url(juno_account), juno_form(paid, charge))
    assert response.status_code == 200
    assert notification_queue.run() == [Outcome.RETRYING]
    notification = Notification.objects.get()
    assert notification.status == N.RETRYING
    settings.JUNO_BASE_URL = settings.JUNO_SANDBOX_BASE_URL = sim_url

    from billing.notification_tasks import process_notification

    assert process_notification.apply(args=[notification.pk]).get() == Outcome.PROCESSED
    charge.refresh_from_db()
    assert charge.state == S.PAID


def test_the_retry_task_retries_while_the_gateway_is_down(juno_account, juno_down):
    from celery.exceptions import Retry

    from billing.notification_tasks import process_notification

    notification = Notification.objects.create(
        gateway="juno", bank_account=juno_account, path="/x", body="paymentToken=T", status=N.RETRYING
    )
    with mock.patch.object(process_notification, "retry", side_effect=Retry()) as retry, pytest.raises(Retry):
        process_notification.run(notification.pk)
    retry.assert_called_once()
    assert 1 <= retry.call_args.kwargs["countdown"] <= 30  # the first retry: up to 30 s


def test_notification_retries_wait_up_to_15_minutes_below_the_visibility_timeout(settings):
    from billing import notification_tasks as tasks
    from core import queue

    countdowns = [
        queue.backoff(r, base=tasks.RETRY_BASE_SECONDS, cap=tasks.RETRY_CAP_SECONDS)
        for r in range(tasks.MAX_RETRIES + 1)
        for _ in range(200)
    ]
    assert queue.BACKOFF_CAP_SECONDS < max(countdowns) <= tasks.RETRY_CAP_SECONDS == 900
    assert tasks.RETRY_CAP_SECONDS < settings.CELERY_BROKER_VISIBILITY_TIMEOUT


def test_the_sweep_retries_pending_and_stale_rows(juno_account, juno_sim):
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge)
    body = f"paymentToken={paid['paymentToken']}&chargeCode={charge.gateway_code}"
    waiting = Notification.objects.create(
        gateway="juno", bank_account=juno_account, path="/x", body=body, status=N.RETRYING
    )
    stale = Notification.objects.create(gateway="juno", bank_account=juno_account, path="/x", body=body)
    Notification.objects.filter(pk=stale.pk).update(received_at=timezone.now() - dt.timedelta(hours=1))
    fresh = Notification.objects.create(gateway="juno", bank_account=juno_account, path="/x", body=body)
    exhausted = Notification.objects.create(
        gateway="juno", bank_account=juno_account, path="/x", body=body, status=N.RETRYING, attempts=99
    )
    assert notifications_retry_pending() == 2
    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert statuses[waiting.pk] == statuses[stale.pk] == N.PROCESSED
    assert statuses[fresh.pk] == N.RECEIVED and statuses[exhausted.pk] == N.RETRYING
    assert Payment.objects.count() == 1


def test_retries_give_up_after_max_attempts(juno_account, juno_down):
    notification = Notification.objects.create(
        gateway="juno",
        bank_account=juno_account,
        path="/x",
        body="paymentToken=T",
        status=N.RETRYING,
        attempts=outcome.MAX_ATTEMPTS - 1,
    )
    result = notification_process(notification.pk)
    assert result.outcome == Outcome.FAILED
    assert Notification.objects.get().status == N.FAILED


# --- Mycontas -----------------------------------------------------------------------------------------
def mycontas_form(charge, **overrides):
    return {
        "txtCod_cliente": "1234567890ABCDEFGHIJ",
        "txtCod_senha": "teste123",
        "txtReferencia": charge.reference,
        "cobrancaID": "556677",
        "txtUrl": "https://www.mycontas.com.br/boleto/556677",
        "txtValor": "9990",
        **overrides,
    }


@pytest.fixture
def mycontas_charge(mycontas_account):
    return factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=mycontas_account), state=S.ISSUING
    )


def test_mycontas_return_issues_the_charge(client, mycontas_account, mycontas_charge, notification_queue):
    response = post_form(client, mycontas_url(mycontas_account), mycontas_form(mycontas_charge))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "received"
    assert notification_queue.run() == [Outcome.PROCESSED]
    mycontas_charge.refresh_from_db()
    assert mycontas_charge.state == S.ISSUED
    assert mycontas_charge.gateway_code == "556677"
    assert mycontas_charge.link == "https://www.mycontas.com.br/boleto/556677"


def test_mycontas_return_with_txtnumero_and_twice_is_idempotent(
    client, mycontas_account, mycontas_charge, notification_queue
):
    form = mycontas_form(mycontas_charge, cobrancaID="", txtNumero="42")
    del form["cobrancaID"]
    for _ in range(2):
        assert post_form(client, mycontas_url(mycontas_account), form).status_code == 200
    assert notification_queue.run() == [Outcome.PROCESSED] * 2
    mycontas_charge.refresh_from_db()
    assert mycontas_charge.state == S.ISSUED and mycontas_charge.gateway_code == "42"
    assert mycontas_charge.events.filter(to_state=S.ISSUED).count() == 1


def test_mycontas_return_resolves_an_unknown_charge(
    client, mycontas_account, mycontas_charge, notification_queue
):
    type(mycontas_charge).objects.filter(pk=mycontas_charge.pk).update(state=S.UNKNOWN)
    assert (
        post_form(client, mycontas_url(mycontas_account), mycontas_form(mycontas_charge)).status_code == 200
    )
    notification_queue.run()
    mycontas_charge.refresh_from_db()
    assert mycontas_charge.state == S.ISSUED


@pytest.mark.parametrize(
    "field, value", [("txtCod_senha", "wrong"), ("txtCod_cliente", "ABCDEFGHIJ1234567890")]
)
def test_mycontas_wrong_credentials_are_403_at_once_and_change_nothing(
    client, mycontas_account, mycontas_charge, field, value, notification_queue
):
    response = post_form(
        client, mycontas_url(mycontas_account), mycontas_form(mycontas_charge, **{field: value})
    )
    assert response.status_code == 403
    assert notification_queue.pending() == []
    mycontas_charge.refresh_from_db()
    assert mycontas_charge.state == S.ISSUING and mycontas_charge.gateway_code == ""
    assert Notification.objects.get().status == N.REJECTED


def test_mycontas_password_is_never_stored(client, mycontas_account, mycontas_charge):
    post_form(client, mycontas_url(mycontas_account), mycontas_form(mycontas_charge))
    post_form(client, mycontas_url(mycontas_account), mycontas_form(mycontas_charge, txtCod_senha="guess-1"))
    for notification in Notification.objects.all():
        assert "teste123" not in notification.body and "guess-1" not in notification.body
        assert "hmac-sha256" in notification.body


def test_mycontas_reprocessing_checks_the_stored_hash(client, mycontas_account, mycontas_charge):
    post_form(client, mycontas_url(mycontas_account), mycontas_form(mycontas_charge, txtCod_senha="wrong"))
    post_form(client, mycontas_url(mycontas_account), mycontas_form(mycontas_charge))
    forged, genuine = Notification.objects.order_by("pk")
    assert notification_process(forged.pk).outcome == Outcome.FORBIDDEN
    assert notification_process(genuine.pk).outcome == Outcome.PROCESSED


def test_mycontas_missing_fields_are_400(client, mycontas_account, mycontas_charge):
    form = mycontas_form(mycontas_charge)
    del form["cobrancaID"]
    response = post_form(client, mycontas_url(mycontas_account), form)
    assert response.status_code == 400
    assert "cobrancaID" in response.json()["errors"]


def test_mycontas_unknown_reference_fails_in_the_task(
    client, mycontas_account, mycontas_charge, notification_queue
):
    response = post_form(
        client, mycontas_url(mycontas_account), mycontas_form(mycontas_charge, txtReferencia="T-X")
    )
    assert response.status_code == 200
    assert notification_queue.run() == [Outcome.FAILED]
    assert Notification.objects.get().status == N.FAILED


def test_mycontas_return_for_a_carne_fills_the_next_installment(client, mycontas_account, notification_queue):
    carne = factories.CarneFactory(customer=factories.CustomerFactory(bank_account=mycontas_account))
    first, second = (
        factories.ChargeFactory(
            customer=carne.customer,
            carne=carne,
            installment_number=n,
            reference=f"{carne.reference}-{n:02d}",
            state=S.ISSUING,
        )
        for n in (1, 2)
    )
    for number in ("1001", "1002"):
        form = {**mycontas_form(first, cobrancaID=number), "txtReferencia": carne.reference}
        assert post_form(client, mycontas_url(mycontas_account), form).status_code == 200
        notification_queue.run()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.gateway_code, second.gateway_code) == ("1001", "1002")
    assert first.state == second.state == S.ISSUED


# --- Mycontas: what is settled stays settled; only the gateway's own pages are kept --------------------
@pytest.mark.parametrize(
    "overrides",
    [{"cobrancaID": "999"}, {"txtUrl": "https://www.mycontas.com.br/boleto/999"}],
    ids=["another number", "another page"],
)
def test_a_return_never_replaces_an_issued_charges_number_or_page(
    client, mycontas_account, notification_queue, overrides
):
    from django.utils import translation

    charge = factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=mycontas_account),
        state=S.ISSUED,
        gateway_code="556677",
        link="https://www.mycontas.com.br/boleto/556677",
    )
    post_form(client, mycontas_url(mycontas_account), mycontas_form(charge, **overrides))
    with translation.override("en"):
        assert notification_queue.run() == [Outcome.FAILED]
    charge.refresh_from_db()
    assert (charge.gateway_code, charge.link) == ("556677", "https://www.mycontas.com.br/boleto/556677")
    notification = Notification.objects.get()
    assert notification.status == N.FAILED and notification.charge == charge
    assert "kept" in notification.error
    history = charge.events.latest("at")
    assert history.from_state == history.to_state == S.ISSUED and "556677" in history.reason


@pytest.mark.parametrize(
    "url",
    [
        "http://www.mycontas.com.br/boleto/556677",
        "https://mycontas.com.br.attacker.example/boleto",
        "https://attacker.example/?https://www.mycontas.com.br/",
        "javascript:alert(1)",
    ],
)
def test_a_page_that_is_not_the_gateways_is_refused_kept_as_text_never_as_the_link(
    client, mycontas_account, mycontas_charge, notification_queue, url
):
    post_form(client, mycontas_url(mycontas_account), mycontas_form(mycontas_charge, txtUrl=url))
    assert notification_queue.run() == [Outcome.PROCESSED]
    mycontas_charge.refresh_from_db()
    assert mycontas_charge.state == S.ISSUED and mycontas_charge.gateway_code == "556677"
    assert mycontas_charge.link == ""
    notification = Notification.objects.get()
    assert url[:50] in notification.error and "txtUrl=" in notification.body  # stored, as text
    assert any(url[:50] in event.reason for event in mycontas_charge.events.all())


def test_a_page_arriving_for_a_number_already_known_fills_the_empty_link(
    client, mycontas_account, notification_queue
):
    charge = factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=mycontas_account),
        state=S.ISSUED,
        gateway_code="556677",
    )
    post_form(client, mycontas_url(mycontas_account), mycontas_form(charge))
    assert notification_queue.run() == [Outcome.PROCESSED]
    charge.refresh_from_db()
    assert charge.link == "https://www.mycontas.com.br/boleto/556677"


# --- payment ids: unique per account and environment; a mismatch is a visible failure ---------------
def test_two_accounts_whose_payment_ids_collide_both_get_their_payment_through_notifications(
    client, juno_account, juno_sim, notification_queue
):
    other = factories.JunoAccountFactory()
    first, second = issued_charge(juno_account), issued_charge(other)
    paid_first, paid_second = sim_pay(juno_sim, first), sim_pay(juno_sim, second)
    juno_sim.payments[paid_second["paymentToken"]].id = juno_sim.payments[paid_first["paymentToken"]].id
    post_form(client, juno_url(juno_account), juno_form(paid_first, first))
    post_form(client, juno_url(other), juno_form(paid_second, second))
    assert notification_queue.run() == [Outcome.PROCESSED, Outcome.PROCESSED]
    for charge in (first, second):
        charge.refresh_from_db()
        assert charge.state == S.PAID
    assert Payment.objects.values("gateway_payment_id").distinct().count() == 1
    assert Payment.objects.count() == 2


def test_a_payment_recorded_on_another_charge_fails_visibly(
    client, juno_account, juno_sim, notification_queue
):
    from billing.selectors.notifications import admin_warnings

    first, second = issued_charge(juno_account), issued_charge(juno_account)
    paid_first, paid_second = sim_pay(juno_sim, first), sim_pay(juno_sim, second)
    post_form(client, juno_url(juno_account), juno_form(paid_first, first))
    notification_queue.run()
    # The gateway now reports the same payment id for the second charge.
    juno_sim.payments[paid_second["paymentToken"]].id = juno_sim.payments[paid_first["paymentToken"]].id
    post_form(client, juno_url(juno_account), juno_form(paid_second, second))
    assert notification_queue.run() == [Outcome.FAILED]
    second.refresh_from_db()
    assert second.state == S.ISSUED
    failed = Notification.objects.get(status=N.FAILED)
    assert first.reference in failed.error and second.reference in failed.error
    assert any(
        "could not be applied" in w or "não puderam ser aplicadas" in w or "não pôde ser aplicada" in w
        for w in admin_warnings()
    )
