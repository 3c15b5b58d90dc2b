"""Descriptions say what they mean, per gateway: its own limits (nothing dropped silently), and
[MES], [ANO], [PARCELA] doing exactly what the help texts (English and pt-BR) say."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import translation

from billing.forms import IssueCarneForm, IssueChargeForm
from billing.models import Charge, GatewayLog
from billing.services import charges as svc
from billing.services.dates import add_months
from billing.services.descriptions import description_problems, printed_lines
from core.dates import today
from core.errors import ApplicationError
from tests import factories
from tests.billing.fakes import FakeGateway
from tests.gateways.conftest import mycontas_sim  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def juno(monkeypatch):
    fake = FakeGateway()
    monkeypatch.setattr(svc, "gateway_for", lambda account, charge_id=None: fake)
    return fake


def due() -> dt.date:
    return add_months(today().replace(day=1), 2).replace(day=10)


def titulo(customer, description):
    return svc.charge_create(
        customer=customer, amount=Decimal("99.90"), due_date=due(), description=description, enqueue=False
    )


def carne(customer, description, installments=3):
    return svc.carne_create(
        customer=customer,
        installments=installments,
        amount=Decimal("99.90"),
        first_due_date=due(),
        description=description,
        enqueue=False,
    )


# --- Juno ------------------------------------------------------------------------------------------
def test_juno_titulo_prints_the_due_month_year_and_installment_one(customer, juno):
    svc.charge_issue(charge_id=titulo(customer, "Internet [MES]/[ANO]\nParcela [PARCELA]").pk)
    (request,) = juno.requests
    assert request.description_lines == (f"Internet {due():%m/%Y}", "Parcela 1")


def test_juno_refuses_what_it_cannot_print_instead_of_cutting_it(customer):
    with pytest.raises(ApplicationError, match="5 lines; Juno / Boleto Fácil prints at most 4"):
        titulo(customer, "1\n2\n3\n4\n5")
    with pytest.raises(ApplicationError, match="401 characters"):
        titulo(customer, "x" * 401)
    assert not Charge.objects.exists()


def test_a_juno_carne_may_not_use_the_tags_its_one_description_cannot_keep_true(customer, juno):
    with pytest.raises(ApplicationError, match="same value on each boleto"):
        carne(customer, "Internet [MES]/[ANO] - parcela [PARCELA]")
    made = carne(customer, "Internet fibra")
    svc.charge_issue(charge_id=made.installment_charges.get(installment_number=1).pk)
    assert juno.requests[0].description_lines == ("Internet fibra",)


# --- Mycontas --------------------------------------------------------------------------------------
def test_mycontas_carne_sends_the_tags_untouched_so_each_installment_prints_its_own(
    mycontas_account,
    mycontas_sim,  # noqa: F811
):
    mycontas_sim.add_account(mycontas_account.account_code, mycontas_account.account_password)
    customer = factories.CustomerFactory(bank_account=mycontas_account)
    made = carne(customer, "Internet [MES]/[ANO]\nParcela [PARCELA] de 3")
    svc.charge_issue(charge_id=made.installment_charges.get(installment_number=1).pk)
    sent = GatewayLog.objects.get(endpoint="servicoweb").request_params
    assert (sent["txtDescricao1"], sent["txtDescricao2"]) == (
        "Internet [MES]/[ANO]",
        "Parcela [PARCELA] de 3",
    )
    assert sent["txtParcelasCarne"] == "3"


def test_mycontas_prints_five_lines_of_80_and_refuses_more(mycontas_account):
    customer = factories.CustomerFactory(bank_account=mycontas_account)
    five = "\n".join(f"Linha {n} " + "x" * 72 for n in range(1, 6))
    assert titulo(customer, five).description == five  # the fifth line is kept, not dropped
    with pytest.raises(ApplicationError, match="6 lines; Mycontas prints at most 5"):
        titulo(customer, five + "\nsexta")
    with pytest.raises(ApplicationError, match="Line 1 has 81 characters"):
        titulo(customer, "y" * 81)


def test_the_portal_shows_what_each_gateway_prints():
    issued_on = dt.date(2026, 11, 20)
    kwargs = {"due_date": dt.date(2027, 1, 10), "installment": 3, "issued_on": issued_on}
    text = "Internet [MES]/[ANO] parcela [PARCELA]"
    assert printed_lines(text, gateway="juno", **kwargs) == ("Internet 01/2027 parcela 3",)
    assert printed_lines(text, gateway="mycontas", **kwargs) == ("Internet 11/2026 parcela 3",)


# --- the help texts, in both languages, say exactly that -------------------------------------------
@pytest.mark.parametrize(
    ("form_class", "gateway", "label", "english", "portuguese"),
    [
        (IssueChargeForm, "juno", "Juno", "month and year of each boleto's due date", "vencimento"),
        (IssueCarneForm, "juno", "Juno", "cannot be used", "não podem ser usados"),
        (IssueChargeForm, "mycontas", "Mycontas", "month and year it issues each boleto", "emite"),
        (IssueCarneForm, "mycontas", "Mycontas", "installment's number", "número da parcela"),
    ],
)
def test_help_texts_per_gateway_in_english_and_portuguese(form_class, gateway, label, english, portuguese):
    help_text = form_class(gateway=gateway, gateway_label=label).fields["description"].help_text
    assert english in help_text
    with translation.override("pt-br"):
        translated = form_class(gateway=gateway, gateway_label=label).fields["description"].help_text
    assert portuguese in translated and translated != help_text


def test_the_demos_descriptions_are_true_on_their_gateway(capsys):
    call_command("load_demo")
    for charge in Charge.objects.select_related("bank_account", "carne"):
        installments = charge.carne.installments if charge.carne else 1
        assert not description_problems(
            charge.description,
            gateway=charge.bank_account.gateway,
            gateway_label=charge.bank_account.get_gateway_display(),
            installments=installments,
        ), charge.reference
    carne_texts = set(Charge.objects.filter(carne__isnull=False).values_list("description", flat=True))
    assert len(carne_texts) == 1  # one description for every installment, as Juno prints it
