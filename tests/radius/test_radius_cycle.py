"""FreeRADIUS hears the collection cycle, end to end with real components.

A subscriber whose boleto (issued through the Juno simulator) goes unpaid is blocked by the daily
pass: FreeRADIUS's Access-Accept (asked with radclient on loopback) then carries the blocked group's
reply attributes. The simulator pays the boleto and posts the notification to the live server; once
it is processed, the next Access-Accept carries the plan's attributes again.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
import time_machine

from billing.services import service_status
from customers.models import CustomerStatus
from radius import services, store
from tests import factories
from tests.billing import notifications_support
from tests.billing.notifications_support import issued_charge
from tests.radius.freeradius_support import access_request, forget_user, seed_group, seed_user

# One process owns the FreeRADIUS tables and its server under pytest-xdist.
pytestmark = pytest.mark.xdist_group("radius")

BLOCKED_REPLY = {"Framed-Pool": "bloqueados", "Mikrotik-Rate-Limit": "256k/256k"}
PLAN_REPLY = {"Framed-Pool": "clientes", "Mikrotik-Rate-Limit": "300M/150M"}
PASSWORD = "pppoe-s3cret"
juno_sim = notifications_support.juno_sim
processing_inline = notifications_support.processing_inline


@pytest.fixture
def eager_tasks(settings):
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def radius(radius_server, settings):
    settings.RADIUS_DATABASE_URL = radius_server.database_url
    suffix = uuid.uuid4().hex[:8]
    groups = {"blocked": f"bloqueado-{suffix}", "plan": f"plano-300m-{suffix}"}
    seed_group(radius_server.database_url, groups["blocked"], BLOCKED_REPLY)
    seed_group(radius_server.database_url, groups["plan"], PLAN_REPLY)
    return radius_server, groups


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.django_db(transaction=True)
def test_blocked_gets_the_blocked_group_and_the_notified_payment_gives_the_plan_back(
    radius,
    live_server,
    settings,
    juno_account,
    juno_sim,
    eager_tasks,
    processing_inline,
):
    server, groups = radius
    settings.PUBLIC_BASE_URL = live_server.url
    factories.ProviderFactory(radius_blocked_group=groups["blocked"], block_after_days=15)
    charge = issued_charge(juno_account)
    username = f"assinante-{uuid.uuid4().hex[:8]}"
    customer = charge.customer
    customer.radius_username = username
    customer.radius_group = groups["plan"]
    customer.save()
    seed_user(server.database_url, username, PASSWORD)
    try:
        assert services.radius_sync_customers(customer_ids=[customer.pk]) == 1
        answer = access_request(server, username, PASSWORD)
        assert answer.code == "Access-Accept"
        assert answer.attributes["Mikrotik-Rate-Limit"] == [PLAN_REPLY["Mikrotik-Rate-Limit"]]

        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)  # the boleto is 20 days late
        with time_machine.travel(later, tick=True):
            assert service_status.overdue_pass().blocked == 1
            customer.refresh_from_db()
            assert customer.status == CustomerStatus.BLOCKED
            with store.connect(server.database_url) as conn:
                assert store.groups_of(conn, username) == [groups["blocked"]]
            blocked = access_request(server, username, PASSWORD)
            assert blocked.code == "Access-Accept"
            assert blocked.attributes["Framed-Pool"] == [BLOCKED_REPLY["Framed-Pool"]]
            assert blocked.attributes["Mikrotik-Rate-Limit"] == [BLOCKED_REPLY["Mikrotik-Rate-Limit"]]

            juno_sim.pay({"code": charge.gateway_code})  # POSTs the notification to the live server

            def served_again() -> bool:
                answer = access_request(server, username, PASSWORD)
                return answer.attributes.get("Mikrotik-Rate-Limit") == [PLAN_REPLY["Mikrotik-Rate-Limit"]]

            assert wait_for(served_again), "the plan's attributes did not come back after the payment"
        customer.refresh_from_db()
        assert customer.status == CustomerStatus.ACTIVE
        normal = access_request(server, username, PASSWORD)
        assert normal.attributes["Framed-Pool"] == [PLAN_REPLY["Framed-Pool"]]
    finally:
        forget_user(server.database_url, username)


def test_without_a_radius_database_nothing_is_written(settings, db):
    settings.RADIUS_DATABASE_URL = ""
    customer = factories.CustomerFactory(radius_username="someone")
    assert services.radius_sync_customers(customer_ids=[customer.pk]) == 0


def test_the_group_follows_the_status(db):
    provider = factories.ProviderFactory(radius_blocked_group="bloqueado", radius_default_group="padrao")
    assert services.group_for(status="active", plan_group="plano-1", provider=provider) == "plano-1"
    assert services.group_for(status="active", plan_group="", provider=provider) == "padrao"
    for status in ("blocked", "suspended", "inactive"):
        assert services.group_for(status=status, plan_group="plano-1", provider=provider) == "bloqueado"
