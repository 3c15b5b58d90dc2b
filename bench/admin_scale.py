"""Admin changelists at a large provider's size: median time and query count per page.

Run ``bench/scale_data.py`` first on a scratch PostgreSQL database, then:

    DATABASE_URL=postgres://... python bench/admin_scale.py [--runs 5]

Each page is rendered through Django's test client as a superuser, in one process, twice: with the
project's admin (capped/estimated counts) and with Django's stock paginator and full result count
as the baseline, so the comparison holds on a shared, noisy machine.
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

from django.conf import settings  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.paginator import Paginator  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from billing.models import Charge, GatewayLog  # noqa: E402
from customers.models import Customer  # noqa: E402


def pages() -> list[tuple[str, str]]:
    charge = Charge.objects.order_by("-id").values_list("reference", "gateway_code").first() or ("x", "0")
    customer = Customer.objects.order_by("-id").values_list("name", "document").first() or ("x", "0")
    log_ref = GatewayLog.objects.order_by("-id").values_list("reference", flat=True).first() or "x"
    return [
        ("charges", "/admin/billing/charge/"),
        ("charges state=paid", "/admin/billing/charge/?state__exact=paid"),
        ("charges state=failed (rare)", "/admin/billing/charge/?state__exact=failed"),
        ("charges account+state", "/admin/billing/charge/?bank_account__id__exact=1&state__exact=issued"),
        ("charges due month", "/admin/billing/charge/?due_date__month=1&due_date__year=2026"),
        ("charges needs attention", "/admin/billing/charge/?attention=yes"),
        ("charges search reference", f"/admin/billing/charge/?q={charge[0]}"),
        ("charges search gateway code", f"/admin/billing/charge/?q={charge[1]}"),
        ("customers", "/admin/customers/customer/"),
        ("customers status=blocked", "/admin/customers/customer/?status__exact=blocked"),
        (
            "customers search name",
            f"/admin/customers/customer/?q={customer[0].split()[0]}%20{customer[0].split()[1]}",
        ),
        ("customers search document", f"/admin/customers/customer/?q={customer[1]}"),
        ("logs", "/admin/billing/gatewaylog/"),
        ("logs outcome=rejected", "/admin/billing/gatewaylog/?outcome__exact=rejected"),
        ("logs endpoint", "/admin/billing/gatewaylog/?endpoint=cancel-charge"),
        ("logs search reference", f"/admin/billing/gatewaylog/?q={log_ref}"),
    ]


def measure(client: Client, url: str, runs: int) -> tuple[float, int, int]:
    times, queries = [], 0
    for _ in range(runs):
        reset_queries()
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        queries = len(connection.queries)
    return statistics.median(times), queries, response.status_code


def use_stock_pagination(enabled: bool) -> None:
    from core.pagination import CappedCountPaginator

    for model in (Charge, Customer, GatewayLog):
        model_admin = admin.site._registry[model]
        if enabled:
            model_admin.paginator = Paginator
            model_admin.show_full_result_count = True
        else:
            model_admin.paginator = CappedCountPaginator
            model_admin.show_full_result_count = False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    setup_test_environment()
    settings.DEBUG = True  # count queries
    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    print(
        f"rows: charges {Charge.objects.order_by().count():,}, customers {Customer.objects.order_by().count():,}, "
        f"gateway logs {GatewayLog.objects.order_by().count():,}; database {connection.vendor}; runs {args.runs}"
    )
    print(f"{'page':34} {'ours ms':>9} {'queries':>8} {'stock ms':>9} {'queries':>8}  status")
    worst = 0.0
    for label, url in pages():
        use_stock_pagination(False)
        client.get(url)  # warm caches
        ours = measure(client, url, args.runs)
        if args.no_baseline:
            stock = (float("nan"), 0, 0)
        else:
            use_stock_pagination(True)
            stock = measure(client, url, max(1, args.runs // 2))
        worst = max(worst, ours[0])
        print(f"{label:34} {ours[0]:9.1f} {ours[1]:8d} {stock[0]:9.1f} {stock[1]:8d}  {ours[2]}", flush=True)
    print(f"slowest page (ours): {worst:.1f} ms (target < 500 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
