"""Benchmark: the admin index with the billing dashboard over 100,000 charges (not a test).

    .venv/bin/python bench/dashboard.py [--charges 100000] [--runs 15]

Builds a throw-away database (SQLite in a temporary directory unless DATABASE_URL is set; with
DATABASE_URL, Django's test-database machinery creates and drops ``test_<name>``), fills it with
bulk_create, then renders ``/admin/`` through the test Client as a superuser, with the dashboard
and without it (Django's own admin/index.html, same data, same run), and prints the median time
and the query count of each. Target: dashboard page under 300 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_TMP = tempfile.TemporaryDirectory(prefix="cobranca-bench-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_TMP.name}/bench.sqlite3")
os.environ.setdefault("CACHE_URL", "locmemcache://")
os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from billing.models import Charge, ChargeState, Payment  # noqa: E402
from billing.selectors.dashboard import billing_dashboard  # noqa: E402
from customers.models import Customer  # noqa: E402
from providers.models import BankAccount, Gateway, Provider  # noqa: E402
from tests.factories import make_cpf  # noqa: E402

STATES = [
    (ChargeState.PAID, 62),
    (ChargeState.ISSUED, 22),
    (ChargeState.CANCELLED, 5),
    (ChargeState.PENDING, 3),
    (ChargeState.FAILED, 2),
    (ChargeState.CANCEL_REQUESTED, 2),
    (ChargeState.REFUNDED, 1),
    (ChargeState.UNKNOWN, 1),
    (ChargeState.ISSUING, 2),
]


def populate(n_charges: int, n_customers: int) -> None:
    rng = random.Random(42)
    Provider.objects.create(name="Provedor Bench")
    accounts = [
        BankAccount.objects.create(name=f"Juno {i}", gateway=Gateway.JUNO, sandbox_token="x", token="y")
        for i in range(3)
    ] + [
        BankAccount.objects.create(
            name="Mycontas", gateway=Gateway.MYCONTAS, account_code="A", account_password="p"
        )
    ]
    customers = Customer.objects.bulk_create(
        [
            Customer(
                name=f"Cliente {i}",
                document=make_cpf(200000000 + i),
                bank_account=accounts[i % len(accounts)],
                plan_amount=Decimal("99.90"),
                due_day=1 + i % 28,
            )
            for i in range(n_customers)
        ],
        batch_size=2000,
    )
    today = timezone.localdate()
    states, weights = zip(*STATES, strict=True)
    charges = []
    for i in range(n_charges):
        customer = customers[i % n_customers]
        # Spread over 18 months back and 2 ahead.
        due = today - dt.timedelta(days=rng.randint(-60, 540))
        charges.append(
            Charge(
                reference=f"B-{i:09d}",
                customer=customer,
                bank_account_id=customer.bank_account_id,
                amount=Decimal(rng.choice(["79.90", "99.90", "129.90", "199.90"])),
                due_date=due,
                description="Internet",
                state=rng.choices(states, weights)[0],
            )
        )
    Charge.objects.bulk_create(charges, batch_size=5000)
    # auto_now_add stamped every row "now"; spread state changes over time as a real history would.
    now = timezone.now()
    start = min(c.due_date for c in charges).replace(day=1)
    while start <= today:
        end = (start + dt.timedelta(days=32)).replace(day=1)
        changed = timezone.make_aware(dt.datetime.combine(start, dt.time(9)))
        Charge.objects.filter(due_date__gte=start, due_date__lt=end).update(
            state_changed_at=min(changed, now)
        )
        start = end
    paid = Charge.objects.filter(state__in=[ChargeState.PAID, ChargeState.REFUNDED]).values_list(
        "id", "amount", "due_date", "bank_account_id"
    )
    Payment.objects.bulk_create(
        [
            Payment(
                charge_id=pk,
                bank_account_id=account_id,
                sandbox=True,
                gateway="juno",
                gateway_payment_id=f"P{pk}",
                amount=amount,
                paid_on=due - dt.timedelta(days=rng.randint(-5, 3)),
                status="CONFIRMED",
            )
            for pk, amount, due, account_id in paid.iterator()
        ],
        batch_size=5000,
    )


def measure(client: Client, runs: int) -> tuple[float, float, int]:
    """Median wall time and median CPU time (ms) of ``GET /admin/``, and its query count.

    CPU time is this process's (SQLite runs inside it): it stays meaningful on a shared machine
    whose other jobs inflate the wall time.
    """
    client.get("/admin/")  # warm-up: template loading, permission cache, SQLite page cache
    wall, cpu = [], []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get("/admin/")
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, response.status_code
        queries = len(captured)
    return statistics.median(wall), statistics.median(cpu), queries


def plain_admin_templates() -> list[dict]:
    """TEMPLATES without the project's folder: /admin/ renders Django's own index.html."""
    templates = [dict(engine) for engine in settings.TEMPLATES]
    templates[0]["DIRS"] = []
    return templates


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--charges", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    from django.test.utils import get_runner

    setup_test_environment()
    runner = get_runner(settings)(verbosity=0, interactive=False)
    old_config = runner.setup_databases()
    try:
        start = time.perf_counter()
        populate(args.charges, args.customers)
        print(
            f"database: {connection.vendor}; {Charge.objects.count():,} charges, "
            f"{Payment.objects.count():,} payments, filled in {time.perf_counter() - start:.1f} s"
        )
        user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-pass-123")
        client = Client()
        client.force_login(user)

        selector_wall, selector_cpu = [], []
        for _ in range(args.runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            billing_dashboard()
            selector_wall.append((time.perf_counter() - start) * 1000)
            selector_cpu.append((time.process_time() - start_cpu) * 1000)
        dashboard_ms, dashboard_cpu, dashboard_queries = measure(client, args.runs)
        with override_settings(TEMPLATES=plain_admin_templates()):
            baseline_ms, baseline_cpu, baseline_queries = measure(client, args.runs)

        print(
            f"runs per variant: {args.runs} (medians); "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        print(f"{'':30s} {'wall ms':>8s} {'cpu ms':>8s} {'queries':>8s}")
        rows = [
            ("selector alone", statistics.median(selector_wall), statistics.median(selector_cpu), 6),
            ("admin index with dashboard", dashboard_ms, dashboard_cpu, dashboard_queries),
            ("admin index, plain (Django)", baseline_ms, baseline_cpu, baseline_queries),
            (
                "dashboard cost",
                dashboard_ms - baseline_ms,
                dashboard_cpu - baseline_cpu,
                dashboard_queries - baseline_queries,
            ),
        ]
        for label, wall_ms, cpu_ms, queries in rows:
            print(f"{label:30s} {wall_ms:8.1f} {cpu_ms:8.1f} {queries:8d}")
        verdict = "OK" if dashboard_ms < 300 else "OVER"
        print(f"target: admin index with dashboard < 300 ms wall: {verdict}")
    finally:
        runner.teardown_databases(old_config)
        _TMP.cleanup()


if __name__ == "__main__":
    main()
