"""Crawls every admin page, the portal and the API: no secret is ever shown, and the read-only
group can change nothing anywhere."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import resolve, reverse

from billing.models import GatewayLog
from tests import admin_support
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRETS = tuple(admin_support.SECRETS.values())


@pytest.fixture
def world(db):
    """One of everything, with distinctive secrets on the accounts."""
    return admin_support.make_world()


def must_render(url: str) -> bool:
    """The index, every changelist and every change page: a superuser always sees them."""
    name = resolve(urlsplit(url).path).url_name or ""
    return name == "index" or name.endswith(("_changelist", "_change"))


def test_no_secret_on_any_admin_page(client, world):
    client.force_login(UserFactory(username="root", is_superuser=True))
    pages = admin_support.admin_pages()
    assert len(pages) > 120
    rendered = 0
    for url in pages:
        response = client.get(url, follow=True)  # a row of the overdue list opens the customer's page
        assert response.status_code < 500, url
        if must_render(url):
            assert response.status_code == 200, url
            rendered += 1
        sent = b"".join(response.streaming_content) if response.streaming else response.content
        body = sent.decode(errors="replace")
        for secret in SECRETS:
            assert secret not in body, f"{secret} shown on {url}"
    assert rendered >= len(admin.site._registry)  # at least each model's changelist


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
