"""factory-boy factories shared by every test module."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from billing.models import Carne, Charge, ChargeState, GatewayLog
from core.dates import today
from core.documents import with_check_digits
from customers.models import BillingType, Customer
from gateways.base import PaymentDetails
from providers.models import BankAccount, Gateway, Provider

_cpf_counter = itertools.count(100000000)


def make_cpf(seed: int) -> str:
    """A valid CPF built from a 9-digit seed (check digits computed)."""
    return with_check_digits(f"{seed:09d}"[-9:])


def make_cnpj(seed: int) -> str:
    """A valid CNPJ (head office, branch 0001) built from an 8-digit seed."""
    return with_check_digits(f"{seed:08d}"[-8:] + "0001")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    is_staff = True

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or "s3cret-pass!")
        if create:
            self.save(update_fields=["password"])


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    name = "Provedor Exemplo Ltda"


class _BankAccountFactory(factory.django.DjangoModelFactory):
    """An account at one gateway; each gateway's factory below fills in its name and credentials."""

    class Meta:
        model = BankAccount

    name = factory.LazyAttributeSequence(lambda o, n: f"{o.gateway.title()} {n}")  # "Juno 3"
    state = "SP"


class _FinedAccountFactory(_BankAccountFactory):
    """What the Juno and Asaas accounts share: late boletos carry a 2 % fine and 0.033 % a day of
    interest, and can be updated up to 29 days after their due date."""

    fine_percent = Decimal("2.00")
    daily_interest_percent = Decimal("0.033")
    max_days_to_update = 29


class JunoAccountFactory(_FinedAccountFactory):
    gateway = Gateway.JUNO
    cedente = "PROVEDOR EXEMPLO <br> BoletoBancario.com"
    token = "PROD-TOKEN-0123456789ABCDEF"
    sandbox_token = "SANDBOX-TOKEN-FEDCBA9876543210"


class AsaasAccountFactory(_FinedAccountFactory):
    """An Asaas sandbox account (the tests point the sandbox URL at the simulator)."""

    gateway = Gateway.ASAAS
    token = "$aact_prod_factory-production-key"
    sandbox_token = "$aact_hmlg_factory-sandbox-key"
    webhook_token = "factory-webhook-token-0001"


class MycontasAccountFactory(_BankAccountFactory):
    gateway = Gateway.MYCONTAS
    account_code = "1234567890ABCDEFGHIJ"
    account_password = "teste123"
    state = "MG"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Cliente {n}")
    document = factory.LazyFunction(lambda: make_cpf(next(_cpf_counter)))
    email = factory.Sequence(lambda n: f"cliente{n}@example.com")
    phone = "11999990000"
    street = "Rua das Flores"
    number = "100"
    neighborhood = "Centro"
    city = "São Paulo"
    state = "SP"
    postcode = "01001000"
    bank_account = factory.SubFactory(JunoAccountFactory)
    plan_amount = Decimal("99.90")
    due_day = 10
    billing_type = BillingType.TITULO


class ChargeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Charge

    reference = factory.Sequence(lambda n: f"T-TEST{n:08d}")
    customer = factory.SubFactory(CustomerFactory)
    bank_account = factory.LazyAttribute(lambda o: o.customer.bank_account)
    amount = Decimal("99.90")
    due_date = factory.LazyFunction(lambda: dt.date(2026, 12, 10))
    billing_month = factory.LazyAttribute(lambda o: o.due_date.replace(day=1))
    description = "Internet [MES]/[ANO]"
    state = ChargeState.PENDING


class CarneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carne

    reference = factory.Sequence(lambda n: f"C-TEST{n:08d}")
    customer = factory.SubFactory(CustomerFactory)
    bank_account = factory.LazyAttribute(lambda o: o.customer.bank_account)
    installments = 3
    amount = Decimal("99.90")
    first_due_date = dt.date(2026, 12, 10)


class PaymentDetailsFactory(factory.Factory):
    """A payment as a gateway reports it: confirmed, by boleto, of the plan's amount, paid today
    (São Paulo), without a fee."""

    class Meta:
        model = PaymentDetails

    payment_id = factory.Sequence(lambda n: f"{900000 + n}")
    amount = Decimal("99.90")
    date = factory.LazyFunction(today)
    fee = Decimal(0)
    type = "BOLETO"
    status = PaymentDetails.CONFIRMED


class GatewayLogFactory(factory.django.DjangoModelFactory):
    """One successful exchange with the charge's gateway (a charge issued)."""

    class Meta:
        model = GatewayLog

    charge = factory.SubFactory(ChargeFactory)
    bank_account = factory.LazyAttribute(lambda o: o.charge.bank_account)
    gateway = factory.LazyAttribute(lambda o: o.bank_account.gateway)
    endpoint = "issue-charge"
    url = "https://x/"
    outcome = "ok"
