"""The notification intake under pressure: limits per address and per account, the waiting cap,
an unavailable cache, chunked bodies, retention, and what one applied payment costs in SQL."""

from __future__ import annotations

import datetime as dt
import io
import socket

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.api.views import JunoNotificationView
from billing.models import ChargeState, Notification, NotificationStatus, Payment
from billing.services.notifications import Outcome, known_accounts
from billing.services.notifications.inbox import notifications_prune
from core import ratelimit
from tests import factories
from tests.billing import notifications_support as support
from tests.billing.notifications_support import (
    FORM,
    issued_charge,
    juno_form,
    juno_url,
    mycontas_url,
    post_form,
    sim_pay,
)

N = NotificationStatus
juno_sim = support.juno_sim
pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_cache(settings):
    """A cache of this test's own: the limit counters start at zero."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "intake"}
    }
    from django.core.cache import cache

    cache.clear()


# --- intake limits ---------------------------------------------------------------------------------
def test_past_the_address_limit_posts_get_429_with_retry_after_and_are_not_stored(
    client, juno_account, settings, fresh_cache
):
    settings.NOTIFICATION_ADDRESS_LIMIT = 3
    url = juno_url(juno_account)
    codes = [
        post_form(client, url, {"paymentToken": f"T{n}"}, REMOTE_ADDR="10.0.0.1").status_code
        for n in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    refused = post_form(client, url, {"paymentToken": "T9"}, REMOTE_ADDR="10.0.0.1")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= settings.NOTIFICATION_LIMIT_WINDOW_SECONDS
    assert refused.json()["notification"] is None and refused.json()["detail"]
    assert Notification.objects.count() == 3
    # Another sender is counted on its own.
    assert post_form(client, url, {"paymentToken": "T5"}, REMOTE_ADDR="10.0.0.2").status_code == 200


@pytest.mark.parametrize("path", ["juno", "mycontas", "mkauth", "unknown-account"])
def test_the_address_limit_holds_on_every_notification_endpoint(
    client, juno_account, mycontas_account, settings, fresh_cache, path
):
    settings.NOTIFICATION_ADDRESS_LIMIT = 2
    url = {
        "juno": juno_url(juno_account),
        "mycontas": mycontas_url(mycontas_account),
        "mkauth": "/retorno/juno_confirma.php",
        "unknown-account": "/api/notifications/juno/nobody/",
    }[path]
    codes = [
        post_form(client, url, {"paymentToken": "T"}, REMOTE_ADDR="10.0.0.3").status_code for _ in range(3)
    ]
    assert codes[-1] == 429 and 429 not in codes[:2]


def test_past_the_account_limit_posts_get_429_whatever_the_address(
    client, juno_account, settings, fresh_cache
):
    settings.NOTIFICATION_ACCOUNT_LIMIT = 2
    url = juno_url(juno_account)
    codes = [
        post_form(client, url, {"paymentToken": f"T{n}"}, REMOTE_ADDR=f"10.0.1.{n}").status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]
    other = factories.JunoAccountFactory()
    assert post_form(client, juno_url(other), {"paymentToken": "T"}).status_code == 200
    # MK-Auth's path has a budget of its own: forged posts there never spend an account's.
    assert (
        post_form(
            client, "/retorno/juno_confirma.php", {"paymentToken": "T", "chargeReference": "R"}
        ).status_code
        == 200
    )


def test_a_limit_of_zero_is_off(client, juno_account, settings, fresh_cache):
    settings.NOTIFICATION_ADDRESS_LIMIT = settings.NOTIFICATION_ACCOUNT_LIMIT = 0
    codes = {post_form(client, juno_url(juno_account), {"paymentToken": "T"}).status_code for _ in range(20)}
    assert codes == {200}


# --- the waiting cap -------------------------------------------------------------------------------
def test_over_the_waiting_cap_a_notification_is_stored_answered_503_and_never_processed(
    client, juno_account, juno_sim, settings, notification_queue
):
    settings.NOTIFICATION_WAITING_CAP = 2
    url = juno_url(juno_account)
    assert [post_form(client, url, {"paymentToken": f"F{n}"}).status_code for n in range(2)] == [200, 200]
    over = post_form(client, url, {"paymentToken": "F2"})
    assert over.status_code == 503
    assert int(over["Retry-After"]) > 0
    assert over.json()["status"] == N.OVERFLOW
    overflow = Notification.objects.get(pk=over.json()["notification"])
    assert overflow.status == N.OVERFLOW and overflow.payment_token == "F2"
    assert overflow.pk not in notification_queue.pending()
    # Another account's queue is its own.
    assert (
        post_form(client, juno_url(factories.JunoAccountFactory()), {"paymentToken": "X"}).status_code == 200
    )
    # Once the waiting ones are verified, the gateway's next attempt gets in.
    notification_queue.run()
    assert post_form(client, url, {"paymentToken": "F2"}).status_code == 200
    overflow.refresh_from_db()
    assert overflow.status == N.OVERFLOW and overflow.attempts == 0


def test_rows_waiting_for_a_retry_count_toward_the_cap(client, juno_account, settings):
    settings.NOTIFICATION_WAITING_CAP = 1
    Notification.objects.create(gateway="juno", bank_account=juno_account, path="/x", status=N.RETRYING)
    Notification.objects.create(gateway="juno", bank_account=juno_account, path="/x", status=N.PROCESSED)
    assert post_form(client, juno_url(juno_account), {"paymentToken": "T"}).status_code == 503


def test_mkauths_path_has_one_waiting_cap_of_its_own(client, juno_account, settings):
    settings.NOTIFICATION_WAITING_CAP = 1
    form = {"paymentToken": "T", "chargeReference": "R"}
    assert post_form(client, "/retorno/juno_confirma.php", form).status_code == 200
    assert post_form(client, "/retorno/juno_confirma.php", form).status_code == 503
    assert post_form(client, juno_url(juno_account), {"paymentToken": "T"}).status_code == 200


# --- outages ---------------------------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_with_the_cache_down_a_notification_gets_503_json_with_retry_after_and_is_kept(
    client, juno_account, settings, notification_queue
):
    settings.NOTIFICATION_ADDRESS_LIMIT = 100
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
        }
    }
    response = post_form(client, juno_url(juno_account), {"paymentToken": "T"})
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert int(response["Retry-After"]) > 0
    notification = Notification.objects.get(pk=response.json()["notification"])
    assert notification.status == N.RECEIVED and notification.bank_account == juno_account  # the sweep's


def test_with_the_cache_down_an_unknown_account_is_still_kept_short(client, settings):
    settings.NOTIFICATION_ADDRESS_LIMIT = 100
    settings.NOTIFICATION_UNKNOWN_ACCOUNT_BODY_BYTES = 10
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
        }
    }
    response = post_form(client, "/api/notifications/juno/nobody/", {"paymentToken": "A" * 50})
    assert response.status_code == 503
    notification = Notification.objects.get()
    assert notification.status == N.REJECTED and len(notification.body) == 10


# --- chunked bodies --------------------------------------------------------------------------------
def _chunked_request(path: str, body: bytes, *, terminated: bool) -> WSGIRequest:
    """What gunicorn hands Django for ``Transfer-Encoding: chunked``: no CONTENT_LENGTH, the decoded
    body in ``wsgi.input``, and ``wsgi.input_terminated`` set."""
    environ = RequestFactory().generic("POST", path, b"", content_type=FORM).environ
    environ.pop("CONTENT_LENGTH", None)
    environ["CONTENT_TYPE"] = FORM
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input"] = io.BytesIO(body)
    if terminated:
        environ["wsgi.input_terminated"] = True
    return WSGIRequest(environ)


def test_a_chunked_notification_is_read_up_to_the_limit(juno_account, juno_sim, settings, notification_queue):
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge)
    from urllib.parse import urlencode

    body = urlencode(juno_form(paid, charge)).encode()
    path = juno_url(juno_account)
    response = JunoNotificationView.as_view()(
        _chunked_request(path, body, terminated=True), public_id=juno_account.public_id
    )
    assert response.status_code == 200
    notification = Notification.objects.get()
    assert notification.body == body.decode()
    assert notification_queue.run() == [Outcome.PROCESSED]

    settings.NOTIFICATION_MAX_BODY_BYTES = 50
    big = JunoNotificationView.as_view()(
        _chunked_request(path, b"paymentToken=" + b"A" * 500, terminated=True),
        public_id=juno_account.public_id,
    )
    assert big.status_code == 400 and "body" in big.data["errors"]
    assert len(Notification.objects.latest("pk").body) == 50


def test_a_chunked_body_the_server_cannot_end_is_refused_not_stored_empty(juno_account):
    path = juno_url(juno_account)
    response = JunoNotificationView.as_view()(
        _chunked_request(path, b"paymentToken=A", terminated=False), public_id=juno_account.public_id
    )
    assert response.status_code == 400 and "body" in response.data["errors"]
    assert Notification.objects.get().status == N.INVALID


# --- retention -------------------------------------------------------------------------------------
def test_the_daily_prune_deletes_old_rows_that_changed_nothing(juno_account, settings):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    charge = factories.ChargeFactory(customer=factories.CustomerFactory(bank_account=juno_account))
    rows = {
        status: Notification.objects.create(
            gateway="juno", bank_account=juno_account, path="/x", status=status
        )
        for status in (N.INVALID, N.REJECTED, N.OVERFLOW, N.PROCESSED, N.FAILED, N.RETRYING, N.RECEIVED)
    }
    unknown = Notification.objects.create(gateway="juno", path="/x", status=N.REJECTED)
    recent = Notification.objects.create(gateway="juno", path="/x", status=N.INVALID)
    Notification.objects.exclude(pk=recent.pk).update(received_at=timezone.now() - dt.timedelta(days=31))
    explained = Payment.objects.create(
        charge=charge,
        gateway="juno",
        gateway_payment_id="1",
        amount=charge.amount,
        status="CONFIRMED",
        notification=rows[N.PROCESSED],
    )

    assert notifications_prune() == 4
    kept = set(Notification.objects.values_list("pk", flat=True))
    assert kept == {rows[s].pk for s in (N.PROCESSED, N.FAILED, N.RETRYING, N.RECEIVED)} | {recent.pk}
    assert unknown.pk not in kept
    explained.refresh_from_db()
    assert explained.notification_id == rows[N.PROCESSED].pk


def test_the_prune_runs_daily_from_the_migrations():
    from django_celery_beat.models import PeriodicTask

    prune = PeriodicTask.objects.get(task="billing.prune_notifications")
    assert prune.enabled and (prune.crontab.hour, prune.crontab.minute) == ("3", "30")
    assert str(prune.crontab.timezone) == "America/Sao_Paulo"


def test_the_prune_task_runs_the_service(juno_account, settings):
    from billing.notification_tasks import prune_notifications

    settings.NOTIFICATION_RETENTION_DAYS = 1
    old = Notification.objects.create(gateway="juno", path="/x", status=N.INVALID)
    Notification.objects.filter(pk=old.pk).update(received_at=timezone.now() - dt.timedelta(days=2))
    assert prune_notifications.apply().get() == 1


# --- what an applied payment costs ---------------------------------------------------------------
#: SQL statements for one Juno notification applied (intake request + processing), counted the same
#: way (Django's executed statements with BEGIN/COMMIT, savepoints included) on the design that
#: asked the gateway before answering: 13.
STATEMENTS_BEFORE = 13
#: What the collection cycle adds on purpose: the ``charge.paid`` outbound event, one INSERT in the
#: payment's own transaction (the outbox: none lost, none invented by a rollback).
OUTBOX_EVENT = 1


@pytest.mark.django_db(transaction=True)
def test_one_applied_payment_costs_no_more_sql_than_before(client, juno_sim, notification_queue):
    account = factories.JunoAccountFactory()
    counts = []
    for _ in range(3):
        charge = issued_charge(account)
        paid = sim_pay(juno_sim, charge)
        with CaptureQueriesContext(connection) as queries:
            assert post_form(client, juno_url(account), juno_form(paid, charge)).status_code == 200
            assert notification_queue.run() == [Outcome.PROCESSED]
        charge.refresh_from_db()
        assert charge.state == ChargeState.PAID
        counts.append(len(queries.captured_queries))
    assert max(counts) <= STATEMENTS_BEFORE + OUTBOX_EVENT, [q["sql"][:80] for q in queries.captured_queries]
    assert any('INSERT INTO "webhooks_event"' in q["sql"] for q in queries.captured_queries)


def test_a_juno_post_costs_two_statements_and_decrypts_no_secret(client, juno_account, notification_queue):
    with CaptureQueriesContext(connection) as queries:
        response = post_form(client, juno_url(juno_account), {"paymentToken": "T1", "chargeReference": "R"})
    assert response.status_code == 200
    assert len(queries.captured_queries) == 2  # the account (with its waiting count) and the INSERT
    account_read = queries.captured_queries[0]["sql"]
    assert '"providers_bankaccount"."public_id"' in account_read
    assert '"sandbox_token"' not in account_read and '"webhook_token"' not in account_read


def test_an_intake_that_checks_a_secret_reads_it_in_the_same_statement(client, mycontas_account):
    form = {
        "txtCod_cliente": mycontas_account.account_code,
        "txtCod_senha": "wrong",
        "txtReferencia": "T-1",
        "cobrancaID": "1",
    }
    with CaptureQueriesContext(connection) as queries:
        response = post_form(client, mycontas_url(mycontas_account), form)
    assert response.status_code == 403
    assert len(queries.captured_queries) == 2
    assert '"account_password"' in queries.captured_queries[0]["sql"]


# --- what each web process remembers ----------------------------------------------------------------
def _mycontas_form(account, password: str) -> dict[str, str]:
    return {
        "txtCod_cliente": account.account_code,
        "txtCod_senha": password,
        "txtReferencia": "T-1",
        "cobrancaID": "1",
    }


def test_a_remembered_url_costs_one_statement_and_one_limiter_step(
    client, juno_account, settings, monkeypatch
):
    settings.NOTIFICATION_ADDRESS_LIMIT = settings.NOTIFICATION_ACCOUNT_LIMIT = 1000
    steps: list[list[str]] = []
    real = ratelimit.hit_all
    monkeypatch.setattr(
        ratelimit,
        "hit_all",
        lambda limits, **kw: steps.append([one.key for one in limits]) or real(limits, **kw),
    )
    url = juno_url(juno_account)
    assert post_form(client, url, {"paymentToken": "T1"}).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert post_form(client, url, {"paymentToken": "T2"}).status_code == 200
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["INSERT"]
    # First post: the sender's limit before the account is read, then the account's; then both at once.
    assert steps == [
        ["notify:addr:127.0.0.1"],
        [f"notify:account:{juno_account.pk}"],
        ["notify:addr:127.0.0.1", f"notify:account:{juno_account.pk}"],
    ]


def test_an_unknown_url_is_read_on_every_post(client):
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert (
                post_form(client, "/api/notifications/juno/nobody/", {"paymentToken": "T"}).status_code == 404
            )
        assert '"providers_bankaccount"' in queries.captured_queries[0]["sql"]


def test_an_account_saved_is_read_again_at_once(client, mycontas_account):
    url = mycontas_url(mycontas_account)
    assert post_form(client, url, _mycontas_form(mycontas_account, "teste123")).status_code == 200
    mycontas_account.account_password = "nova-senha"
    mycontas_account.save()
    assert post_form(client, url, _mycontas_form(mycontas_account, "teste123")).status_code == 403
    assert post_form(client, url, _mycontas_form(mycontas_account, "nova-senha")).status_code == 200
    mycontas_account.delete()
    assert post_form(client, url, _mycontas_form(mycontas_account, "nova-senha")).status_code == 404


def test_a_change_made_elsewhere_is_seen_within_the_configured_seconds(
    client, mycontas_account, settings, monkeypatch
):
    """Another process's save sends this one no signal (an UPDATE here stands for it)."""
    settings.NOTIFICATION_ACCOUNT_CACHE_SECONDS = 5
    now = [1000.0]
    monkeypatch.setattr(known_accounts, "_clock", lambda: now[0])
    url = mycontas_url(mycontas_account)
    assert post_form(client, url, _mycontas_form(mycontas_account, "teste123")).status_code == 200
    mycontas_account.account_password = "nova-senha"
    type(mycontas_account).objects.filter(pk=mycontas_account.pk).update(
        account_password=mycontas_account.account_password
    )
    now[0] += 4.9
    assert post_form(client, url, _mycontas_form(mycontas_account, "teste123")).status_code == 200
    now[0] += 0.2
    assert post_form(client, url, _mycontas_form(mycontas_account, "teste123")).status_code == 403
    assert post_form(client, url, _mycontas_form(mycontas_account, "nova-senha")).status_code == 200


def test_with_no_memory_every_post_reads_the_account(client, juno_account, settings):
    settings.NOTIFICATION_ACCOUNT_CACHE_SECONDS = 0
    for n in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert post_form(client, juno_url(juno_account), {"paymentToken": f"T{n}"}).status_code == 200
        assert len(queries.captured_queries) == 2


def test_the_waiting_estimate_counts_this_process_and_refuses_only_on_a_count_read_then(
    client, juno_account, settings
):
    settings.NOTIFICATION_WAITING_CAP = 3
    url = juno_url(juno_account)
    assert [post_form(client, url, {"paymentToken": f"T{n}"}).status_code for n in range(3)] == [200] * 3
    # At the cap the count is read again before answering 503.
    with CaptureQueriesContext(connection) as queries:
        assert post_form(client, url, {"paymentToken": "T3"}).status_code == 503
    assert '"providers_bankaccount"' in queries.captured_queries[0]["sql"]
    # Rows verified by the workers (here: marked so) free the cap on the next post's recount.
    Notification.objects.filter(bank_account=juno_account, status=N.RECEIVED).update(status=N.PROCESSED)
    assert post_form(client, url, {"paymentToken": "T4"}).status_code == 200


def test_rows_another_process_admitted_are_counted_at_the_next_read(
    client, juno_account, settings, monkeypatch
):
    """The estimate misses what other processes admitted until it is read again: the bound the docs give."""
    settings.NOTIFICATION_WAITING_CAP = 3
    now = [1000.0]
    monkeypatch.setattr(known_accounts, "_clock", lambda: now[0])
    url = juno_url(juno_account)
    assert post_form(client, url, {"paymentToken": "T0"}).status_code == 200
    Notification.objects.bulk_create(
        Notification(gateway="juno", bank_account=juno_account, path="/elsewhere", status=N.RECEIVED)
        for _ in range(2)
    )
    assert post_form(client, url, {"paymentToken": "T1"}).status_code == 200  # estimate 1: admitted
    now[0] += settings.NOTIFICATION_ACCOUNT_CACHE_SECONDS
    assert post_form(client, url, {"paymentToken": "T2"}).status_code == 503  # read again: 4 waiting


# --- what staff see --------------------------------------------------------------------------------
def test_staff_see_rejected_and_turned_away_notifications_on_the_admin_index(juno_account):
    from django.utils import translation

    from billing.selectors.notifications import admin_warnings

    for status in (N.REJECTED, N.REJECTED, N.OVERFLOW):
        Notification.objects.create(gateway="juno", bank_account=juno_account, path="/x", status=status)
    with translation.override("en"):
        warnings = admin_warnings()
    assert any(w.startswith("2 notifications") and "rejected" in w and "forged" in w for w in warnings)
    assert any(w.startswith("1 notification") and "send it again later" in w for w in warnings)
