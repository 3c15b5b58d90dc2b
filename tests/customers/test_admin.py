"""The customer admin: CPF/CNPJ field, search, billing type in bulk, issuing, portal link, query caps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Carne, Charge, ChargeState
from core.dates import today
from customers.models import Customer
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def queued(monkeypatch):
    from core import queue

    kinds = {queue.ISSUE_CHARGE: "issue", queue.CANCEL_CHARGE: "cancel"}
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(
        queue, "enqueue", lambda name, charge_id, countdown=None: calls.append((kinds[name], charge_id))
    )
    return calls


@pytest.fixture
def operator():
    user = factories.UserFactory(username="operator")
    user.groups.add(Group.objects.get(name="Billing operators"))
    return user


@pytest.fixture
def reader():
    user = factories.UserFactory(username="reader")
    user.groups.add(Group.objects.get(name="Billing readers"))
    return user


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def customer_form(account, **overrides) -> dict:
    data = {
        "name": "Joana Lima",
        "document": "529.982.247-25",
        "status": "active",
        "email": "joana@example.com",
        "secondary_email": "",
        "phone": "",
        "mobile": "(11) 98888-7777",
        "birth_date": "",
        "street": "Rua A",
        "number": "1",
        "complement": "",
        "neighborhood": "Centro",
        "city": "Campinas",
        "state": "SP",
        "postcode": "13010-000",
        "bank_account": str(account.pk),
        "billing_type": "carne",
        "plan_amount": "89.90",
        "due_day": "15",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_document_with_punctuation_is_stored_as_digits_and_billing_type_set_at_creation(
    client, operator, juno_account
):
    client.force_login(operator)
    response = client.post(reverse("admin:customers_customer_add"), customer_form(juno_account))
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer = Customer.objects.get(name="Joana Lima")
    assert customer.document == "52998224725"
    assert customer.postcode == "13010000"
    assert customer.billing_type == "carne"


def test_phones_typed_any_way_are_kept_the_brazilian_way(client, operator, juno_account):
    client.force_login(operator)
    form = customer_form(juno_account, phone="1933330000", mobile="+55 11 98888-7777")
    response = client.post(reverse("admin:customers_customer_add"), form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer = Customer.objects.get(name="Joana Lima")
    assert (customer.phone, customer.mobile) == ("(19) 3333-0000", "(11) 98888-7777")
    # A number stored as imported is shown formatted on the form; an odd one as it is.
    Customer.objects.filter(pk=customer.pk).update(phone="0800 123 4567", mobile="11977776666")
    page = client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert 'value="(11) 97777-6666"' in page and 'value="0800 123 4567"' in page


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("529.982.247-26", "Invalid CPF: the check digits do not match."),
        ("11.222.333/0001-80", "Invalid CNPJ: the check digits do not match."),
        ("1234", "Enter a CPF (11 digits) or a CNPJ (14 digits)."),
    ],
)
def test_invalid_document_gives_a_clear_error(client, operator, juno_account, document, message):
    client.force_login(operator)
    response = client.post(
        reverse("admin:customers_customer_add"), customer_form(juno_account, document=document)
    )
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors["document"]
    assert not Customer.objects.exists()


def test_bad_cep_is_refused(client, operator, juno_account):
    client.force_login(operator)
    response = client.post(
        reverse("admin:customers_customer_add"), customer_form(juno_account, postcode="1301")
    )
    assert "A CEP has 8 digits, e.g. 01001-000." in response.context["adminform"].form.errors["postcode"]


def test_change_page_shows_formatted_document_and_copyable_portal_link(client, operator, customer):
    client.force_login(operator)
    html = client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert customer.document_display in html
    assert f"/portal/{customer.portal_token}/" in html
    assert 'data-copy="portal-link"' in html
    assert reverse("admin:customers_customer_renew_portal_link", args=[customer.pk]) in html


def test_search_by_document_with_punctuation_name_and_email(client, operator, juno_account):
    client.force_login(operator)
    wanted = factories.CustomerFactory(bank_account=juno_account, name="Pedro Alves", email="pedro@x.com")
    factories.CustomerFactory(bank_account=juno_account, name="Outro")
    url = reverse("admin:customers_customer_changelist")
    for term in (
        wanted.document_display,
        wanted.document,
        wanted.document_display[:11],
        "Pedro",
        "PEDRO@x.com",
    ):
        response = client.get(url, {"q": term})
        assert [c.pk for c in response.context["cl"].result_list] == [wanted.pk], term


def test_bank_account_autocomplete_answers(client, operator, juno_account):
    client.force_login(operator)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "customers", "model_name": "customer", "field_name": "bank_account", "term": "Juno"},
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["id"] == str(juno_account.pk)


def test_bulk_billing_type_goes_through_a_confirmation_page(client, operator, juno_account):
    client.force_login(operator)
    chosen = [factories.CustomerFactory(bank_account=juno_account) for _ in range(3)]
    other = factories.CustomerFactory(bank_account=juno_account)
    url = reverse("admin:customers_customer_changelist")
    ids = [c.pk for c in chosen]
    confirm = client.post(url, {"action": "change_billing_type", "_selected_action": ids})
    assert confirm.status_code == 200
    html = confirm.content.decode()
    for customer in chosen:
        assert customer.name in html
    assert 'name="billing_type"' in html
    assert set(Customer.objects.values_list("billing_type", flat=True)) == {"titulo"}

    response = client.post(
        url,
        {"action": "change_billing_type", "_selected_action": ids, "post": "yes", "billing_type": "carne"},
    )
    assert response.status_code == 302
    assert set(Customer.objects.filter(pk__in=ids).values_list("billing_type", flat=True)) == {"carne"}
    other.refresh_from_db()
    assert other.billing_type == "titulo"
    assert any("3 customers changed" in m for m in messages_of(response))
    # Each customer's history says who changed the billing type.
    entries = LogEntry.objects.filter(content_type__model="customer", action_flag=CHANGE)
    assert sorted(int(e.object_id) for e in entries) == sorted(ids)
    assert {e.user_id for e in entries} == {operator.pk}
    history = client.get(reverse("admin:customers_customer_history", args=[chosen[0].pk])).content.decode()
    assert operator.username in history and "Billing type changed to" in history


def test_bulk_billing_type_without_a_choice_shows_the_page_again(client, operator, customer):
    client.force_login(operator)
    response = client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "change_billing_type", "_selected_action": [customer.pk], "post": "yes"},
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.billing_type == "titulo"


def test_issue_single_charge_from_the_customer_page(client, operator, customer, queued):
    client.force_login(operator)
    url = reverse("admin:customers_customer_issue_charge", args=[customer.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["amount"] == customer.plan_amount
    assert form.initial["due_date"].day == customer.due_day
    assert form["description"].value() == "Internet [MES]/[ANO]"

    due = today() + dt.timedelta(days=10)
    response = client.post(
        url, {"amount": "120.50", "due_date": due.isoformat(), "description": "Internet [MES]/[ANO]"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:customers_customer_change", args=[customer.pk])
    charge = Charge.objects.get(customer=customer)
    assert charge.amount == Decimal("120.50")
    assert charge.due_date == due
    assert charge.state == ChargeState.PENDING
    assert charge.carne is None
    assert charge.created_by == operator
    assert queued == [("issue", charge.pk)]
    assert any(charge.reference in m for m in messages_of(response))

    html = client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert charge.reference in html


def test_issue_single_charge_refuses_a_past_date(client, operator, customer, queued):
    client.force_login(operator)
    url = reverse("admin:customers_customer_issue_charge", args=[customer.pk])
    past = today() - dt.timedelta(days=1)
    response = client.post(url, {"amount": "10", "due_date": past.isoformat(), "description": "x"})
    assert response.status_code == 200
    assert "The due date cannot be in the past." in response.content.decode()
    assert not Charge.objects.exists()


def test_issue_carne_from_the_customer_page(client, operator, customer, queued):
    client.force_login(operator)
    url = reverse("admin:customers_customer_issue_carne", args=[customer.pk])
    page = client.get(url)
    assert page.context["form"]["installments"].value() == 12
    first = today() + dt.timedelta(days=5)
    response = client.post(
        url,
        {
            "installments": "6",
            "first_due_date": first.isoformat(),
            "amount": "99.90",
            "description": "Internet",
        },
    )
    assert response.status_code == 302
    carne = Carne.objects.get(customer=customer)
    assert carne.installments == 6
    assert carne.installment_charges.count() == 6
    assert len(queued) == 1
    html = client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert carne.reference in html
    assert f"{carne.reference}-06" in html


def test_reader_cannot_open_the_issue_pages(client, reader, customer):
    client.force_login(reader)
    for name in ("issue_charge", "issue_carne", "renew_portal_link"):
        assert client.get(reverse(f"admin:customers_customer_{name}", args=[customer.pk])).status_code == 403


def test_renew_portal_link_from_the_page_and_in_bulk(client, operator, juno_account):
    client.force_login(operator)
    customer = factories.CustomerFactory(bank_account=juno_account)
    old = customer.portal_token
    url = reverse("admin:customers_customer_renew_portal_link", args=[customer.pk])
    page = client.get(url)
    assert page.status_code == 200
    customer.refresh_from_db()
    assert customer.portal_token == old  # the confirmation page changes nothing
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.portal_token != old

    others = [factories.CustomerFactory(bank_account=juno_account) for _ in range(2)]
    tokens = {c.pk: c.portal_token for c in others}
    changelist = reverse("admin:customers_customer_changelist")
    confirm = client.post(changelist, {"action": "issue_new_portal_link", "_selected_action": list(tokens)})
    assert confirm.status_code == 200
    client.post(
        changelist, {"action": "issue_new_portal_link", "_selected_action": list(tokens), "post": "yes"}
    )
    for c in others:
        c.refresh_from_db()
        assert c.portal_token != tokens[c.pk]


def test_customer_changelist_query_count_does_not_grow_with_rows(
    client, operator, django_assert_max_num_queries
):
    client.force_login(operator)
    accounts = [factories.JunoAccountFactory(), factories.MycontasAccountFactory()]
    for n in range(5):
        factories.CustomerFactory(bank_account=accounts[n % 2])
    url = reverse("admin:customers_customer_changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    for n in range(45):
        factories.CustomerFactory(bank_account=accounts[n % 2])
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert len(response.context["cl"].result_list) == 50
