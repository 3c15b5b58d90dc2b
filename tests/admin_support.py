"""One of everything the admin shows, and every page it serves by GET: what the crawls of the admin
(secrets, read-only access, outages) visit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.urls import reverse

from billing.models import Carne, Charge, ChargeState, Notification, Payment
from tests.factories import (
    AsaasAccountFactory,
    CarneFactory,
    ChargeFactory,
    CustomerFactory,
    GatewayLogFactory,
    JunoAccountFactory,
    MycontasAccountFactory,
    ProviderFactory,
)

#: Distinctive secrets: no five characters of any of them may show anywhere.
SECRETS = {
    "juno token": "JuTkQ7w3ZpR9xL2mV5nB",
    "juno sandbox token": "SbTk4HfG8sD1aQ6wE3rT",
    "mycontas password": "McPw9Zx2Cv5Bn8Mq1Wk4",
    "asaas key": "AsKy3Lp6Oi9Uy2Tr5Ew8",
    "asaas sandbox key": "AsSb7Yh4Gf1Ds8Aq5Zw2",
    "asaas webhook token": "AsWh2Nj5Mk8Lo1Pi4Ub7",
}

#: Objects of one model whose pages are crawled (each of them: every bank account's own page).
OBJECTS_PER_MODEL = 6


def make_world() -> dict[str, Any]:
    """One of everything (accounts of every gateway holding :data:`SECRETS`, charges, a carnê,
    a payment, a notification, a gateway exchange), so every admin page has something to show.

    Returns the accounts (``accounts``: Juno, Mycontas, Asaas; also by gateway name), the Juno
    customer (``customer``) and its paid charge (``charge``)."""
    ProviderFactory()
    juno = JunoAccountFactory(token=SECRETS["juno token"], sandbox_token=SECRETS["juno sandbox token"])
    mycontas = MycontasAccountFactory(
        account_code="ABCDEFGHIJ0123456789", account_password=SECRETS["mycontas password"]
    )
    asaas = AsaasAccountFactory(
        token=SECRETS["asaas key"],
        sandbox_token=SECRETS["asaas sandbox key"],
        webhook_token=SECRETS["asaas webhook token"],
    )
    customer = CustomerFactory(bank_account=juno)
    CustomerFactory(bank_account=mycontas)
    CustomerFactory(bank_account=asaas)
    charge = ChargeFactory(
        customer=customer, state=ChargeState.PAID, gateway_code="123", due_date=dt.date(2026, 12, 10)
    )
    # An open título and a carnê with an installment: their pages offer every object action.
    ChargeFactory(
        customer=customer,
        state=ChargeState.ISSUED,
        gateway_code="456",
        link="https://www.boletobancario.com/boletofacil/charge/boleto.pdf?token=456",
        linha_digitavel="34191790010104351004791020150008291070026000",
    )
    carne = CarneFactory(customer=customer)
    ChargeFactory(customer=customer, carne=carne, installment_number=1, state=ChargeState.ISSUED)
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
    GatewayLogFactory(charge=charge, request_params={"token": "***"})
    return {
        "accounts": [juno, mycontas, asaas],
        "juno": juno,
        "mycontas": mycontas,
        "asaas": asaas,
        "customer": customer,
        "charge": charge,
    }


def admin_pages() -> list[str]:
    """Every page the admin serves by GET: the index, each app's list, and for each model its
    changelist, add page and own pages (imports, the CSV template...), and for each of its objects
    the change, history and delete pages, each object action's page and the printed slips."""
    pages = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        pages.append(reverse("admin:app_list", kwargs={"app_label": opts.app_label}))
        objects = list(model._default_manager.order_by("pk")[:OBJECTS_PER_MODEL])
        actions = [action.name for action in getattr(model_admin, "object_actions", ())]
        for pattern in model_admin.get_urls():
            if not pattern.name:
                continue
            keys = sorted(pattern.pattern.converters)
            if not keys:
                pages.append(reverse(f"admin:{pattern.name}"))
                continue
            for obj in objects:
                if len(keys) == 1:
                    pages.append(reverse(f"admin:{pattern.name}", kwargs={keys[0]: obj.pk}))
                elif keys == ["action_name", "object_id"]:
                    pages += [
                        reverse(f"admin:{pattern.name}", kwargs={"object_id": obj.pk, "action_name": name})
                        for name in actions
                    ]
    pages += [reverse("print:charge", args=[pk]) for pk in Charge.objects.values_list("pk", flat=True)]
    pages += [reverse("print:carne", args=[pk]) for pk in Carne.objects.values_list("pk", flat=True)]
    for app_label, model_name, field in (
        ("customers", "customer", "bank_account"),
        ("billing", "charge", "customer"),
    ):
        pages.append(
            reverse("admin:autocomplete")
            + f"?app_label={app_label}&model_name={model_name}&field_name={field}&term="
        )
    return list(dict.fromkeys(pages))
