"""Crawls every admin page, the portal and the API: no secret is ever shown, and the read-only
group can change nothing anywhere."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from billing.models import ChargeState, GatewayLog, Notification, Payment
from tests.factories import (
    ChargeFactory,
    CustomerFactory,
    JunoAccountFactory,
    MycontasAccountFactory,
    ProviderFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PROD_TOKEN = "PRODTOKEN-7f3a9c2e1b4d"
SANDBOX_TOKEN = "SANDBOXTOKEN-9e8d7c6b5a41"
MYCONTAS_PASSWORD = "MYCPASS-5b4a3c2d1e0f"
SECRETS = (PROD_TOKEN, SANDBOX_TOKEN, MYCONTAS_PASSWORD)


@pytest.fixture
def world(db):
    """One of everything, with distinctive secrets on the accounts."""
    ProviderFactory()
    juno = JunoAccountFactory(token=PROD_TOKEN, sandbox_token=SANDBOX_TOKEN)
    mycontas = MycontasAccountFactory(account_code="ABCDEFGHIJ0123456789", account_password=MYCONTAS_PASSWORD)
    customer = CustomerFactory(bank_account=juno)
    CustomerFactory(bank_account=mycontas)
    charge = ChargeFactory(
        customer=customer, state=ChargeState.PAID, gateway_code="123", due_date=dt.date(2026, 12, 10)
    )
    notification = Notification.objects.create(
        gateway="juno", bank_account=juno, path="/x/", body="paymentToken=abc", charge=charge
    )
    Payment.objects.create(
        charge=charge,
        gateway="juno",
        gateway_payment_id="p1",
        amount=Decimal("99.90"),
        status="CONFIRMED",
        notification=notification,
    )
    GatewayLog.objects.create(
        bank_account=juno,
        gateway="juno",
        endpoint="issue-charge",
        url="https://x/",
        outcome="ok",
        request_params={"token": "***"},
        charge=charge,
    )
    return {"juno": juno, "mycontas": mycontas, "customer": customer, "charge": charge}


def admin_urls(world) -> list[str]:
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        obj = model_admin.get_queryset(_request()).first()
        if obj is not None:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    return urls


def _request():
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = UserFactory(username="crawler-root", is_superuser=True)
    return request


def test_no_secret_on_any_admin_page(client, world):
    client.force_login(UserFactory(username="root", is_superuser=True))
    pages = admin_urls(world)
    assert len(pages) > 10
    for url in pages:
        response = client.get(url, follow=True)  # a row of the overdue list opens the customer's page
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in SECRETS:
            assert secret not in body, f"{secret} shown on {url}"


def test_no_secret_in_portal_health_or_api(client, world):
    customer = world["customer"]
    urls = [f"/portal/{customer.portal_token}/", "/health/", "/api/schema/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 503), url
        body = response.content.decode()
        for secret in SECRETS:
            assert secret not in body, f"{secret} in {url}"


def test_no_secret_in_api_error_answers(client, world):
    for account in (world["juno"], world["mycontas"]):
        response = client.post(
            f"/api/notifications/{account.gateway}/{account.public_id}/",
            data="garbage=1",
            content_type="application/x-www-form-urlencoded",
        )
        assert 400 <= response.status_code < 500
        for secret in SECRETS:
            assert secret not in response.content.decode()


def test_no_secret_in_log_records_of_a_gateway_exchange(world, caplog, settings):
    """A failing call (nothing listens on the port) logs and records the exchange: no secret."""
    from billing.services.gateway_access import gateway_for
    from gateways.base import GatewayError

    settings.JUNO_SANDBOX_BASE_URL = "http://127.0.0.1:9/boletofacil/integration/api/v1/"
    settings.GATEWAY_CONNECT_TIMEOUT = 0.5
    caplog.set_level(logging.DEBUG)
    gateway = gateway_for(world["juno"])
    with pytest.raises(GatewayError):
        gateway.cancel("123")
    text = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    logs = list(GatewayLog.objects.values_list("request_params", "url", "response_body", "error_message"))
    for secret in SECRETS:
        assert secret not in text
        assert secret not in str(logs)


def test_readers_can_change_nothing(client, world):
    reader = UserFactory(username="reader")
    reader.groups.add(Group.objects.get(name="Billing readers"))
    client.force_login(reader)
    checked = 0
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if not reader.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            continue
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        assert client.post(add, {}).status_code == 403, add
        obj = model.objects.first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            before = model.objects.filter(pk=obj.pk).values().first()
            assert client.post(change, {}).status_code == 403, change
            delete = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])
            assert client.post(delete, {"post": "yes"}).status_code == 403, delete
            for action in model_admin.actions or []:
                name = getattr(action, "__name__", action)
                response = client.post(
                    changelist, {"action": name, "_selected_action": [obj.pk], "post": "yes"}
                )
                assert response.status_code == 403, (changelist, name)
            assert model.objects.filter(pk=obj.pk).values().first() == before
        checked += 1
    assert checked >= 8
