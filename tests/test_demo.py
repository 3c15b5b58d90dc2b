"""The demo: load_demo's data, the admin login it prints, and the process supervisor behind `make run`."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils.translation import gettext

from billing.models import Carne, Charge, ChargeEvent, ChargeState, Payment
from billing.selectors.charges import unsettled_q
from customers.documents import validate_document
from customers.models import BillingType, Customer
from gateways.brazil import is_valid_linha_digitavel
from providers.models import BankAccount, Gateway, Provider

BIN = Path(__file__).resolve().parent.parent / "bin"


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"bin_{name}", BIN / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_load_demo_creates_every_state_and_is_idempotent(capsys):
    call_command("load_demo")
    counts = {
        model: model.objects.count()
        for model in (Provider, BankAccount, Customer, Charge, ChargeEvent, Payment, Carne)
    }

    call_command("load_demo")

    assert {model: model.objects.count() for model in counts} == counts
    out = capsys.readouterr().out
    assert gettext("Nothing created now: the demo data was already there.") in out
    assert counts[Provider] == 1
    assert counts[Customer] == 51  # 50 subscribers and the Asaas one
    assert set(Charge.objects.values_list("state", flat=True)) == set(ChargeState.values)


@pytest.mark.django_db
def test_demo_summary_counts_what_the_charge_list_shows(capsys, client):
    from django.urls import reverse

    from tests.factories import UserFactory

    call_command("load_demo")
    client.force_login(UserFactory(is_superuser=True))
    url = reverse("admin:billing_charge_changelist")
    listed_open = client.get(url).context["cl"].result_count
    listed_all = client.get(url + "?situacao=todas").context["cl"].result_count

    out = capsys.readouterr().out
    charges = Charge.objects.count()
    installments = Charge.objects.filter(carne__isnull=False).count()
    assert installments > 0
    expected = gettext(
        "Demo data ready: %(charges)d charges (%(open)d of them open, which the charge list opens on; "
        "%(installments)d installments of %(carnes)d carnê), %(customers)d customers, "
        "%(accounts)d bank accounts."
    ) % {
        "charges": charges,
        "open": Charge.objects.filter(unsettled_q()).count(),
        "installments": installments,
        "carnes": Carne.objects.count(),
        "customers": Customer.objects.count(),
        "accounts": BankAccount.objects.count(),
    }
    assert expected in out
    assert (listed_all, listed_open) == (charges, Charge.objects.filter(unsettled_q()).count())
    created = gettext("Created now: %(items)s.") % {"items": ""}
    assert f"{charges} {Charge._meta.verbose_name_plural}" in out.split(created.rstrip("."))[1]


@pytest.mark.django_db
def test_demo_history_reads_in_words():
    from billing.labels import history_reason, process_label

    call_command("load_demo")

    for event in ChargeEvent.objects.all():
        assert process_label(event.actor_label) != event.actor_label or not event.actor_label
        assert "Issued at the gateway" not in event.reason and "CONFIRMED" not in event.reason
        assert history_reason(event.reason) == gettext(event.reason) if event.reason else True


@pytest.mark.django_db
def test_demo_accounts_point_at_the_sandbox_and_the_mycontas_test_account():
    call_command("load_demo")

    juno = BankAccount.objects.get(gateway=Gateway.JUNO)
    mycontas = BankAccount.objects.get(gateway=Gateway.MYCONTAS)
    assert juno.sandbox_token.startswith("demo-sandbox-token") and juno.is_sandbox
    assert (mycontas.account_code, mycontas.account_password) == ("1234567890ABCDEFGHIJ", "teste123")
    assert mycontas.is_sandbox
    asaas = BankAccount.objects.get(gateway=Gateway.ASAAS)
    assert asaas.is_sandbox and asaas.public_id == "demo-asaas-sandbox" and asaas.webhook_token


@pytest.mark.django_db
def test_demo_customers_are_valid_and_mixed():
    call_command("load_demo")

    customers = list(Customer.objects.select_related("bank_account"))
    for customer in customers:
        validate_document(customer.document)
        assert len(customer.postcode) == 8 and customer.city and customer.state
    assert {c.billing_type for c in customers} == {BillingType.TITULO, BillingType.CARNE}
    assert {c.bank_account.gateway for c in customers} == {Gateway.JUNO, Gateway.MYCONTAS, Gateway.ASAAS}
    assert any(c.is_company for c in customers) and any(not c.is_company for c in customers)


@pytest.mark.django_db
def test_demo_charges_have_a_consistent_history_and_payments():
    call_command("load_demo")

    for charge in Charge.objects.prefetch_related("events"):
        events = list(charge.events.order_by("at", "id"))
        assert events[0].from_state == "" and events[0].to_state == ChargeState.PENDING
        assert events[-1].to_state == charge.state
        for before, after in zip(events, events[1:], strict=False):
            assert after.from_state == before.to_state
        if charge.state in (ChargeState.ISSUED, ChargeState.PAID, ChargeState.CANCEL_REQUESTED):
            assert is_valid_linha_digitavel(charge.linha_digitavel), charge.reference
        if charge.state in (ChargeState.PAID, ChargeState.REFUNDED):
            assert charge.payments.count() == 1
    carne = Carne.objects.get()
    assert carne.installment_charges.count() == carne.installments


@pytest.mark.django_db
def test_ensure_admin_keeps_one_password_across_runs(tmp_path, monkeypatch, capsys):
    from django.contrib.auth import get_user_model

    script = load_script("ensure_admin")
    monkeypatch.setattr(script, "PASSWORD_FILE", tmp_path / "admin-password")

    script.main()
    first = (tmp_path / "admin-password").read_text().strip()
    script.main()

    assert (tmp_path / "admin-password").read_text().strip() == first
    assert (tmp_path / "admin-password").stat().st_mode & 0o077 == 0
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(first)
    assert capsys.readouterr().out.count(first) == 2


def test_banner_waits_until_the_servers_have_finished_starting(capsys):
    dev = load_script("dev")
    script = (
        "import time\n"
        "for n in range(5):\n"
        "    print('starting', n, flush=True); time.sleep(0.2)\n"
        "print('celery@host ready.', flush=True)\n"
        "time.sleep(30)\n"
    )
    worker = dev.Child("worker", [sys.executable, "-c", script], ready_marker=" ready.")
    supervisor = dev.Supervisor([worker], colour=False)
    supervisor.start()
    try:
        dev.wait_until_settled(supervisor, quiet=0.5, timeout=20)
        supervisor.say("dev", "BANNER")
    finally:
        supervisor.stopping.set()
        supervisor.stop()
    out = capsys.readouterr().out
    assert out.index("BANNER") > out.index("celery@host ready.") > out.index("starting 4")


def test_banner_names_the_admin_login(tmp_path, monkeypatch):
    dev = load_script("dev")
    (tmp_path / "admin-password").write_text("s3nha\n")
    monkeypatch.setattr(dev, "VAR_DIR", tmp_path)
    assert "user 'admin', password 's3nha'" in dev.banner()


def test_supervisor_stops_everything_when_one_child_dies():
    dev = load_script("dev")
    sleeper = dev.Child("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
    quitter = dev.Child("quitter", [sys.executable, "-c", "import time; time.sleep(0.5); print('bye')"])
    supervisor = dev.Supervisor([sleeper, quitter], colour=False)

    started = time.monotonic()
    supervisor.start()
    supervisor.watch()
    supervisor.stop()

    assert time.monotonic() - started < 15
    assert sleeper.process.poll() is not None
    assert supervisor.exit_code != 0


@pytest.mark.django_db
def test_the_demo_has_an_overdue_customer_blocked_with_its_history():
    from customers.models import CustomerStatus, StatusChange

    call_command("load_demo")

    overdue = Charge.objects.get(reference="DEMO-OVERDUE-01")
    customer = overdue.customer
    assert overdue.state == ChargeState.ISSUED and overdue.due_date < overdue.created_at.date()
    assert customer.status == CustomerStatus.BLOCKED and customer.radius_username
    change = StatusChange.objects.filter(customer=customer).get()
    assert (change.to_status, change.cause) == ("blocked", "overdue")
