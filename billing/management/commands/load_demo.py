"""``python manage.py load_demo``: demo data that shows every screen and every charge state.

One provider, a Juno sandbox account, the Mycontas test account and an Asaas sandbox account (all
pointing at the local simulators by default), 50 subscribers with valid CPFs/CNPJs in plausible
Brazilian towns, a charge in each state of the lifecycle (with its history) and a carnê. Built
directly with the models, so no gateway is called, except for one Asaas subscriber's título, left
pending and queued: the worker issues it through the Asaas simulator, which gives it its linha
digitável and PIX QR code. Idempotent: every row has a fixed key (document, reference, name) and is
only created when missing, so running it again changes nothing and never overwrites staff edits.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import demo as demo_accounts
from billing.labels import payment_source_label, payment_status_label
from billing.models import MONTH_BILLING_STATES, Carne, Charge, ChargeEvent, ChargeState, Payment
from billing.selectors.charges import unsettled_q
from billing.services import service_status
from billing.services.descriptions import default_carne_description
from core import queue
from core.documents import with_check_digits
from customers.models import BillingType, Customer
from gateways.brazil import barcode, linha_digitavel
from providers.models import MYCONTAS_TEST_ACCOUNT_CODE, BankAccount, Gateway, Provider

S = ChargeState
PROVIDER_NAME = "Vale Conectado Telecom Ltda"
JUNO_ACCOUNT_NAME = "Juno (sandbox)"
MYCONTAS_ACCOUNT_NAME = "Mycontas (teste)"
DEMO_SANDBOX_TOKEN = "demo-sandbox-token-0123456789ABCDEF"  # noqa: S105 - the simulator's demo account
MYCONTAS_TEST_PASSWORD = "teste123"  # noqa: S105 - Mycontas' published test password
CUSTOMER_COUNT = 50
CARNE_REFERENCE = "DEMO-CARNE-0001"

FIRST_NAMES = [
    "Ana", "João", "Maria", "José", "Francisca", "Antônio", "Adriana", "Carlos", "Juliana", "Paulo",
    "Márcia", "Lucas", "Fernanda", "Pedro", "Patrícia", "Rafael", "Aline", "Marcos", "Camila", "Tiago",
]  # fmt: skip
SURNAMES = [
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
    "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira", "Barbosa",
]  # fmt: skip
COMPANIES = [
    "Mercadinho Bom Preço",
    "Padaria Pão Quente",
    "Oficina Dois Irmãos",
    "Farmácia Saúde",
    "Pousada Serrana",
]
# (city, UF, CEP prefix, neighbourhoods)
TOWNS = [
    ("Poços de Caldas", "MG", "37701", ["Centro", "Jardim dos Estados", "Vila Cruz"]),
    ("Pouso Alegre", "MG", "37550", ["Centro", "São Geraldo", "Fátima"]),
    ("Campinas", "SP", "13010", ["Cambuí", "Taquaral", "Barão Geraldo"]),
    ("Ribeirão Preto", "SP", "14010", ["Centro", "Jardim Irajá", "Vila Tibério"]),
    ("Londrina", "PR", "86010", ["Centro", "Gleba Palhano", "Jardim Shangri-lá"]),
    ("Feira de Santana", "BA", "44001", ["Centro", "Kalilândia", "Tomba"]),
]
STREETS = ["Rua Sete de Setembro", "Avenida Brasil", "Rua das Acácias", "Rua Tiradentes", "Rua Dom Pedro II"]
PLANS = [Decimal("79.90"), Decimal("99.90"), Decimal("119.90"), Decimal("149.90")]


def make_cpf(rng: random.Random) -> str:
    return with_check_digits("".join(str(rng.randint(0, 9)) for _ in range(9)))


def make_cnpj(rng: random.Random) -> str:
    return with_check_digits("".join(str(rng.randint(0, 9)) for _ in range(8)) + "0001")


@dataclass(frozen=True)
class DemoCharge:
    """One demo título: the path it took through the lifecycle, and how far from today it is due."""

    reference: str
    path: tuple[str, ...]
    due_in_days: int
    error: str = ""


OVERDUE_REFERENCE = "DEMO-OVERDUE-01"

# Each path starts at pending and follows billing.services.transitions.ALLOWED.
DEMO_CHARGES = [
    DemoCharge("DEMO-PENDING-01", (S.PENDING,), 12),
    DemoCharge("DEMO-ISSUING-01", (S.PENDING, S.ISSUING), 12),
    DemoCharge("DEMO-ISSUED-01", (S.PENDING, S.ISSUING, S.ISSUED), 8),
    DemoCharge("DEMO-ISSUED-02", (S.PENDING, S.ISSUING, S.ISSUED), -6),
    DemoCharge(
        "DEMO-UNKNOWN-01",
        (S.PENDING, S.ISSUING, S.UNKNOWN),
        10,
        "Sem resposta do gateway em 30 s; a cobrança é consultada no gateway e só é enviada de novo "
        "se ficar comprovado que ela não existe lá.",
    ),
    DemoCharge(
        "DEMO-FAILED-01",
        (S.PENDING, S.ISSUING, S.FAILED),
        10,
        "Valor da cobrança deve estar entre R$ 2,50 e R$ 1.000.000,00",
    ),
    DemoCharge("DEMO-CANCELREQ-01", (S.PENDING, S.ISSUING, S.ISSUED, S.CANCEL_REQUESTED), 15),
    DemoCharge("DEMO-CANCELLED-01", (S.PENDING, S.ISSUING, S.ISSUED, S.CANCEL_REQUESTED, S.CANCELLED), 5),
    DemoCharge("DEMO-CANCELLED-02", (S.PENDING, S.CANCELLED), 20),
    DemoCharge("DEMO-PAID-01", (S.PENDING, S.ISSUING, S.ISSUED, S.PAID), -20),
    DemoCharge("DEMO-PAID-02", (S.PENDING, S.ISSUING, S.ISSUED, S.PAID), -50),
    DemoCharge("DEMO-REFUNDED-01", (S.PENDING, S.ISSUING, S.ISSUED, S.PAID, S.REFUNDED), -35),
    # Past the 15-day overdue limit: the overdue pass at the end blocks its customer.
    DemoCharge(OVERDUE_REFERENCE, (S.PENDING, S.ISSUING, S.ISSUED), -20),
    DemoCharge("DEMO-WRITTENOFF-01", (S.PENDING, S.ISSUING, S.ISSUED, S.WRITTEN_OFF), -40),
]
MYCONTAS_CHARGES = [
    DemoCharge("DEMO-MYCONTAS-01", (S.PENDING, S.ISSUING, S.ISSUED), 9),
    DemoCharge("DEMO-MYCONTAS-02", (S.PENDING,), 14),
]


class Command(BaseCommand):
    help = (
        "Create demo data (provider, accounts, 50 customers, a charge in every state, a carnê). Idempotent."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="Random seed for names and documents.")

    def handle(self, *args: Any, **options: Any) -> None:
        created: dict[str, int] = {}
        with transaction.atomic():
            Provider.objects.get_or_create(
                name=PROVIDER_NAME,
                defaults={
                    "document": "11222333000181",
                    "email": "financeiro@valeconectado.com.br",
                    "radius_default_group": "plano-fibra",
                },
            )
            juno, mycontas = self._accounts(created)
            customers = self._customers(random.Random(options["seed"]), juno, mycontas, created)
            self._charges(customers, created)
            self._carne(customers, created)
            self._asaas(created)
        # What the daily overdue pass would do: the customer of DEMO-OVERDUE-01 is blocked.
        result = service_status.overdue_pass()
        created["customers blocked"] = result.blocked if result else 0
        self.stdout.write(self.style.SUCCESS(demo_summary()))
        names = {
            "bank accounts": BankAccount._meta.verbose_name_plural,
            "customers": Customer._meta.verbose_name_plural,
            "charges": Charge._meta.verbose_name_plural,
            "carnês": Carne._meta.verbose_name_plural,
            "customers blocked": _("customers blocked for overdue charges"),
        }
        made = [f"{count} {names.get(key, key)}" for key, count in created.items() if count]
        if made:
            self.stdout.write(_("Created now: %(items)s.") % {"items": ", ".join(made)})
        else:
            self.stdout.write(_("Nothing created now: the demo data was already there."))

    # --- accounts and customers ------------------------------------------------------------------
    def _accounts(self, created: dict[str, int]) -> tuple[BankAccount, BankAccount]:
        juno, new_juno = BankAccount.objects.get_or_create(
            name=JUNO_ACCOUNT_NAME,
            defaults={
                "gateway": Gateway.JUNO,
                "cedente": "VALE CONECTADO TELECOM <br> BoletoBancario.com",
                "sandbox_token": DEMO_SANDBOX_TOKEN,
                "state": "MG",
                "pass_customer_email": True,
            },
        )
        mycontas, new_mycontas = BankAccount.objects.get_or_create(
            name=MYCONTAS_ACCOUNT_NAME,
            defaults={
                "gateway": Gateway.MYCONTAS,
                "cedente": "VALE CONECTADO TELECOM",
                "account_code": MYCONTAS_TEST_ACCOUNT_CODE,
                "account_password": MYCONTAS_TEST_PASSWORD,
                "state": "MG",
            },
        )
        created["bank accounts"] = int(new_juno) + int(new_mycontas)
        return juno, mycontas

    def _customers(
        self, rng: random.Random, juno: BankAccount, mycontas: BankAccount, created: dict[str, int]
    ) -> list[Customer]:
        customers = []
        created["customers"] = 0
        for number in range(CUSTOMER_COUNT):
            company = number % 10 == 9
            document = make_cnpj(rng) if company else make_cpf(rng)
            first, surname, other = rng.choice(FIRST_NAMES), rng.choice(SURNAMES), rng.choice(SURNAMES)
            name = (
                f"{COMPANIES[number // 10 % len(COMPANIES)]} Ltda"
                if company
                else f"{first} {surname} {other}"
            )
            city, uf, cep, neighbourhoods = TOWNS[number % len(TOWNS)]
            slug = name.split()[0].lower().encode("ascii", "ignore").decode() or "cliente"
            customer, new = Customer.objects.get_or_create(
                document=document,
                defaults={
                    "name": name,
                    "radius_username": f"{slug}{number:02d}",
                    "email": f"{slug}.{number:02d}@example.com.br",
                    "mobile": f"({rng.randint(11, 99)}) 9{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                    "street": rng.choice(STREETS),
                    "number": str(rng.randint(10, 2500)),
                    "neighborhood": rng.choice(neighbourhoods),
                    "city": city,
                    "state": uf,
                    "postcode": f"{cep}{rng.randint(0, 999):03d}",
                    "bank_account": mycontas if number % 3 == 2 else juno,
                    "plan_amount": rng.choice(PLANS),
                    "due_day": rng.choice([5, 10, 15, 20, 25, 31]),
                    "billing_type": BillingType.CARNE if number % 4 == 3 else BillingType.TITULO,
                },
            )
            created["customers"] += int(new)
            customers.append(customer)
        return customers

    # --- charges ---------------------------------------------------------------------------------
    def _charges(self, customers: list[Customer], created: dict[str, int]) -> None:
        juno_titulos = [c for c in customers if c.billing_type == BillingType.TITULO and not _is_mycontas(c)]
        mycontas_titulos = [c for c in customers if c.billing_type == BillingType.TITULO and _is_mycontas(c)]
        created["charges"] = 0
        for demo, customer in [
            *zip(DEMO_CHARGES, juno_titulos, strict=False),
            *zip(MYCONTAS_CHARGES, mycontas_titulos, strict=False),
        ]:
            if Charge.objects.filter(reference=demo.reference).exists():
                continue
            due_date = timezone.localdate() + dt.timedelta(days=demo.due_in_days)
            month = due_date.replace(day=1)
            charge = Charge.objects.create(
                reference=demo.reference,
                customer=customer,
                bank_account=customer.bank_account,
                billing_month=month,
                month_claim=month if demo.path[-1] in MONTH_BILLING_STATES else None,
                amount=customer.plan_amount,
                due_date=due_date,
                description="Internet [MES]/[ANO]\nPlano fibra",
                state=demo.path[-1],
                error_message=demo.error,
                issue_attempts=int(S.ISSUING in demo.path),
                paid_after_cancel=False,
            )
            if S.ISSUED in demo.path:
                _mark_issued(charge)
            _record_history(charge, demo.path, demo.error)
            if S.PAID in demo.path:
                _record_payment(charge, refunded=demo.path[-1] == S.REFUNDED)
            created["charges"] += 1

    def _asaas(self, created: dict[str, int]) -> None:
        """The Asaas sandbox account (fixed public id: the simulator's webhook names it) and one
        subscriber with a pending título, queued for the worker to issue through the simulator."""
        account, new = BankAccount.objects.get_or_create(
            name=demo_accounts.ASAAS_ACCOUNT_NAME,
            defaults={
                "gateway": Gateway.ASAAS,
                "public_id": demo_accounts.ASAAS_PUBLIC_ID,
                "cedente": "VALE CONECTADO TELECOM",
                "sandbox_token": demo_accounts.ASAAS_API_KEY,
                "webhook_token": demo_accounts.ASAAS_WEBHOOK_TOKEN,
                "state": "MG",
            },
        )
        created["bank accounts"] = created.get("bank accounts", 0) + int(new)
        customer, new_customer = Customer.objects.get_or_create(
            document="39053344705",
            defaults={
                "name": "Beatriz Pix Moreira",
                "email": "beatriz.pix@example.com.br",
                "mobile": "(31) 98765-4321",
                "street": "Rua da Bahia",
                "number": "1148",
                "neighborhood": "Centro",
                "city": "Belo Horizonte",
                "state": "MG",
                "postcode": "30160011",
                "bank_account": account,
                "plan_amount": Decimal("99.90"),
                "due_day": 10,
                "billing_type": BillingType.TITULO,
            },
        )
        created["customers"] = created.get("customers", 0) + int(new_customer)
        if Charge.objects.filter(reference=demo_accounts.ASAAS_CHARGE_REFERENCE).exists():
            return
        due_date = timezone.localdate() + dt.timedelta(days=10)
        charge = Charge.objects.create(
            reference=demo_accounts.ASAAS_CHARGE_REFERENCE,
            customer=customer,
            bank_account=account,
            billing_month=due_date.replace(day=1),
            amount=customer.plan_amount,
            due_date=due_date,
            description="Internet [MES]/[ANO]\nPlano fibra",
            state=S.PENDING,
        )
        _record_history(charge, (S.PENDING,), "")
        created["charges"] = created.get("charges", 0) + 1
        queue.enqueue(queue.ISSUE_CHARGE, charge.pk)

    def _carne(self, customers: list[Customer], created: dict[str, int]) -> None:
        if Carne.objects.filter(reference=CARNE_REFERENCE).exists():
            created["carnês"] = 0
            return
        customer = next(c for c in customers if c.billing_type == BillingType.CARNE and not _is_mycontas(c))
        today = timezone.localdate()
        first_due = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=10)
        carne = Carne.objects.create(
            reference=CARNE_REFERENCE,
            customer=customer,
            bank_account=customer.bank_account,
            installments=6,
            amount=customer.plan_amount,
            first_due_date=first_due,
            installment_link=f"{_simulator_origin()}/carne/{CARNE_REFERENCE}",
        )
        # Juno prints one description on every installment: what it says is true of each of them.
        description = default_carne_description(
            gateway=customer.bank_account.gateway,
            first_month=first_due.replace(day=1),
            last_month=_add_months(first_due, carne.installments - 1).replace(day=1),
        )
        for number in range(1, carne.installments + 1):
            due_date = _add_months(first_due, number - 1)
            path = (
                (S.PENDING, S.ISSUING, S.ISSUED, S.PAID) if number == 1 else (S.PENDING, S.ISSUING, S.ISSUED)
            )
            charge = Charge.objects.create(
                reference=f"{carne.reference}-{number:02d}",
                customer=customer,
                bank_account=carne.bank_account,
                carne=carne,
                installment_number=number,
                amount=carne.amount,
                due_date=due_date,
                billing_month=due_date.replace(day=1),
                month_claim=due_date.replace(day=1),
                description=description,
                state=path[-1],
                issue_attempts=1,
                installment_link=carne.installment_link,
            )
            _mark_issued(charge)
            _record_history(charge, path, "")
            if number == 1:
                _record_payment(charge, refunded=False)
        created["charges"] += carne.installments
        created["carnês"] = 1


def demo_summary() -> str:
    """What the admin's lists show: every charge (carnê installments included) and how many of them
    the charge list opens on (the open ones), every customer."""
    charges = Charge.objects.count()
    return _(
        "Demo data ready: %(charges)d charges (%(open)d of them open, which the charge list opens on; "
        "%(installments)d installments of %(carnes)d carnê), %(customers)d customers, "
        "%(accounts)d bank accounts."
    ) % {
        "charges": charges,
        "open": Charge.objects.filter(unsettled_q()).count(),
        "installments": Charge.objects.filter(carne__isnull=False).count(),
        "carnes": Carne.objects.count(),
        "customers": Customer.objects.count(),
        "accounts": BankAccount.objects.count(),
    }


def _is_mycontas(customer: Customer) -> bool:
    return customer.bank_account.gateway == Gateway.MYCONTAS


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    return day.replace(year=day.year + year, month=month + 1)


def _simulator_origin() -> str:
    base = settings.JUNO_SANDBOX_BASE_URL
    return base.split("/boletofacil", 1)[0].rstrip("/")


def _mark_issued(charge: Charge) -> None:
    """What the gateway would have answered: code, boleto link, barcode and linha digitável."""
    code = _code_for(charge.reference)
    free_field = f"{int(code):025d}"[-25:]
    bar = barcode(bank="341", due_date=charge.due_date, amount=charge.amount, free_field=free_field)
    charge.gateway_code = code
    charge.our_number = code[-8:]
    charge.barcode = bar
    charge.linha_digitavel = linha_digitavel(bar)
    charge.gateway_bank_account = "Itaú"
    if charge.bank_account.gateway == Gateway.MYCONTAS:
        charge.link = f"{settings.MYCONTAS_URL.rstrip('/')}/boleto/{code}"
    else:
        charge.link = f"{_simulator_origin()}/boleto/{code}"
        charge.checkout_url = f"{_simulator_origin()}/checkout/{code}"
    charge.save()


def _code_for(reference: str) -> str:
    """A stable numeric gateway code per reference (Python's hash() changes between runs)."""
    total = 0
    for char in reference:
        total = (total * 131 + ord(char)) % 10**9
    return f"{total:09d}"


def _record_history(charge: Charge, path: tuple[str, ...], error: str) -> None:
    """One ChargeEvent per step, spread over the days before now, as the services would write them."""
    now = timezone.now()
    # The reasons the services write, in the installation's language.
    payment = _("Gateway payment %(id)s: %(status)s (%(source)s)")
    labels: dict[str, tuple[str, str, str]] = {
        S.PENDING: ("", "load_demo", _("Created")),
        S.ISSUING: ("issue", "", _("Sending to the gateway")),
        S.ISSUED: ("issue", "", _("Issued by the gateway")),
        S.UNKNOWN: ("issue", "", error),
        S.FAILED: ("issue", "", error),
        S.CANCEL_REQUESTED: ("admin", "", "Cliente pediu o cancelamento"),  # typed by staff
        S.CANCELLED: ("cancel", "", _("Cancelled at the gateway")),
        S.PAID: (
            "notification",
            "",
            payment
            % {
                "id": f"DEMO-PAY-{charge.reference}",
                "status": payment_status_label("CONFIRMED"),
                "source": payment_source_label("notification"),
            },
        ),
        S.REFUNDED: (
            "notification",
            "",
            payment
            % {
                "id": f"DEMO-PAY-{charge.reference}",
                "status": payment_status_label("CHARGEBACK"),
                "source": payment_source_label("notification"),
            },
        ),
        S.WRITTEN_OFF: (
            "write_off",
            "",
            _(
                "Written off: unpaid %(days)d day(s) after its due date %(due)s (the bank account's days "
                "to write off)"
            )
            % {"days": charge.bank_account.days_to_write_off, "due": charge.due_date.strftime("%d/%m/%Y")},
        ),
    }
    previous = ""
    for step, state in enumerate(path):
        actor_label, fallback_label, reason = labels[state]
        event = ChargeEvent.objects.create(
            charge=charge,
            from_state=previous,
            to_state=state,
            actor_label=actor_label or fallback_label,
            reason=reason,
        )
        at = now - dt.timedelta(days=len(path) - step, minutes=7 * step)
        ChargeEvent.objects.filter(pk=event.pk).update(at=at)
        previous = state
    Charge.objects.filter(pk=charge.pk).update(state_changed_at=now - dt.timedelta(days=1))


def _record_payment(charge: Charge, *, refunded: bool) -> None:
    paid_on = min(charge.due_date, timezone.localdate())
    Payment.objects.get_or_create(
        gateway=charge.bank_account.gateway,
        gateway_payment_id=f"DEMO-PAY-{charge.reference}",
        defaults={
            "charge": charge,
            "amount": charge.amount,
            "paid_on": paid_on,
            "fee": Decimal("2.50"),
            "type": "BOLETO",
            "status": "CHARGEBACK" if refunded else "CONFIRMED",
            "source": "notification",
            "raw": {"demo": True},
        },
    )
