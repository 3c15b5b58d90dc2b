"""No admin page shows a stored secret to anyone: every page of every model (changelist, add, change,
history, delete confirmation, and each admin's own views: imports, exports, prints...) rendered as
each staff group and as a superuser shows at most a secret's last four characters."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing.models import GatewayLog
from core.dates import today
from tests.admin_support import SECRETS, admin_pages, make_world
from tests.factories import (
    AsaasAccountFactory,
    ChargeFactory,
    CustomerFactory,
    JunoAccountFactory,
    MycontasAccountFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

#: Capability in the notification URL: shown only to who may change the account (to paste it).
PUBLIC_IDS: list[str] = []


def fragments(secret: str) -> set[str]:
    """Every five-character piece: a page showing more than the last four characters shows one."""
    return {secret[i : i + 5] for i in range(len(secret) - 4)}


@pytest.fixture
def world(db):
    return make_world()


def staff_users():
    yield "superuser", UserFactory(username="root", is_superuser=True)
    for group in Group.objects.order_by("name"):
        user = UserFactory(username=f"member-{group.pk}", is_staff=True)
        user.groups.add(group)
        yield group.name, user


def test_no_page_shows_more_than_the_last_four_characters_of_a_secret(client, world):
    forbidden = {piece: name for name, secret in SECRETS.items() for piece in fragments(secret)}
    pages = admin_pages()
    assert len(pages) > 120
    roles = 0
    for role, user in staff_users():
        client.force_login(user)
        may_change_accounts = user.has_perm("providers.change_bankaccount")
        seen: list[str] = []
        for url in pages:
            response = client.get(url)
            assert response.status_code < 500, (role, url)
            if response.status_code != 200:
                continue
            seen.append(url)
            sent = b"".join(response.streaming_content) if response.streaming else response.content
            body = sent.decode(errors="replace")  # exports stream (the overdue list's CSV)
            shown = sorted({forbidden[piece] for piece in forbidden if piece in body})
            assert shown == [], f"{role} sees {shown} on {url}"
            if not may_change_accounts:
                for account in world["accounts"]:
                    for piece in fragments(account.public_id):
                        assert piece not in body, f"{role} sees {account.name}'s public id on {url}"
        assert len(seen) > 5, role
        if role == "superuser":  # every kind of page was really rendered, not refused
            for kind in ("/change/", "/history/", "/delete/", "/do/", "/print/", "/autocomplete/", ".csv"):
                assert any(kind in url for url in seen), kind
            accounts = [reverse("admin:providers_bankaccount_change", args=[a.pk]) for a in world["accounts"]]
            assert set(accounts) <= set(seen)
        roles += 1
    assert roles >= 3  # the superuser and at least the operators' and the readers' groups


def test_every_secret_field_has_a_masked_display():
    from providers.admin import SECRET_DISPLAYS
    from providers.models import SECRET_FIELDS, BankAccount

    encrypted = {f.name for f in BankAccount._meta.fields if type(f).__name__.startswith("Encrypted")}
    assert set(SECRET_DISPLAYS) == set(SECRET_FIELDS) == encrypted


def test_readers_see_the_secret_fields_masked_on_the_account_page(client, world):
    reader = UserFactory(username="reader", is_staff=True)
    reader.groups.add(Group.objects.get(name="Billing readers"))
    client.force_login(reader)
    juno, mycontas, _asaas = world["accounts"]
    page = client.get(reverse("admin:providers_bankaccount_change", args=[juno.pk])).content.decode()
    assert "…" + SECRETS["juno token"][-4:] in page
    page = client.get(reverse("admin:providers_bankaccount_change", args=[mycontas.pk])).content.decode()
    assert SECRETS["mycontas password"][-4:] not in page  # passwords show nothing of themselves
    assert "Somente quem pode alterar esta conta vê o endereço completo." in page
    assert f"/api/notifications/mycontas/…{mycontas.public_id[-4:]}/" in page


def test_a_refused_account_form_does_not_show_back_what_was_typed(client, world):
    """A failed submit renders the form again: the secret just typed is not in it either."""
    client.force_login(UserFactory(username="root", is_superuser=True))
    juno = world["accounts"][0]
    typed = "Ty9Nw8Hj3Kl5ZxQ2Vb7Mc"
    response = client.post(
        reverse("admin:providers_bankaccount_change", args=[juno.pk]),
        {"name": "", "gateway": "juno", "token": typed, "sandbox_token": typed},
    )
    assert response.status_code == 200 and response.context["adminform"].form.errors
    body = response.content.decode()
    assert not any(piece in body for piece in fragments(typed))
    assert not any(piece in body for piece in fragments(SECRETS["juno token"]))


def test_no_log_record_or_stored_exchange_of_any_gateway_shows_a_secret(settings, caplog):
    """Each gateway issues one charge against its simulator: nothing logged or stored (the gateway
    log's request, URL, answer and error, the charge's history) holds five characters of a secret."""
    from billing.models import ChargeEvent
    from billing.services import charges as charge_services
    from gateways.asaas import simulator as asaas_simulator
    from gateways.juno import simulator as juno_simulator
    from gateways.mycontas import simulator as mycontas_simulator

    secrets = {
        "juno sandbox token": "SbTk4HfG8sD1aQ6wE3rT",
        "mycontas password": "McPw9Zx2Cv5Bn8Mq1Wk4",
        "asaas sandbox key": "$aact_hmlg_AsSb7Yh4Gf1Ds8Aq5Zw2",
    }
    servers = []
    for module in (juno_simulator, mycontas_simulator, asaas_simulator):
        server, base_url = module.start_in_thread()
        servers.append(server)
        if module is juno_simulator:
            settings.JUNO_SANDBOX_BASE_URL = base_url + juno_simulator.API_PREFIX
        elif module is mycontas_simulator:
            settings.MYCONTAS_URL = base_url + "/servicoweb"
        else:
            settings.ASAAS_SANDBOX_BASE_URL = base_url + asaas_simulator.API_PREFIX
    accounts = [
        JunoAccountFactory(sandbox_token=secrets["juno sandbox token"]),
        MycontasAccountFactory(account_password=secrets["mycontas password"]),
        AsaasAccountFactory(sandbox_token=secrets["asaas sandbox key"]),
    ]
    caplog.set_level(logging.DEBUG)
    try:
        for account in accounts:
            charge = ChargeFactory(
                customer=CustomerFactory(bank_account=account), due_date=today() + dt.timedelta(days=9)
            )
            charge_services.charge_issue(charge_id=charge.pk)
    finally:
        for server in servers:
            server.shutdown()
    stored = [
        *GatewayLog.objects.values_list("url", "request_params", "response_body", "error_message"),
        *ChargeEvent.objects.values_list("reason", flat=True),
    ]
    assert GatewayLog.objects.values("bank_account").distinct().count() == 3  # every gateway was called
    text = caplog.text + "".join(str(record.__dict__) for record in caplog.records) + str(stored)
    for name, secret in secrets.items():
        shown = [piece for piece in fragments(secret.removeprefix("$aact_hmlg_")) if piece in text]
        assert shown == [], f"{name}: {shown}"
