"""The daily overdue pass at scale: 100,000 customers and 1,000,000 charges on PostgreSQL.

    DATABASE_URL=postgres://.../scratch python bench/overdue_pass.py [--customers 100000] [--baseline-sample 5000]

Migrates and fills a scratch database (it empties the customers, charges and their histories
first), then runs,
from the same starting state each time:

1. the pass as shipped (billing.services.service_status.overdue_pass) at a tenth of the customers
   and at all of them: time and SQL statements, which must not grow with the customers;
2. the naive baseline: a loop over every customer that reads their charges and changes their status
   one by one through the same status service (history, events) — the way a per-customer job would
   do it, one transaction per customer. It costs some 25 ms a customer on a shared 2-core machine
   (40 minutes for 100,000), so by default it runs over the first 5,000 customers and its time is
   scaled up; ``--baseline-sample 0`` runs it over all of them.

Both must reach the same statuses. One webhook endpoint is configured, so every change also writes
its outbox event (the deliveries are made and posted after commit by the webhook tasks, which are
counted here, not sent or timed).

The data: 10 charges per customer, due monthly up to next month; most are paid; the scenario gives
about 8 % of customers a boleto open past the 15-day limit (to block), 4 % one still within it,
5 % blocked for debt who have paid since (to unblock), 2 % blocked by staff and 1 % suspended (left
alone, both with overdue boletos), and 1 % with their own limit (0, 5 or 30 days).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import contextlib  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from billing.models import Charge, Lease, TrustUnblock  # noqa: E402
from billing.services import overdue_policy as policy  # noqa: E402
from billing.services import service_status  # noqa: E402
from billing.services.dates import add_months  # noqa: E402
from core import queue  # noqa: E402
from core.dates import today  # noqa: E402
from customers.models import Customer, CustomerStatus, StatusCause, StatusChange  # noqa: E402
from customers.services import customer_change_status  # noqa: E402
from providers.models import BankAccount, Gateway, Provider  # noqa: E402
from webhooks.models import Delivery, Endpoint, Event  # noqa: E402

CHARGES_PER_CUSTOMER = 10
#: Messages the pass hands to Celery (deliveries, RADIUS syncs): counted here, not sent.
PUBLISHED: list[str] = []
queue.publish = lambda name, args, countdown: PUBLISHED.append(name)  # type: ignore[assignment]


class Statements:
    """Counts every SQL statement sent (``executemany`` counts once), without keeping them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


@contextlib.contextmanager
def counting() -> Iterator[Statements]:
    counter = Statements()
    with connection.execute_wrapper(counter):
        yield counter


def insert_select(model: type[models.Model], count: int, expressions: dict[str, str]) -> float:
    """INSERT ... SELECT over generate_series(1, count) AS g: the given SQL per column, the model's
    default (as a parameter) for every other one, so new columns need no change here."""
    ops = connection.ops
    now = timezone.now()
    columns, values, args = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(ops.quote_name(field.column))
        if field.column in expressions:
            values.append(expressions[field.column])
        else:
            default = (
                now
                if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
                else field.get_default()
            )
            values.append("%s")
            args.append(field.get_db_prep_save(default, connection))
    sql = (
        f"INSERT INTO {ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1, %s) AS g"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, [*args, count])
    return time.perf_counter() - started


def fill(customers: int, day: dt.date) -> None:
    """The scenario described in the module docstring, on an emptied database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE customers_statuschange, billing_trustunblock, billing_chargeevent, webhooks_deliveryattempt,"
            " webhooks_delivery, webhooks_event, billing_payment, billing_charge, billing_carne, customers_customer"
            " RESTART IDENTITY CASCADE"
        )
    Lease.objects.all().delete()
    Provider.objects.all().delete()
    Provider.objects.create(name="Bench Telecom", block_after_days=15)
    Endpoint.objects.all().delete()
    Endpoint.objects.create(name="NOC", url="http://127.0.0.1:9/hook", secret="bench-secret-0123456789")
    account = BankAccount.objects.filter(contra_apresentacao=False).first() or BankAccount.objects.create(
        name="Bench Juno", gateway=Gateway.JUNO, sandbox_token="bench"
    )
    # Per customer g: 0..99 decides the case.
    case = "mod(g, 100)"
    took = insert_select(
        Customer,
        customers,
        {
            "name": "'Cliente ' || g",
            "document": "lpad(g::text, 11, '0')",
            "bank_account_id": str(account.pk),
            "plan_amount": "99.90",
            "due_day": "10",
            "portal_token": "md5(g::text) || md5((g + 1)::text)",
            "radius_username": "'user' || g",
            "status": f"CASE WHEN {case} BETWEEN 12 AND 16 THEN 'blocked' WHEN {case} BETWEEN 17 AND 18 THEN 'blocked'"
            f" WHEN {case} = 19 THEN 'suspended' ELSE 'active' END",
            "status_cause": f"CASE WHEN {case} BETWEEN 12 AND 16 THEN 'overdue' WHEN {case} BETWEEN 17 AND 18 THEN 'staff'"
            " ELSE '' END",
            "block_after_days": f"CASE WHEN {case} = 20 THEN 0 WHEN {case} = 21 THEN 5 WHEN {case} = 22 THEN 30 END",
        },
    )
    print(f"customers: {customers:,} rows in {took:.1f} s", flush=True)
    # Charges: months -8 .. +1 around this month, due on the 10th. The newest past one (this month's,
    # or last month's if the 10th has not come yet) is what the scenario plays with.
    this_month = day.replace(day=1)
    first_month = add_months(this_month, -(CHARGES_PER_CUSTOMER - 2))
    overdue_due = (day - dt.timedelta(days=20)).isoformat()  # past the 15-day limit
    recent_due = (day - dt.timedelta(days=5)).isoformat()  # within it
    # g runs over customers x months: customer = (g - 1) / 10 + 1, month index = (g - 1) % 10.
    customer = "((g - 1) / 10 + 1)"
    month_index = "mod(g - 1, 10)"
    ccase = f"mod({customer}, 100)"
    is_scenario_row = f"{month_index} = 8"  # one charge per customer carries the scenario
    due = f"(DATE '{first_month.isoformat()}' + ({month_index} || ' months')::interval + interval '9 days')::date"
    took = insert_select(
        Charge,
        customers * CHARGES_PER_CUSTOMER,
        {
            "reference": "'B-' || g",
            "customer_id": customer,
            "bank_account_id": str(account.pk),
            "amount": "99.90",
            "description": "'Internet'",
            "billing_month": f"(DATE '{first_month.isoformat()}' + ({month_index} || ' months')::interval)::date",
            "due_date": (
                f"CASE WHEN {is_scenario_row} AND ({ccase} < 8 OR {ccase} BETWEEN 17 AND 22) THEN DATE '{overdue_due}'"
                f" WHEN {is_scenario_row} AND {ccase} BETWEEN 8 AND 11 THEN DATE '{recent_due}' ELSE {due} END"
            ),
            "state": (
                f"CASE WHEN {is_scenario_row} AND ({ccase} < 12 OR {ccase} BETWEEN 17 AND 22) THEN 'issued'"
                f" WHEN {month_index} = 9 THEN 'issued' ELSE 'paid' END"
            ),
        },
    )
    print(f"charges: {customers * CHARGES_PER_CUSTOMER:,} rows in {took:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer; ANALYZE billing_charge;")
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_start AS SELECT id, status, status_cause FROM customers_customer"
        )


def reset() -> None:
    """Back to the starting statuses; history, outbox and lease emptied."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_customer c SET status = s.status, status_cause = s.status_cause, status_changed_at = NULL"
            " FROM bench_start s WHERE s.id = c.id AND (c.status, c.status_cause) IS DISTINCT FROM (s.status, s.status_cause)"
        )
        cursor.execute(
            "TRUNCATE customers_statuschange, billing_trustunblock, webhooks_deliveryattempt, webhooks_delivery,"
            " webhooks_event RESTART IDENTITY"
        )
    Lease.objects.all().delete()


def statuses() -> dict[int, tuple[str, str]]:
    rows = Customer.objects.order_by("pk").values_list("pk", "status", "status_cause")
    return {pk: (status, cause) for pk, status, cause in rows}


def ours(day: dt.date, *, limit_to: int | None = None) -> tuple[float, int, dict[str, int]]:
    """The shipped pass; with ``limit_to`` only customers with id <= limit_to exist for it."""
    hidden = None
    PUBLISHED.clear()
    if limit_to is not None:  # park the others where the pass does not look: suspended
        with connection.cursor() as cursor:
            cursor.execute("UPDATE customers_customer SET status = 'suspended' WHERE id > %s", [limit_to])
            hidden = limit_to
    # The lease row exists from now on (its first use inserts it: one statement more, once ever).
    Lease.objects.get_or_create(name=service_status.PASS_LEASE, defaults={"expires_at": timezone.now()})
    with counting() as statements:
        started = time.perf_counter()
        result = service_status.overdue_pass(today=day)
        took = time.perf_counter() - started
    assert result is not None
    if hidden is not None:
        reset()
    return took, statements.count, result.as_dict()


def naive(day: dt.date, *, sample: int) -> tuple[float, int, int]:
    """A per-customer loop over the same rules and the same status service."""
    provider = Provider.objects.get()
    accounts = list(BankAccount.objects.filter(contra_apresentacao=False).values_list("pk", flat=True))
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    if sample:
        ids = ids[:sample]
    changed = 0
    with counting() as statements:
        started = time.perf_counter()
        for pk in ids:
            with transaction.atomic():
                customer = Customer.objects.select_for_update().get(pk=pk)
                if customer.status not in (CustomerStatus.ACTIVE, CustomerStatus.BLOCKED):
                    continue
                days = policy.block_after_days(
                    customer_days=customer.block_after_days, provider_days=provider.block_after_days
                )
                limit = policy.last_tolerated_due_date(today=day, days=days)
                overdue = (
                    limit is not None
                    and Charge.objects.filter(
                        customer=customer,
                        state__in=service_status.OVERDUE_STATES,
                        bank_account_id__in=accounts,
                        due_date__lte=limit,
                    ).exists()
                )
                trust = TrustUnblock.objects.filter(customer=customer, last_day__gte=day).exists()
                if customer.status == CustomerStatus.ACTIVE and overdue and not trust:
                    changed += customer_change_status(
                        customer=customer,
                        to_status=CustomerStatus.BLOCKED,
                        cause=StatusCause.OVERDUE,
                        reason="naive",
                    )
                elif (
                    customer.status == CustomerStatus.BLOCKED
                    and customer.status_cause == StatusCause.OVERDUE
                    and not overdue
                ):
                    changed += customer_change_status(
                        customer=customer,
                        to_status=CustomerStatus.ACTIVE,
                        cause=StatusCause.PAYMENT,
                        reason="naive",
                    )
        took = time.perf_counter() - started
    return took, statements.count, changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=5000,
        help="run the naive loop over the first N customers only and scale its time up (0: all of them)",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("overdue_pass: set DATABASE_URL to a scratch PostgreSQL database", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    day = today()
    fill(args.customers, day)
    start = statuses()

    tenth = args.customers // 10
    small_time, small_queries, small = ours(day, limit_to=tenth)
    print(
        f"ours, {tenth:,} customers: {small_time:.2f} s, {small_queries} SQL statements, {small}", flush=True
    )
    reset()
    big_time, big_queries, big = ours(day)
    after_ours = statuses()
    print(
        f"ours, {args.customers:,} customers / {args.customers * CHARGES_PER_CUSTOMER:,} charges: "
        f"{big_time:.2f} s, {big_queries} SQL statements, {big}",
        flush=True,
    )
    events, deliveries, history = (
        Event.objects.count(),
        Delivery.objects.count(),
        StatusChange.objects.count(),
    )
    print(
        f"  wrote {history:,} history rows, {events:,} events, {deliveries:,} deliveries;"
        f" {len(PUBLISHED):,} Celery messages after commit (not sent)",
        flush=True,
    )

    reset()
    sample = args.baseline_sample if 0 < args.baseline_sample < args.customers else 0
    naive_time, naive_queries, changed = naive(day, sample=sample)
    covered = sample or args.customers
    scaled = naive_time * args.customers / covered
    after_naive = statuses()
    label = f"first {covered:,} customers" if sample else f"{covered:,} customers"
    print(
        f"naive loop, {label}: {naive_time:.2f} s, {naive_queries:,} SQL statements, {changed:,} changed",
        flush=True,
    )
    if sample:
        print(f"  scaled to {args.customers:,} customers: {scaled:.1f} s", flush=True)
        sampled = sorted(after_ours)[:covered]
        same = all(after_naive[pk] == after_ours[pk] for pk in sampled)
    else:
        same = after_naive == after_ours
    moved = sum(1 for pk, state in after_ours.items() if state != start[pk])
    print(f"same statuses either way: {same} ({moved:,} customers changed)")
    print(
        f"ours vs naive: {scaled / big_time:.1f}x faster; statements {big_queries} (flat: {small_queries} at a tenth)"
        f" vs {naive_queries * args.customers // covered:,}"
    )
    ok = same and big_time <= 60 and big_queries == small_queries
    print("PASS" if ok else "FAIL: needs <= 60 s, the same statuses, and as many statements at both sizes")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
