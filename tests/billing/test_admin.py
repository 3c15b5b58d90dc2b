"""The billing admin: pages per role, bank-account form rules, secrets, actions, query caps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from billing.models import (
    Carne,
    CarneState,
    Charge,
    ChargeEvent,
    ChargeState,
    ExchangeOutcome,
    GatewayLog,
    Notification,
    Payment,
    ReconciliationDifference,
    ReconciliationRun,
)
from providers.admin import private_host_warning
from providers.models import BankAccount
from tests import factories

pytestmark = pytest.mark.django_db

JUNO_TOKEN = "PROD-TOKEN-0123456789ABCDEF"
JUNO_SANDBOX = "SANDBOX-TOKEN-FEDCBA9876543210"


@pytest.fixture(autouse=True)
def english(settings):
    """Assertions read the English source strings, whatever catalogue is compiled later."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def queued(monkeypatch):
    """What the services hand to Celery, recorded instead of sent (the tasks are not under test)."""
    from core import queue

    kinds = {queue.ISSUE_CHARGE: "issue", queue.CANCEL_CHARGE: "cancel"}
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(
        queue, "enqueue", lambda name, charge_id, countdown=None: calls.append((kinds[name], charge_id))
    )
    return calls


# --- users ---------------------------------------------------------------------------------------
@pytest.fixture
def superuser():
    return factories.UserFactory(username="boss", is_superuser=True)


def _member(username: str, group: str):
    user = factories.UserFactory(username=username)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def operator():
    return _member("operator", "Billing operators")


@pytest.fixture
def reader():
    return _member("reader", "Billing readers")


@pytest.fixture
def users(superuser, operator, reader):
    return {"superuser": superuser, "operator": operator, "reader": reader}


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- data ----------------------------------------------------------------------------------------
@pytest.fixture
def world(db):
    provider = factories.ProviderFactory()
    juno = factories.JunoAccountFactory(name="Juno main")
    mycontas = factories.MycontasAccountFactory(name="Mycontas main")
    customer = factories.CustomerFactory(bank_account=juno, name="Ana Souza")
    issued = factories.ChargeFactory(customer=customer, state=ChargeState.ISSUED, gateway_code="987654")
    pending = factories.ChargeFactory(customer=customer, state=ChargeState.PENDING)
    paid = factories.ChargeFactory(customer=customer, state=ChargeState.PAID)
    failed = factories.ChargeFactory(
        customer=customer, state=ChargeState.FAILED, error_message="CEP inválido"
    )
    carne = factories.CarneFactory(customer=customer)
    installments = [
        factories.ChargeFactory(
            customer=customer,
            carne=carne,
            installment_number=n,
            reference=f"{carne.reference}-{n:02d}",
            state=ChargeState.ISSUED,
            due_date=dt.date(2026, 12, 10) + dt.timedelta(days=30 * (n - 1)),
        )
        for n in (1, 2, 3)
    ]
    ChargeEvent.objects.create(
        charge=issued,
        from_state=ChargeState.PENDING,
        to_state=ChargeState.ISSUED,
        actor_label="issue",
        reason="Issued by the gateway",
    )
    payment = Payment.objects.create(
        charge=paid,
        gateway="juno",
        gateway_payment_id="PAY-1",
        amount=Decimal("99.90"),
        paid_on=dt.date(2026, 12, 1),
        status="CONFIRMED",
    )
    log = GatewayLog.objects.create(
        bank_account=juno,
        gateway="juno",
        endpoint="issue-charge",
        url="http://127.0.0.1:8101/x",
        request_params={"token": "***", "reference": issued.reference},
        status_code=400,
        response_body='{"errorMessage": "<b>CEP inválido</b>"}',
        outcome=ExchangeOutcome.REJECTED,
        reference=issued.reference,
        charge=issued,
    )
    notification = Notification.objects.create(
        gateway="juno",
        bank_account=juno,
        path="/api/notifications/juno/x/",
        headers={"Content-Type": "form"},
        body="paymentToken=abc123&chargeReference=XYZ",
        remote_addr="200.1.2.3",
    )
    run = ReconciliationRun.objects.create(
        bank_account=juno, period_start=dt.date(2026, 11, 1), period_end=dt.date(2026, 11, 22)
    )
    ReconciliationDifference.objects.create(run=run, kind="missing_here", gateway_payment_id="PAY-9")
    return {
        "provider": provider,
        "juno": juno,
        "mycontas": mycontas,
        "customer": customer,
        "issued": issued,
        "pending": pending,
        "paid": paid,
        "failed": failed,
        "carne": carne,
        "installments": installments,
        "payment": payment,
        "log": log,
        "notification": notification,
        "run": run,
    }


MODELS = [
    ("providers", "bankaccount", "juno"),
    ("providers", "provider", "provider"),
    ("billing", "charge", "issued"),
    ("billing", "carne", "carne"),
    ("billing", "payment", "payment"),
    ("billing", "gatewaylog", "log"),
    ("billing", "notification", "notification"),
    ("billing", "reconciliationrun", "run"),
    ("customers", "customer", "customer"),
]


@pytest.mark.parametrize("role", ["superuser", "operator", "reader"])
def test_every_changelist_and_change_page_renders_for_every_role(client, world, users, role):
    client.force_login(users[role])
    for app, model, key in MODELS:
        changelist = client.get(reverse(f"admin:{app}_{model}_changelist"))
        assert changelist.status_code == 200, (role, model)
        change = client.get(reverse(f"admin:{app}_{model}_change", args=[world[key].pk]))
        assert change.status_code == 200, (role, model)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200


def test_reader_sees_no_action_that_changes_data(client, world, reader):
    client.force_login(reader)
    for app, model, key in MODELS:
        html = client.get(reverse(f"admin:{app}_{model}_changelist")).content.decode()
        assert 'name="action"' not in html, model
        change = client.get(reverse(f"admin:{app}_{model}_change", args=[world[key].pk])).content.decode()
        assert 'name="_save"' not in change, model
    customer_page = client.get(reverse("admin:customers_customer_change", args=[world["customer"].pk]))
    html = customer_page.content.decode()
    assert reverse("admin:customers_customer_issue_charge", args=[world["customer"].pk]) not in html
    assert reverse("admin:customers_customer_issue_carne", args=[world["customer"].pk]) not in html
    assert reverse("admin:customers_customer_renew_portal_link", args=[world["customer"].pk]) not in html
    assert f"/portal/{world['customer'].portal_token}/" in html  # the link itself may still be copied
    changelist = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert reverse("admin:customers_customer_import") not in changelist


def test_operator_sees_the_billing_actions(client, world, operator):
    client.force_login(operator)
    html = client.get(reverse("admin:billing_charge_changelist")).content.decode()
    assert 'value="cancel_selected_charges"' in html
    assert 'value="retry_failed_charges"' in html
    assert 'value="delete_selected"' not in html
    customers = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert 'value="change_billing_type"' in customers


def test_reader_gets_403_on_writes_and_actions(client, world, reader):
    client.force_login(reader)
    customer, charge, juno = world["customer"], world["pending"], world["juno"]
    forbidden = [
        (reverse("admin:customers_customer_add"), {"name": "X"}),
        (reverse("admin:customers_customer_change", args=[customer.pk]), {"name": "X"}),
        (reverse("admin:providers_bankaccount_add"), {"name": "X"}),
        (reverse("admin:providers_bankaccount_change", args=[juno.pk]), {"name": "X"}),
        (reverse("admin:providers_provider_change", args=[world["provider"].pk]), {"name": "X"}),
        (
            reverse("admin:billing_charge_changelist"),
            {"action": "cancel_selected_charges", "_selected_action": [charge.pk], "post": "yes"},
        ),
        (
            reverse("admin:billing_charge_changelist"),
            {"action": "retry_failed_charges", "_selected_action": [world["failed"].pk], "post": "yes"},
        ),
        (
            reverse("admin:billing_carne_changelist"),
            {"action": "cancel_carnes", "_selected_action": [world["carne"].pk], "post": "yes"},
        ),
        (
            reverse("admin:customers_customer_changelist"),
            {
                "action": "change_billing_type",
                "_selected_action": [customer.pk],
                "post": "yes",
                "billing_type": "carne",
            },
        ),
        (
            reverse("admin:customers_customer_changelist"),
            {"action": "issue_new_portal_link", "_selected_action": [customer.pk], "post": "yes"},
        ),
        (reverse("admin:customers_customer_issue_charge", args=[customer.pk]), {"amount": "10"}),
        (reverse("admin:customers_customer_issue_carne", args=[customer.pk]), {"amount": "10"}),
        (reverse("admin:customers_customer_renew_portal_link", args=[customer.pk]), {"post": "yes"}),
        (reverse("admin:customers_customer_import"), {}),
    ]
    for url, data in forbidden:
        assert client.post(url, data).status_code == 403, url
    token = customer.portal_token
    customer.refresh_from_db()
    charge.refresh_from_db()
    assert customer.portal_token == token
    assert customer.name == "Ana Souza"
    assert customer.billing_type == "titulo"
    assert charge.state == ChargeState.PENDING


# --- bank accounts -------------------------------------------------------------------------------
def account_form(account: BankAccount | None = None, **overrides) -> dict:
    data = {
        "name": account.name if account else "Nova Juno",
        "gateway": account.gateway if account else "juno",
        "cedente": "PROVEDOR <br> BoletoBancario.com",
        "state": "SP",
        "active": "on",
        "token": "",
        "sandbox_token": "",
        "account_code": account.account_code if account else "",
        "account_password": "",
        "max_days_to_update": "29",
        "fine_percent": "2.00",
        "daily_interest_percent": "0.033",
        "days_to_write_off": "15",
        "next_remessa_number": "1",
        "document_kind": "10",
        "requests_per_second": "10",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_bank_account_page_never_shows_secrets(client, world, superuser):
    client.force_login(superuser)
    for account in (world["juno"], world["mycontas"]):
        html = client.get(reverse("admin:providers_bankaccount_change", args=[account.pk])).content.decode()
        assert JUNO_TOKEN not in html
        assert JUNO_SANDBOX not in html
        assert "teste123" not in html
    juno_html = client.get(
        reverse("admin:providers_bankaccount_change", args=[world["juno"].pk])
    ).content.decode()
    assert "…CDEF" in juno_html  # the last 4 characters, at most
    assert 'type="password"' in juno_html


def test_bank_account_failed_submit_does_not_echo_a_typed_secret(client, world, superuser):
    client.force_login(superuser)
    account = world["juno"]
    response = client.post(
        reverse("admin:providers_bankaccount_change", args=[account.pk]),
        account_form(account, token="NEW-SECRET-TOKEN-999", fine_percent="9"),
    )
    assert response.status_code == 200
    assert "NEW-SECRET-TOKEN-999" not in response.content.decode()


def test_blank_secret_keeps_the_stored_one_and_clear_goes_to_production(client, world, superuser):
    client.force_login(superuser)
    account = world["juno"]
    assert account.is_sandbox
    url = reverse("admin:providers_bankaccount_change", args=[account.pk])
    response = client.post(url, account_form(account, cedente="Outro"))
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.token == JUNO_TOKEN
    assert account.sandbox_token == JUNO_SANDBOX
    assert account.cedente == "Outro"

    response = client.post(url, account_form(account, clear_sandbox_token="on"))
    assert response.status_code == 302
    account.refresh_from_db()
    assert not account.sandbox_token
    assert not account.is_sandbox
    assert account.token == JUNO_TOKEN

    client.post(url, account_form(account, token="ANOTHER-PRODUCTION-TOKEN"))
    account.refresh_from_db()
    assert account.token == "ANOTHER-PRODUCTION-TOKEN"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fine_percent", "2.01", "The fine must be between 0 and 2.00 %"),
        ("fine_percent", "-1", "The fine must be between 0 and 2.00 %"),
        ("daily_interest_percent", "0.5", "The daily interest must be between 0 and 0.33 %"),
        ("days_to_write_off", "30", "Days to write off must be between 0 and 29"),
        ("max_days_to_update", "0", "Max days to update must be at least 1."),
    ],
)
def test_bank_account_ranges_are_form_errors(client, world, superuser, field, value, message):
    client.force_login(superuser)
    account = world["juno"]
    response = client.post(
        reverse("admin:providers_bankaccount_change", args=[account.pk]),
        account_form(account, **{field: value}),
    )
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors[field][0]
    account.refresh_from_db()
    assert account.fine_percent == Decimal("2.00")


def test_max_days_above_29_is_stored_as_29_with_a_warning(client, world, superuser):
    client.force_login(superuser)
    account = world["juno"]
    account.max_days_to_update = 10
    account.save()
    response = client.post(
        reverse("admin:providers_bankaccount_change", args=[account.pk]),
        account_form(account, max_days_to_update="40"),
        follow=True,
    )
    account.refresh_from_db()
    assert account.max_days_to_update == 29
    warnings = [str(m) for m in get_messages(response.wsgi_request)] or [
        str(m) for m in response.context["messages"]
    ]
    assert any("40" in m and "29" in m for m in warnings), warnings


def test_juno_needs_a_token_and_mycontas_needs_code_and_password(client, superuser):
    client.force_login(superuser)
    add = reverse("admin:providers_bankaccount_add")
    response = client.post(add, account_form(None))
    assert "A Juno account needs a production token or a sandbox token." in response.content.decode()
    response = client.post(add, account_form(None, name="My", gateway="mycontas"))
    errors = response.context["adminform"].form.errors
    assert "A Mycontas account needs its account code." in errors["account_code"]
    assert "A Mycontas account needs its password." in errors["account_password"]
    response = client.post(add, account_form(None, token="JUNO-PRODUCTION-TOKEN-1"))
    assert response.status_code == 302
    created = BankAccount.objects.get(name="Nova Juno")
    assert created.token == "JUNO-PRODUCTION-TOKEN-1"
    assert not created.is_sandbox


@override_settings(PUBLIC_BASE_URL="https://cobranca.example.com.br")
def test_bank_account_page_shows_the_notification_url_with_copy_button(client, world, superuser):
    client.force_login(superuser)
    account = world["juno"]
    html = client.get(reverse("admin:providers_bankaccount_change", args=[account.pk])).content.decode()
    assert f"https://cobranca.example.com.br/api/notifications/juno/{account.public_id}/" in html
    assert 'data-copy="notification-url"' in html
    assert "Sandbox" in html
    assert "172.16.0.0/12" not in html


@override_settings(PUBLIC_BASE_URL="http://172.20.1.5:8000")
def test_private_public_address_is_warned_about(client, world, superuser):
    client.force_login(superuser)
    html = client.get(reverse("admin:providers_bankaccount_change", args=[world["juno"].pk])).content.decode()
    assert "172.16.0.0/12" in html


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://172.16.0.1/", True),
        ("http://172.31.255.255/", True),
        ("http://192.168.0.10:8000", True),
        ("http://10.0.0.1", True),
        ("http://127.0.0.1:8000", True),
        ("http://localhost:8000", True),
        ("http://169.254.1.1", True),
        ("http://[::1]:8000", True),
        ("http://172.32.0.1", False),
        ("http://200.150.10.1", False),
        ("https://isp.example.com.br", False),
    ],
)
def test_private_host_warning(url, warned):
    assert bool(private_host_warning(url)) is warned


def test_sandbox_and_production_badges_on_lists(client, world, superuser):
    client.force_login(superuser)
    factories.JunoAccountFactory(name="Juno production", sandbox_token="")
    accounts = client.get(reverse("admin:providers_bankaccount_changelist")).content.decode()
    assert "Sandbox" in accounts and "Production" in accounts
    charges = client.get(reverse("admin:billing_charge_changelist")).content.decode()
    assert "Sandbox" in charges
    charge_page = client.get(
        reverse("admin:billing_charge_change", args=[world["issued"].pk])
    ).content.decode()
    assert "Sandbox" in charge_page


# --- charges -------------------------------------------------------------------------------------
def test_charge_page_shows_history_payments_and_logs(client, world, superuser):
    client.force_login(superuser)
    html = client.get(reverse("admin:billing_charge_change", args=[world["issued"].pk])).content.decode()
    assert "Issued by the gateway" in html
    assert "Issue charge" in html  # the gateway operation in words, not its endpoint name
    paid_html = client.get(reverse("admin:billing_charge_change", args=[world["paid"].pk])).content.decode()
    assert "PAY-1" in paid_html


def test_gateway_log_response_is_shown_escaped_as_a_table_and_raw(client, world, superuser):
    client.force_login(superuser)
    html = client.get(reverse("admin:billing_gatewaylog_change", args=[world["log"].pk])).content.decode()
    assert '<table class="cobranca-data">' in html and "<th>errorMessage</th>" in html
    assert "<pre" in html  # the raw text, one click away
    assert "&lt;b&gt;CEP inválido&lt;/b&gt;" in html
    assert "<b>CEP inválido</b>" not in html


def test_notification_raw_body_is_readable(client, world, superuser):
    client.force_login(superuser)
    html = client.get(
        reverse("admin:billing_notification_change", args=[world["notification"].pk])
    ).content.decode()
    assert "paymentToken=abc123&amp;chargeReference=XYZ" in html


def test_charge_search_by_document_with_punctuation_and_gateway_code(client, world, superuser):
    client.force_login(superuser)
    document = world["customer"].document_display
    response = client.get(reverse("admin:billing_charge_changelist"), {"q": document})
    assert response.context["cl"].result_count == 7
    response = client.get(reverse("admin:billing_charge_changelist"), {"q": "987654"})
    assert [c.pk for c in response.context["cl"].result_list] == [world["issued"].pk]


def test_needs_attention_filter(client, world, superuser):
    client.force_login(superuser)
    stale = factories.ChargeFactory(customer=world["customer"], state=ChargeState.ISSUING)
    Charge.objects.filter(pk=stale.pk).update(state_changed_at=timezone.now() - dt.timedelta(hours=1))
    fresh = factories.ChargeFactory(customer=world["customer"], state=ChargeState.ISSUING)
    unknown = factories.ChargeFactory(customer=world["customer"], state=ChargeState.UNKNOWN)
    response = client.get(reverse("admin:billing_charge_changelist"), {"attention": "yes"})
    found = {c.pk for c in response.context["cl"].result_list}
    assert found == {stale.pk, unknown.pk, world["failed"].pk}
    assert fresh.pk not in found


def _action(client, url, action, ids, **extra):
    return client.post(url, {"action": action, "_selected_action": ids, **extra})


def test_cancel_action_confirms_then_cancels_and_refuses_paid(client, world, operator, queued):
    client.force_login(operator)
    # Every state listed (the list opens on the open charges only: a paid one would not be there).
    url = reverse("admin:billing_charge_changelist") + "?situacao=todas"
    ids = [world["pending"].pk, world["issued"].pk, world["paid"].pk]
    confirm = _action(client, url, "cancel_selected_charges", ids)
    assert confirm.status_code == 200
    html = confirm.content.decode()
    for key in ("pending", "issued", "paid"):
        assert world[key].reference in html
    assert 'name="post" value="yes"' in html
    assert Charge.objects.filter(state=ChargeState.CANCELLED).count() == 0  # nothing happened yet

    response = _action(client, url, "cancel_selected_charges", ids, post="yes", reason="Cliente saiu")
    assert response.status_code == 302
    for key in ("pending", "issued", "paid"):
        world[key].refresh_from_db()
    assert world["pending"].state == ChargeState.CANCELLED
    assert world["issued"].state == ChargeState.CANCEL_REQUESTED
    assert world["paid"].state == ChargeState.PAID
    assert queued == [("cancel", world["issued"].pk)]  # only the issued one goes to the gateway
    event = world["pending"].events.latest("id")
    assert event.actor == operator and event.reason == "Cliente saiu"
    texts = messages_of(response)
    assert any(world["paid"].reference in t and "cannot be cancelled" in t for t in texts)
    assert any("2 charges cancelled" in t for t in texts)


def test_retry_action_confirms_then_requeues_failed(client, world, operator, queued):
    client.force_login(operator)
    url = reverse("admin:billing_charge_changelist")
    ids = [world["failed"].pk, world["issued"].pk]
    confirm = _action(client, url, "retry_failed_charges", ids)
    assert confirm.status_code == 200
    assert "CEP inválido" in confirm.content.decode()
    _action(client, url, "retry_failed_charges", ids, post="yes")
    world["failed"].refresh_from_db()
    world["issued"].refresh_from_db()
    assert world["failed"].state == ChargeState.PENDING
    assert world["issued"].state == ChargeState.ISSUED
    assert queued == [("issue", world["failed"].pk)]


def test_cancel_carne_action(client, world, operator, queued):
    client.force_login(operator)
    url = reverse("admin:billing_carne_changelist")
    carne = world["carne"]
    confirm = _action(client, url, "cancel_carnes", [carne.pk])
    assert confirm.status_code == 200
    assert carne.reference in confirm.content.decode()
    _action(client, url, "cancel_carnes", [carne.pk], post="yes")
    carne.refresh_from_db()
    assert carne.state == CarneState.CANCELLED
    states = set(Carne.objects.get(pk=carne.pk).installment_charges.values_list("state", flat=True))
    assert states == {ChargeState.CANCEL_REQUESTED}
    assert sorted(queued) == sorted(("cancel", c.pk) for c in world["installments"])


def test_charge_edit_only_while_pending_or_failed(client, world, operator):
    client.force_login(operator)
    issued_page = client.get(reverse("admin:billing_charge_change", args=[world["issued"].pk]))
    assert "amount" not in issued_page.context["adminform"].form.fields
    pending_page = client.get(reverse("admin:billing_charge_change", args=[world["pending"].pk]))
    assert "amount" in pending_page.context["adminform"].form.fields
    assert "state" not in pending_page.context["adminform"].form.fields


# --- query caps ----------------------------------------------------------------------------------
def _charges(count: int) -> None:
    accounts = [factories.JunoAccountFactory(), factories.MycontasAccountFactory()]
    for n in range(count):
        customer = factories.CustomerFactory(bank_account=accounts[n % 2])
        carne = factories.CarneFactory(customer=customer) if n % 3 == 0 else None
        factories.ChargeFactory(customer=customer, carne=carne, installment_number=1 if carne else None)


def _count_queries(client, url, django_assert_max_num_queries, cap):
    with django_assert_max_num_queries(cap):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:billing_charge_changelist",
        "admin:billing_carne_changelist",
        "admin:billing_payment_changelist",
        "admin:billing_gatewaylog_changelist",
        "admin:billing_notification_changelist",
    ],
)
def test_billing_changelists_query_count_does_not_grow_with_rows(
    client, superuser, django_assert_num_queries, django_assert_max_num_queries, url_name
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(superuser)
    url = reverse(url_name)
    _charges(5)
    _logs_and_payments(5)
    client.get(url)  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _charges(45)
    _logs_and_payments(45)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= 50


def _logs_and_payments(count: int) -> None:
    account = factories.JunoAccountFactory()
    for n in range(count):
        charge = factories.ChargeFactory(customer=factories.CustomerFactory(bank_account=account))
        Payment.objects.create(
            charge=charge,
            gateway="juno",
            gateway_payment_id=f"P{charge.pk}-{n}",
            amount=Decimal("1"),
            status="CONFIRMED",
        )
        GatewayLog.objects.create(
            bank_account=account,
            gateway="juno",
            endpoint="issue-charge",
            url="u",
            outcome="ok",
            charge=charge,
        )
        Notification.objects.create(gateway="juno", bank_account=account, path="/p")
        factories.CarneFactory(customer=charge.customer)


def test_correcting_a_pending_charge_writes_only_the_corrected_fields(client, world, operator):
    client.force_login(operator)
    charge = world["pending"]
    url = reverse("admin:billing_charge_change", args=[charge.pk])
    data = {
        "amount": "150.00",
        "due_date": charge.due_date.isoformat(),
        "description": charge.description,
        **{
            f"{prefix}-{key}": "0"
            for prefix in ("events", "payments", "gateway_logs")
            for key in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
    }
    page = client.get(url)
    for formset in page.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        data[f"{prefix}-TOTAL_FORMS"] = str(formset.formset.total_form_count())
        data[f"{prefix}-INITIAL_FORMS"] = str(formset.formset.initial_form_count())
    # A worker picks the charge up between the page load and the save.
    Charge.objects.filter(pk=charge.pk).update(state=ChargeState.ISSUING)
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    charge.refresh_from_db()
    assert charge.state == ChargeState.ISSUING  # not reset to pending
    assert charge.amount == Decimal("99.90")

    # The narrower race: the state changes after the form was built, right before the write.
    from types import SimpleNamespace

    from django.contrib import admin as django_admin
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory

    request = RequestFactory().post(url)
    request.user = operator
    request.session = client.session
    request._messages = FallbackStorage(request)
    stale = Charge.objects.get(pk=charge.pk)
    stale.state, stale.amount = ChargeState.PENDING, Decimal("150.00")
    django_admin.site._registry[Charge].save_model(
        request, stale, SimpleNamespace(changed_data=["amount"]), True
    )
    charge.refresh_from_db()
    assert (charge.state, charge.amount) == (ChargeState.ISSUING, Decimal("99.90"))
    assert any("can no longer be corrected" in str(m) for m in request._messages)

    Charge.objects.filter(pk=charge.pk).update(state=ChargeState.FAILED)
    client.post(url, data)
    charge.refresh_from_db()
    assert charge.amount == Decimal("150.00")
    assert charge.state == ChargeState.FAILED


def _codenames(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_staff_groups_have_exactly_their_permissions():
    operators = _codenames("Billing operators")
    readers = _codenames("Billing readers")
    edited = [
        "customers.%s_customer",
        "billing.%s_charge",
        "billing.%s_carne",
        "providers.%s_bankaccount",
        "providers.%s_provider",
    ]
    looked_at = [
        "billing.%s_payment",
        "billing.%s_gatewaylog",
        "billing.%s_carneevent",
        "billing.%s_notification",
        "billing.%s_reconciliationrun",
        "django_celery_beat.%s_periodictask",
    ]
    for pattern in edited:
        assert {pattern % a for a in ("view", "add", "change")} <= operators
        assert pattern % "delete" not in operators
    for pattern in looked_at:
        assert pattern % "view" in operators
        assert pattern % "change" not in operators
    assert all(code.split(".")[1].startswith("view_") for code in readers)
    assert {pattern % "view" for pattern in edited + looked_at} <= readers


@pytest.mark.parametrize("role", ["superuser", "operator"])
def test_add_pages_render_for_those_who_may_add(client, users, role):
    client.force_login(users[role])
    for url_name in (
        "admin:customers_customer_add",
        "admin:providers_bankaccount_add",
        "admin:providers_provider_add",
    ):
        assert client.get(reverse(url_name)).status_code == 200, url_name
    assert client.get(reverse("admin:billing_charge_add")).status_code == 403  # charges come from services


def test_existing_account_shows_only_its_gateway_credentials(client, world, superuser):
    client.force_login(superuser)
    juno = client.get(reverse("admin:providers_bankaccount_change", args=[world["juno"].pk]))
    assert "account_code" not in juno.context["adminform"].form.fields
    assert 'name="token"' in juno.content.decode()
    mycontas = client.get(reverse("admin:providers_bankaccount_change", args=[world["mycontas"].pk]))
    assert 'name="token"' not in mycontas.content.decode()
    assert 'name="account_code"' in mycontas.content.decode()
    add = client.get(reverse("admin:providers_bankaccount_add")).content.decode()
    assert 'name="token"' in add and 'name="account_code"' in add

    # Switching an existing Juno account to Mycontas asks for the Mycontas credentials, no crash.
    response = client.post(
        reverse("admin:providers_bankaccount_change", args=[world["juno"].pk]),
        account_form(world["juno"], gateway="mycontas", account_code=None),
    )
    assert response.status_code == 200
    assert "A Mycontas account needs its account code." in response.content.decode()


def test_select_all_carries_the_filter_not_thousands_of_ids(client, world, operator, queued, settings):
    client.force_login(operator)
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    account = factories.JunoAccountFactory()
    customer = factories.CustomerFactory(bank_account=account, name="Zé Muitos")
    for _ in range(120):
        factories.ChargeFactory(customer=customer)
    url = reverse("admin:billing_charge_changelist") + f"?customer__id__exact={customer.pk}"
    first_page = [c.pk for c in Charge.objects.filter(customer=customer)[:3]]
    confirm = client.post(
        url, {"action": "cancel_selected_charges", "_selected_action": first_page, "select_across": "1"}
    )
    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert "120 rows selected." in html
    assert "…and 20 more." in html
    assert html.count('name="_selected_action"') == 1
    assert 'name="select_across" value="1"' in html
    response = client.post(
        url,
        {
            "action": "cancel_selected_charges",
            "select_across": "1",
            "_selected_action": first_page[0],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert Charge.objects.filter(customer=customer, state=ChargeState.CANCELLED).count() == 120
    assert world["pending"].__class__.objects.get(pk=world["pending"].pk).state == ChargeState.PENDING
