"""What the gateway answers is what we store; options a gateway cannot honour are refused."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import translation

from billing.forms import IssueCarneForm
from billing.models import ChargeState
from billing.services import charges as svc
from billing.services.amounts import charge_amount_due
from billing.services.dates import add_months
from core.dates import today
from core.errors import ApplicationError
from providers import migrations
from providers.forms import BankAccountForm
from tests import factories
from tests.billing.fakes import FakeGateway

S = ChargeState
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def gateway(monkeypatch):
    fake = FakeGateway()
    monkeypatch.setattr(svc, "gateway_for", lambda account, charge_id=None: fake)
    return fake


def first_due() -> dt.date:
    return add_months(today().replace(day=1), 1).replace(day=10)


def test_the_gateways_due_dates_and_amount_are_kept_per_installment_and_said(customer, gateway):
    gateway.answer_due_shift, gateway.answer_amount = 2, Decimal("99.95")
    carne = svc.carne_create(
        customer=customer,
        installments=3,
        amount=Decimal("99.90"),
        first_due_date=first_due(),
        description="Internet",
        enqueue=False,
    )
    asked = list(carne.installment_charges.order_by("installment_number").values_list("due_date", flat=True))
    svc.charge_issue(charge_id=carne.installment_charges.get(installment_number=1).pk)
    for number, installment in enumerate(carne.installment_charges.order_by("installment_number")):
        assert installment.state == S.ISSUED
        assert installment.due_date == asked[number] + dt.timedelta(days=2)
        assert installment.amount == Decimal("99.95")
        reason = installment.events.get(to_state=S.ISSUED).reason
        assert asked[number].strftime("%d/%m/%Y") in reason and "99.95" in reason
        assert "gateway's terms are kept" in reason


def test_what_the_gateway_confirms_leaves_no_note(customer, gateway):
    charge = svc.charge_issue(
        charge_id=svc.charge_create(
            customer=customer, amount=Decimal("50"), due_date=first_due(), description="x", enqueue=False
        ).pk
    )
    assert "terms" not in charge.events.get(to_state=S.ISSUED).reason


# --- "last day of the month": Mycontas has it, Juno does not --------------------------------------
def test_a_juno_carne_on_month_ends_is_refused_with_a_clear_message(customer):
    with pytest.raises(ApplicationError, match="last day of the month"):
        svc.carne_create(
            customer=customer,
            installments=3,
            amount=Decimal("50"),
            first_due_date=first_due(),
            description="Internet",
            last_day_of_month=True,
            enqueue=False,
        )
    assert "last_day_of_month" not in IssueCarneForm(gateway="juno", gateway_label="Juno").fields


def test_a_mycontas_carne_keeps_month_ends(mycontas_account):
    customer = factories.CustomerFactory(bank_account=mycontas_account)
    carne = svc.carne_create(
        customer=customer,
        installments=3,
        amount=Decimal("50"),
        first_due_date=first_due(),
        description="Internet",
        last_day_of_month=True,
        enqueue=False,
    )
    dues = list(carne.installment_charges.order_by("installment_number").values_list("due_date", flat=True))
    assert dues[0] == first_due() and all((d + dt.timedelta(days=1)).day == 1 for d in dues[1:])
    assert svc._request_for(list(carne.installment_charges.order_by("installment_number"))).last_day_of_month
    assert "last_day_of_month" in IssueCarneForm(gateway="mycontas", gateway_label="Mycontas").fields


# --- contra-apresentação: refused for Juno ---------------------------------------------------------
def account_data(gateway: str, **overrides) -> dict:
    data = {
        "name": "Conta",
        "gateway": gateway,
        "token": "PROD-TOKEN-0123456789",
        "account_code": "KyU3Gp18fgU3TDFyidr9",
        "account_password": "senha",
        "contra_apresentacao": "on",
        "max_days_to_update": "29",
        "fine_percent": "2.00",
        "daily_interest_percent": "0.033",
        "days_to_write_off": "15",
        "next_remessa_number": "1",
        "document_kind": "10",
        "requests_per_second": "10",
        "active": "on",
    }
    data.update(overrides)
    return data


def test_contra_apresentacao_is_refused_for_juno_and_kept_for_mycontas():
    juno = BankAccountForm(data=account_data("juno"))
    assert not juno.is_valid()
    assert "contra-apresentação" in str(juno.errors["contra_apresentacao"])
    mycontas = BankAccountForm(data=account_data("mycontas"))
    assert mycontas.is_valid(), mycontas.errors


def test_juno_accounts_with_the_flag_keep_what_their_boletos_did():
    """The migration: the flag goes, 29 days to accept late payment (what was sent) stay."""
    juno = factories.JunoAccountFactory(contra_apresentacao=True, max_days_to_update=10)
    mycontas = factories.MycontasAccountFactory(contra_apresentacao=True, max_days_to_update=10)
    (name,) = [
        m.name for m in pkgutil.iter_modules(migrations.__path__) if m.name.endswith("_contra_apresentacao")
    ]
    migration = importlib.import_module(f"providers.migrations.{name}")
    migration.juno_without_contra_apresentacao(django_apps, None)
    juno.refresh_from_db(), mycontas.refresh_from_db()
    assert (juno.contra_apresentacao, juno.max_days_to_update) == (False, 29)
    assert (mycontas.contra_apresentacao, mycontas.max_days_to_update) == (True, 10)


def test_the_portal_of_a_juno_boleto_tells_its_due_date_and_late_fees(client, juno_account):
    customer = factories.CustomerFactory(bank_account=juno_account)
    charge = factories.ChargeFactory(
        customer=customer,
        state=S.ISSUED,
        due_date=today() - dt.timedelta(days=3),
        link="",
        linha_digitavel="",
    )
    page = client.get(reverse("portal:page", args=[customer.portal_token])).context["page"]
    (item,) = page.open_charges
    assert item.has_due_date and item.overdue
    assert item.amount_due_today == charge_amount_due(charge) > charge.amount
