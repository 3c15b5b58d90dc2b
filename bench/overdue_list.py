"""The overdue list (inadimplentes) at a large provider's size: time and queries per page.

Fill a scratch PostgreSQL database first (100,000 customers, 1,000,000 charges):

    DATABASE_URL=postgres://... python bench/scale_data.py --logs 0
    DATABASE_URL=postgres://... python bench/overdue_list.py [--runs 7]

Each page of the admin's overdue list (unfiltered, each filter, a search, a later page) is rendered
through Django's test client as a superuser: median and worst time, and the number of SQL queries.
The baseline, in the same run and alternated with ours, is the obvious ORM query for the same first
page (a join to the accounts to leave out contra-apresentação boletos, COUNT(id), and the number of
groups in a query of its own): neither the account nor the id is in an index, so PostgreSQL reads
the rows of every open boleto, and groups them twice. (Every customer's charges read into Python one
customer at a time, the first baseline tried, took 9 minutes and is not worth running.)
"""

from __future__ import annotations

import argparse
import datetime as dt
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
from django.db.models import Count, Min, Sum, Window  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from billing.models import Charge, ChargeState  # noqa: E402
from core.dates import today  # noqa: E402
from customers.models import Customer  # noqa: E402
from dunning.selectors import amounts_due_today, overdue_groups  # noqa: E402
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
        ("account", f"{URL}?account={account}"),
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


def baseline_first_page(day: dt.date) -> tuple[float, int]:
    """The obvious ORM query for the same first page: join the accounts to leave out
    contra-apresentação boletos, count ids, count the groups in a query of their own."""
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        groups = (
            Charge.objects.filter(
                state=ChargeState.ISSUED, due_date__lt=day, bank_account__contra_apresentacao=False
            )
            .order_by()
            .values("customer_id")
            .annotate(overdue_count=Count("id"), oldest_due=Min("due_date"), face_total=Sum("amount"))
        )
        groups.count()
        rows = list(groups.order_by("oldest_due", "customer_id")[:50])
        amounts_due_today([row["customer_id"] for row in rows], today=day)
    return (time.perf_counter() - started) * 1000, len(captured.captured_queries)


def ours_first_page(day: dt.date) -> tuple[float, int]:
    """The same first page as the admin reads it: one grouped query with its window count."""
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        groups = overdue_groups(today=day).order_by("oldest_due", "customer_id")
        rows = list(groups.annotate(total=Window(Count("*")))[:50])
        amounts_due_today([row["customer_id"] for row in rows], today=day)
    return (time.perf_counter() - started) * 1000, len(captured.captured_queries)


def compare(day: dt.date, runs: int) -> None:
    """Ours and the baseline, alternated run by run so that both see the same machine."""
    ours: list[float] = []
    base: list[float] = []
    ours_queries = base_queries = 0
    for _ in range(runs):
        elapsed, ours_queries = ours_first_page(day)
        ours.append(elapsed)
        elapsed, base_queries = baseline_first_page(day)
        base.append(elapsed)
    print(f"{'first page, queries only':<28} {'median ms':>10} {'worst ms':>10} {'queries':>8}")
    print(
        f"{'ours (covering index)':<28} {statistics.median(ours):>10.1f} {max(ours):>10.1f} {ours_queries:>8}"
    )
    print(
        f"{'baseline (obvious ORM)':<28} {statistics.median(base):>10.1f} {max(base):>10.1f} {base_queries:>8}"
    )
    print(f"speed-up: {statistics.median(base) / statistics.median(ours):.1f}x")


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
        compare(day, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
