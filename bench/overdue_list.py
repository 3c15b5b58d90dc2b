"""The overdue list (inadimplentes) at a large provider's size: time and queries per page.

Fill a scratch PostgreSQL database first (100,000 customers, 1,000,000 charges):

    DATABASE_URL=postgres://... python bench/scale_data.py --logs 0
    DATABASE_URL=postgres://... python bench/overdue_list.py [--runs 7]

Each page of the admin's overdue list (unfiltered, each filter, a search, a later page) is rendered
through Django's test client as a superuser: median and worst time, and the number of SQL queries.
The baseline, in the same run, is the naive way to build the same first page: every customer with an
overdue boleto read into Python, their overdue charges summed one customer at a time, sorted, cut.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("AXES_ENABLED", "False")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from billing.models import Charge, ChargeState  # noqa: E402
from billing.services.amounts import charge_amount_due  # noqa: E402
from core.dates import today  # noqa: E402
from customers.models import Customer  # noqa: E402
from dunning.selectors import overdue_groups  # noqa: E402
from providers.models import BankAccount  # noqa: E402

URL = "/admin/dunning/overduecustomer/"
TARGET_MS = 300


def pages() -> list[tuple[str, str]]:
    account = BankAccount.objects.order_by("id").values_list("pk", flat=True).first()
    first = overdue_groups(today=today()).order_by("oldest_due", "customer_id").first()
    name = Customer.objects.get(pk=first["customer_id"]).name if first else "Cliente 1"
    word = name.split()[-1]
    return [
        ("unfiltered", URL),
        ("page 20", URL + "?p=20"),
        ("days late 31-60", URL + "?days_late=31-60"),
        ("days late 1-15", URL + "?days_late=1-15"),
        ("account", f"{URL}?bank_account__id__exact={account}"),
        ("status blocked", URL + "?status__exact=blocked"),
        ("search name", f"{URL}?q={word}"),
        ("sorted by count", URL + "?o=4"),
    ]


def measure(client: Client, url: str, runs: int) -> tuple[float, float, int]:
    times = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured.captured_queries)
    return statistics.median(times), max(times), queries


def naive_first_page(day) -> tuple[float, int]:
    """The obvious implementation: every overdue customer in Python, their charges one by one."""
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        ids = set(
            Charge.objects.filter(state=ChargeState.ISSUED, due_date__lt=day).values_list(
                "customer_id", flat=True
            )
        )
        rows = []
        for customer in Customer.objects.filter(pk__in=ids):
            charges = list(
                customer.charges.filter(state=ChargeState.ISSUED, due_date__lt=day).select_related(
                    "bank_account"
                )
            )
            oldest = min(c.due_date for c in charges)
            rows.append(
                (oldest, customer.pk, len(charges), sum(charge_amount_due(c, on=day) for c in charges))
            )
        rows.sort()
        rows[:50]
    return (time.perf_counter() - started) * 1000, len(captured.captured_queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print(
            "overdue_list: set DATABASE_URL to a PostgreSQL database (see bench/scale_data.py)",
            file=sys.stderr,
        )
        return 2
    setup_test_environment()
    day = today()
    customers = Customer.objects.count()
    charges = Charge.objects.count()
    overdue = Charge.objects.filter(state=ChargeState.ISSUED, due_date__lt=day).count()
    listed = overdue_groups(today=day).count()
    print(
        f"data: {customers:,} customers, {charges:,} charges, {overdue:,} overdue boletos, {listed:,} overdue customers"
    )
    user, _ = get_user_model().objects.get_or_create(
        username="bench-overdue", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    client.get(URL)  # warm up: connections, templates, caches
    print(f"{'page':<20} {'median ms':>10} {'worst ms':>10} {'queries':>8}")
    worst_median = 0.0
    query_counts = set()
    for label, url in pages():
        median, worst, queries = measure(client, url, args.runs)
        worst_median = max(worst_median, median)
        query_counts.add(queries)
        print(f"{label:<20} {median:>10.1f} {worst:>10.1f} {queries:>8}")
    print(
        f"slowest median {worst_median:.0f} ms (target <= {TARGET_MS} ms): "
        f"{'OK' if worst_median <= TARGET_MS else 'OVER'}; queries per page: {sorted(query_counts)}"
    )
    if not args.no_baseline:
        elapsed, queries = naive_first_page(day)
        print(f"baseline (naive, first page): {elapsed:,.0f} ms, {queries:,} queries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
