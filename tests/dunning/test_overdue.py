"""The overdue list (inadimplentes): rows, filters, search, CSV export, and a fixed number of queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import ChargeState
from customers.models import CustomerStatus
from dunning.models import Outcome, ReminderLog
from tests import factories
from tests.browser.helpers import pt, staff_user

S = ChargeState
TODAY = dt.date(2026, 12, 15)
URL = "/admin/dunning/overduecustomer/"


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(dt.datetime(2026, 12, 15, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def reader(client, db):
    user = staff_user("leitor", groups=("Billing readers",))
    client.force_login(user)
    return user


def late(customer, days: int, amount="100.00", **kwargs):
    return factories.ChargeFactory(
        customer=customer,
        state=kwargs.pop("state", S.ISSUED),
        amount=Decimal(amount),
        due_date=TODAY - dt.timedelta(days=days),
        **kwargs,
    )


def rows(page: str) -> list[str]:
    return re.findall(r'<tr[^>]*>\s*<t[dh] class="field-customer_link">.*?</tr>', page, flags=re.S)


@pytest.fixture
def office(db):
    account = factories.JunoAccountFactory(name="Juno Principal")
    other = factories.JunoAccountFactory(name="Juno Filial")
    ana = factories.CustomerFactory(name="Ana Souza", bank_account=account, mobile="11987654321")
    bruno = factories.CustomerFactory(name="Bruno Lima", bank_account=other, status=CustomerStatus.BLOCKED)
    carla = factories.CustomerFactory(name="Carla Dias", bank_account=account)
    late(ana, 10)
    late(ana, 40)
    late(bruno, 5, amount="50.00")
    late(carla, 0)  # due today: not late yet
    late(carla, 20, state=S.PAID)
    contra = factories.CustomerFactory(
        name="Davi Contra", bank_account=factories.JunoAccountFactory(contra_apresentacao=True)
    )
    late(contra, 30)
    log = ReminderLog.objects.create(
        charge=ana.charges.first(), customer=ana, step_days=3, channel="email", outcome=Outcome.SENT
    )
    ReminderLog.objects.filter(pk=log.pk).update(
        sent_at=timezone.make_aware(dt.datetime(2026, 12, 12, 9, 30))
    )
    return {"account": account, "other": other, "ana": ana, "bruno": bruno}


def test_lists_overdue_customers_longest_late_first_with_amount_due_today(client, reader, office):
    page = client.get(URL).content.decode()
    names = re.findall(r'field-customer_link"><a href="[^"]+">([^<]+)</a>', page)
    assert names == ["Ana Souza", "Bruno Lima"]
    ana = rows(page)[0]
    assert '<td class="field-days_late_display">40</td>' in ana
    assert '<td class="field-overdue_count_display">2</td>' in ana
    # 100 × (1 + 2 % + 10 × 0,033 %) + 100 × (1 + 2 % + 29 × 0,033 %) = 102,33 + 102,96
    assert "R$\u00a0205,29" in ana
    assert "12/12/2026 09:30" in ana
    bruno = rows(page)[1]
    assert "R$\u00a051,08" in bruno and pt("Blocked") in bruno


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?days_late=1-15", ["Bruno Lima"]),
        ("?days_late=31-60", ["Ana Souza"]),
        ("?days_late=91%2B", []),
        ("?status__exact=blocked", ["Bruno Lima"]),
        ("?q=souza", ["Ana Souza"]),
    ],
)
def test_filters_and_search(client, reader, office, query, expected):
    page = client.get(URL + query).content.decode()
    assert re.findall(r'field-customer_link"><a href="[^"]+">([^<]+)</a>', page) == expected


def test_account_filter(client, reader, office):
    page = client.get(f"{URL}?account={office['other'].pk}").content.decode()
    assert re.findall(r'field-customer_link"><a href="[^"]+">([^<]+)</a>', page) == ["Bruno Lima"]


def test_csv_export_is_what_is_filtered(client, reader, office):
    page = client.get(URL + "?days_late=31-60").content.decode()
    assert 'href="/admin/dunning/overduecustomer/export/?days_late=31-60"' in page
    response = client.get("/admin/dunning/overduecustomer/export/?days_late=31-60")
    assert response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert len(table) == 2
    assert table[1][0] == "Ana Souza" and table[1][3] == "(11) 98765-4321"
    assert table[1][4] == "40" and table[1][5] == "2" and table[1][6] == "205,29"
    everyone = b"".join(client.get("/admin/dunning/overduecustomer/export/").streaming_content).decode(
        "utf-8-sig"
    )
    assert len(list(csv.reader(io.StringIO(everyone), delimiter=";"))) == 3


def test_a_fixed_number_of_queries_whatever_the_number_of_rows(client, reader, db):
    account = factories.JunoAccountFactory()

    def measure() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured.captured_queries)

    for n in range(3):
        late(factories.CustomerFactory(bank_account=account), 5 + n)
    few = measure()
    for n in range(40):
        customer = factories.CustomerFactory(bank_account=account)
        late(customer, 5 + n)
        late(customer, 50 + n)
    assert measure() == few


def test_people_without_access_to_charges_do_not_see_it(client, db, office):
    client.force_login(factories.UserFactory(username="semacesso"))
    assert client.get(URL).status_code == 403
    assert client.get("/admin/dunning/overduecustomer/export/").status_code == 403


def test_row_opens_the_customer_page(client, reader, office):
    response = client.get(f"{URL}{office['ana'].pk}/change/")
    assert response.status_code == 302 and response["Location"].endswith(
        f"/customers/customer/{office['ana'].pk}/change/"
    )


def names_in(page: str) -> list[str]:
    return re.findall(r'field-customer_link"><a href="[^"]+">([^<]+)</a>', page)


def test_account_filter_counts_the_boletos_payable_at_that_account(client, reader, office):
    # Ana moved to the other account: her new boleto is there, her old ones stay at the first one.
    late(office["ana"], 3, amount="80.00", bank_account=office["other"])

    page = client.get(f"{URL}?account={office['other'].pk}").content.decode()

    assert names_in(page) == ["Bruno Lima", "Ana Souza"]  # 5 days late there, then 3
    ana = rows(page)[1]
    assert '<td class="field-days_late_display">3</td>' in ana
    assert '<td class="field-overdue_count_display">1</td>' in ana
    assert "R$\u00a081,68" in ana  # 80 × (1 + 2 % + 3 × 0,033 %): the other account's boleto only
    first = client.get(f"{URL}?account={office['account'].pk}").content.decode()
    assert names_in(first) == ["Ana Souza"] and '<td class="field-overdue_count_display">2</td>' in first


def test_later_pages_and_the_count_come_from_the_same_grouped_query(client, reader, db):
    account = factories.JunoAccountFactory()
    for n in range(55):
        late(factories.CustomerFactory(bank_account=account, name=f"Cliente {n:02d}"), 100 - n)

    with CaptureQueriesContext(connection) as captured:
        page = client.get(URL + "?p=2").content.decode()

    assert names_in(page) == [f"Cliente {n:02d}" for n in range(50, 55)]
    assert "55" in re.search(r'<p class="paginator">(.*?)</p>', page, flags=re.S).group(1)
    grouped = [
        q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"] and "billing_charge" in q["sql"]
    ]
    assert len(grouped) == 1 and "OVER ()" in grouped[0]
