"""Staff dashboard on the admin index: billing.selectors.dashboard and {% billing_dashboard_data %}."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone

from billing.models import Charge, ChargeState, Notification, NotificationStatus, Payment
from billing.selectors.dashboard import billing_dashboard, month_start_shift
from tests import factories
from tests.browser.helpers import pt

# 12:00 in São Paulo, 20 November 2026.
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def charge(customer, state, due, amount="100.00", **kwargs):
    return factories.ChargeFactory(
        customer=customer, state=state, due_date=due, amount=Decimal(amount), **kwargs
    )


def pay(charge_, paid_on, amount=None):
    return Payment.objects.create(
        charge=charge_,
        gateway="juno",
        gateway_payment_id=f"pay-{charge_.pk}",
        amount=amount or charge_.amount,
        paid_on=paid_on,
        status="CONFIRMED",
    )


@pytest.fixture
def data(db):
    juno = factories.JunoAccountFactory(name="Juno principal")
    contra = factories.JunoAccountFactory(name="Juno contra", contra_apresentacao=True)
    alice = factories.CustomerFactory(bank_account=juno)
    bob = factories.CustomerFactory(bank_account=contra)
    nov = dt.date(2026, 11, 1)
    charge(alice, ChargeState.ISSUED, nov.replace(day=5), "100.00")  # overdue
    charge(alice, ChargeState.ISSUED, nov.replace(day=25), "50.00")  # open, not yet due
    charge(alice, ChargeState.CANCEL_REQUESTED, nov.replace(day=3), "10.00")  # open and overdue
    paid = charge(alice, ChargeState.PAID, nov.replace(day=10), "99.90")
    pay(paid, dt.date(2026, 11, 9))
    charge(alice, ChargeState.FAILED, nov.replace(day=15), "70.00")
    charge(alice, ChargeState.PENDING, nov.replace(day=15), "70.00")
    charge(alice, ChargeState.CANCELLED, nov.replace(day=15), "70.00")
    october = charge(alice, ChargeState.PAID, dt.date(2026, 10, 10), "80.00")
    pay(october, dt.date(2026, 11, 2), Decimal("81.60"))  # paid late, in November
    september = charge(alice, ChargeState.PAID, dt.date(2026, 9, 10), "80.00")
    pay(september, dt.date(2026, 9, 10))
    refunded = charge(alice, ChargeState.REFUNDED, nov.replace(day=12), "40.00")
    pay(refunded, dt.date(2026, 11, 11))  # money given back: not received
    charge(alice, ChargeState.ISSUED, dt.date(2026, 12, 10), "100.00")  # next month: not counted
    charge(alice, ChargeState.ISSUED, dt.date(2025, 11, 10), "100.00")  # 13 months ago: outside the chart
    # Needing attention, whatever the due date: unknown, failed, issuing for more than 15 minutes.
    charge(alice, ChargeState.UNKNOWN, dt.date(2026, 12, 10))
    stale = charge(alice, ChargeState.ISSUING, dt.date(2026, 12, 10))
    fresh = charge(alice, ChargeState.ISSUING, dt.date(2026, 12, 10))
    Charge.objects.filter(pk=stale.pk).update(state_changed_at=NOW - dt.timedelta(minutes=16))
    Charge.objects.filter(pk=fresh.pk).update(state_changed_at=NOW - dt.timedelta(minutes=5))
    # Contra-apresentação: open since the 1st, never overdue.
    charge(bob, ChargeState.ISSUED, nov.replace(day=1), "60.00")
    return {"juno": juno, "contra": contra}


def test_month_figures_per_account(data, django_assert_num_queries):
    with django_assert_num_queries(6):
        board = billing_dashboard()

    assert board.month_start == dt.date(2026, 11, 1)
    assert board.next_month_start == dt.date(2026, 12, 1)
    by_name = {summary.account.name: summary for summary in board.accounts}
    juno = by_name["Juno principal"]
    assert (juno.issued, juno.paid, juno.open, juno.overdue, juno.failed, juno.attention) == (
        5,
        1,
        3,
        2,
        1,
        3,
    )
    # issued, issued, cancel requested, paid, refunded
    assert juno.billed == Decimal("299.90")
    # Payments dated November (the October charge paid late counts, the refunded one does not).
    assert juno.received == Decimal("181.50")
    contra = by_name["Juno contra"]
    assert (contra.issued, contra.open, contra.overdue) == (1, 1, 0)
    assert board.totals.issued == 6 and board.totals.billed == Decimal("359.90")


def test_twelve_months_of_history(data):
    board = billing_dashboard()
    assert [point.month for point in board.history] == [
        month_start_shift(dt.date(2026, 11, 1), offset) for offset in range(-11, 1)
    ]
    history = {point.month: point for point in board.history}
    assert history[dt.date(2026, 9, 1)].billed == Decimal("80.00")
    assert history[dt.date(2026, 9, 1)].received == Decimal("80.00")
    assert history[dt.date(2026, 10, 1)].billed == Decimal("80.00")
    assert history[dt.date(2026, 10, 1)].received == Decimal("0.00")
    assert history[dt.date(2026, 11, 1)].received == Decimal("181.50")
    assert dt.date(2025, 11, 1) not in history
    assert dt.date(2025, 12, 1) in history


def test_current_month_is_taken_in_sao_paulo(db):
    # 01:00 UTC on 1 December is still 30 November in São Paulo.
    board = billing_dashboard(now=dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC))
    assert board.month_start == dt.date(2026, 11, 1)
    assert board.today == dt.date(2026, 11, 30)


def test_inactive_account_without_figures_is_hidden(db):
    factories.JunoAccountFactory(name="Old account", active=False)
    factories.JunoAccountFactory(name="Current account")
    names = [summary.account.name for summary in billing_dashboard().accounts]
    assert names == ["Current account"]


@pytest.fixture
def superuser(db):
    return factories.UserFactory(username="boss", is_superuser=True)


def _dashboard_links(html: str) -> list[str]:
    start = html.index('class="billing-dashboard"')
    end = html.index("</section>", start)
    section = html[start:end]
    return [part.split('"', 1)[0].replace("&amp;", "&") for part in section.split('href="')[1:]]


def test_admin_index_shows_dashboard_and_app_list(client, superuser, data, django_assert_max_num_queries):
    client.force_login(superuser)
    # session and user, the dashboard's 6 aggregates, the warnings (a few per Juno account), the log.
    with django_assert_max_num_queries(18):
        response = client.get("/admin/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="billing-dashboard"' in html
    assert "<svg" in html and html.count('class="billing-bar-billed"') == 12
    assert "Juno principal" in html and "Juno contra" in html
    assert "R$\u00a0299,90" in html and "R$\u00a0181,50" in html
    assert 'id="content-main"' in html and "app-billing" in html and "app-customers" in html
    assert "billing/dashboard.css" in html
    assert "<script" not in html.split('class="billing-dashboard"')[1].split("</section>")[0]


def test_dashboard_links_filter_the_charges_changelist(client, superuser, data):
    client.force_login(superuser)
    links = _dashboard_links(client.get("/admin/").content.decode())
    juno = data["juno"].pk
    overdue = [
        link
        for link in links
        if f"bank_account__id__exact={juno}" in link and "due_date__lt=2026-11-20" in link
    ]
    assert len(overdue) == 1
    query = parse_qs(urlsplit(overdue[0]).query)
    assert query == {
        "state__in": ["issued,cancel_requested"],
        "bank_account__id__exact": [str(juno)],
        "due_date__gte": ["2026-11-01"],
        "due_date__lt": ["2026-11-20"],
    }
    paid = [
        link for link in links if "state__exact=paid" in link and f"bank_account__id__exact={juno}" in link
    ]
    assert parse_qs(urlsplit(paid[0]).query)["due_date__lt"] == ["2026-12-01"]
    assert any(link.endswith(f"attention=yes&bank_account__id__exact={juno}") for link in links)
    # Every link is accepted by the changelist (an unknown lookup would redirect to ?e=1).
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
    response = client.get(overdue[0])
    assert response.context["cl"].result_count == 2


def test_staff_without_charge_permission_sees_no_dashboard(client, data):
    user = factories.UserFactory(username="clerk")
    user.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(user)
    html = client.get("/admin/").content.decode()
    assert 'class="billing-dashboard"' not in html
    assert "app-customers" in html


def test_view_only_staff_sees_dashboard(client, data):
    user = factories.UserFactory(username="reader")
    user.user_permissions.add(Permission.objects.get(codename="view_charge"))
    client.force_login(user)
    assert 'class="billing-dashboard"' in client.get("/admin/").content.decode()


def test_empty_database_renders(client, superuser):
    client.force_login(superuser)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert pt("No bank account yet.") in unescape(response.content.decode())
    assert timezone.localdate() == dt.date(2026, 11, 20)


def test_notification_warnings_are_shown_above_the_figures(client, superuser, data):
    Notification.objects.create(
        gateway="juno", path="/api/notifications/juno/x/", status=NotificationStatus.FAILED
    )
    client.force_login(superuser)
    html = client.get("/admin/").content.decode()
    warnings = html.split('class="messagelist billing-warnings"')[1].split("</ul>")[0]
    assert warnings.count('class="warning"') == 1
    assert "Notifications" in warnings or "Notifica" in warnings


@pytest.mark.parametrize(
    ("tallest", "top"),
    [("0", "100"), ("7", "8"), ("10", "10"), ("10.01", "12"), ("10750", "12000"), ("123456.78", "150000")],
)
def test_chart_axis_top_is_a_round_number_just_above_the_tallest_bar(tallest, top):
    from billing.templatetags.dashboard import _nice_ceiling

    assert _nice_ceiling(Decimal(tallest)) == Decimal(top)


def test_chart_bars_are_proportional_and_axis_labels_short(data):
    from billing.templatetags.dashboard import _chart, compact_brl

    chart = _chart(billing_dashboard())
    november = chart["months"][-1]
    billed, received = november["billed"]["height"], november["received"]["height"]
    # 359.90 billed and 181.50 received against a 400 top.
    assert billed / received == pytest.approx(Decimal("359.90") / Decimal("181.50"), rel=Decimal("0.01"))
    assert november["billed"]["y"] + billed == chart["baseline"]
    assert [compact_brl(line["amount"]) for line in chart["grid"]] == ["0", "100", "200", "300", "400"]
    assert compact_brl(Decimal("12500")) == pt("%(number)s k", number="12,5")
