"""A gateway that answers HTTP 429 with Retry-After is asked again no sooner than it said, whichever
gateway and whichever task: issuing (Juno, Asaas) and verifying a notification's payment."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from unittest import mock

import pytest
import responses
from celery.exceptions import Retry

from billing import tasks
from billing.models import Charge, ChargeState, Notification, NotificationStatus
from billing.notification_tasks import process_notification
from billing.services import charges as svc
from core.dates import today
from core.queue import BACKOFF_CAP_SECONDS
from tests import factories

pytestmark = pytest.mark.django_db
JUNO = "https://juno.test/boletofacil/integration/api/v1/"
ASAAS = "https://asaas.test/api/v3/"
WAIT = 300  # longer than every backoff ceiling of the first retries (10 s, 20 s, 40 s ...)


def new_charge(account) -> Charge:
    customer = factories.CustomerFactory(bank_account=account)
    return svc.charge_create(
        customer=customer,
        amount=Decimal("99.90"),
        due_date=today() + dt.timedelta(days=10),
        description="Internet",
        enqueue=False,
    )


def countdown_of(task, *args) -> int:
    """Run ``task`` once as a worker would and return the countdown of the retry it asked for."""
    with mock.patch.object(task, "retry", side_effect=Retry()) as retry, pytest.raises(Retry):
        task.run(*args)
    retry.assert_called_once()
    return retry.call_args.kwargs["countdown"]


@responses.activate
def test_juno_issue_retries_no_sooner_than_retry_after(juno_account, settings):
    settings.JUNO_BASE_URL = settings.JUNO_SANDBOX_BASE_URL = JUNO
    responses.post(JUNO + "issue-charge", status=429, headers={"Retry-After": str(WAIT)}, json={})
    charge = new_charge(juno_account)
    countdowns = {countdown_of(tasks.issue_charge, charge.pk) for _ in range(5)}
    assert min(countdowns) >= WAIT and max(countdowns) <= BACKOFF_CAP_SECONDS
    charge.refresh_from_db()
    assert charge.state == ChargeState.PENDING  # throttled: nothing was sent, never failed


@responses.activate
def test_asaas_issue_retries_no_sooner_than_retry_after(settings):
    settings.ASAAS_BASE_URL = settings.ASAAS_SANDBOX_BASE_URL = ASAAS
    for method in (responses.GET, responses.POST):
        responses.add(method, re.compile(re.escape(ASAAS) + ".*"), status=429, headers={"Retry-After": "450"})
    charge = new_charge(factories.AsaasAccountFactory())
    assert countdown_of(tasks.issue_charge, charge.pk) >= 450
    charge.refresh_from_db()
    assert charge.state == ChargeState.PENDING


@responses.activate
def test_a_notification_whose_payment_check_is_throttled_waits_as_asked(juno_account, settings):
    settings.JUNO_BASE_URL = settings.JUNO_SANDBOX_BASE_URL = JUNO
    responses.post(JUNO + "fetch-payment-details", status=429, headers={"Retry-After": str(WAIT)}, json={})
    notification = Notification.objects.create(
        gateway="juno",
        bank_account=juno_account,
        path="/x",
        body="paymentToken=T",
        status=NotificationStatus.RETRYING,
    )
    assert countdown_of(process_notification, notification.pk) >= WAIT
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.RETRYING


@responses.activate
def test_a_retry_after_beyond_the_cap_waits_the_cap_and_the_sweep_follows(juno_account, settings):
    settings.JUNO_BASE_URL = settings.JUNO_SANDBOX_BASE_URL = JUNO
    responses.post(JUNO + "issue-charge", status=429, headers={"Retry-After": "86400"}, json={})
    charge = new_charge(juno_account)
    assert countdown_of(tasks.issue_charge, charge.pk) == BACKOFF_CAP_SECONDS
