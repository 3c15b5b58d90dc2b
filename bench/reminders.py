"""The reminder schedule at a large provider's size: 100,000 open boletos selected and queued.

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://127.0.0.1:6379/<n> python bench/reminders.py

Fills a scratch PostgreSQL database (``--charges`` open boletos at today's reminder steps, one per
customer), then times ``dunning.services.reminders_queue``: every step's selection, the log rows
(one per charge, step and channel; the unique constraint makes a second run a no-op) and the
hand-off of the send batches to the broker. No worker runs: the queued messages are purged at the
end. The baseline, in the same run, is the naive loop (per charge: look for a log row, insert one,
enqueue one task) on ``--baseline-sample`` charges, extrapolated to the full count.
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

from django.db import connection  # noqa: E402

from billing.models import Charge  # noqa: E402
from config.celery import app  # noqa: E402
from core import queue  # noqa: E402
from core.dates import today  # noqa: E402
from dunning import services  # noqa: E402
from dunning.models import ReminderLog  # noqa: E402
from dunning.services import REMINDED_STATES, provider_steps  # noqa: E402
from providers.models import BankAccount, Gateway, Provider  # noqa: E402

TARGET_SECONDS = 30


def fill(count: int) -> None:
    """``count`` customers, each with one open boleto due at one of today's steps (round robin)."""
    account, _ = BankAccount.objects.get_or_create(
        name="Bench reminders", defaults={"gateway": Gateway.JUNO, "sandbox_token": "bench"}
    )
    Provider.objects.get_or_create(name="Bench provider")
    steps = list(provider_steps(Provider.objects.order_by("id").first()))
    run = int(time.time())
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO customers_customer (name, document, email, secondary_email, phone, mobile, street,
                number, complement, neighborhood, city, state, postcode, bank_account_id, plan_amount,
                due_day, billing_type, status, portal_token, notes, reminders_opt_out, radius_username,
                radius_group, status_cause, created_at, updated_at)
            SELECT 'Bench ' || %s || ' ' || g, lpad((%s::bigint %% 100000 * 1000000 + g)::text, 11, '0'),
                'b' || g || '@example.com', '', '11999990000', '', 'Rua', '1', '', 'Centro', 'São Paulo',
                'SP', '01001000', %s, 99.90, 10, 'titulo', 'active', md5(random()::text || g) || md5(g::text),
                '', false, '', '', '', now(), now()
            FROM generate_series(1, %s) AS g
            """,
            [run, run, account.pk, count],
        )
        cursor.execute(
            """
            INSERT INTO billing_charge (reference, customer_id, bank_account_id, amount, due_date,
                billing_month, attention, description,
                state, state_changed_at, error_message, issue_attempts, paid_after_cancel, gateway_code, link,
                checkout_url, installment_link, linha_digitavel, barcode, gateway_bank_account, our_number,
                gateway_payload, pix_payload, paid_twice, gateway_cancel_due, created_at, updated_at)
            SELECT 'R' || %s || '-' || c.id, c.id, c.bank_account_id, 99.90,
                current_date - (%s::int[])[1 + c.id %% %s],
                date_trunc('month', current_date - (%s::int[])[1 + c.id %% %s])::date, '', 'Internet', 'issued',
                now(), '', 1, false,
                c.id::text, 'https://boleto.example/' || c.id, '', '', repeat('0', 47), repeat('0', 44), '', '',
                '{}'::jsonb, '', false, false, now(), now()
            FROM customers_customer c WHERE c.name LIKE %s
            """,
            [run, steps, len(steps), steps, len(steps), f"Bench {run} %%"],
        )
        cursor.execute("ANALYZE customers_customer, billing_charge, dunning_reminderlog")
    print(f"fill: {count:,} customers and open boletos in {time.perf_counter() - started:.1f} s")


def purge_broker() -> int:
    with app.connection_for_write() as conn:
        return conn.default_channel.queue_purge("celery") or 0


def naive(sample: int, day) -> float:
    """Per charge: is there a log row? insert one; enqueue one task. Seconds for ``sample`` charges."""
    task = queue.task(queue.SEND_REMINDERS)
    started = time.perf_counter()
    done = 0
    for offset in provider_steps(Provider.objects.order_by("id").first()):
        charges = Charge.objects.filter(
            state__in=REMINDED_STATES, due_date=day - dt.timedelta(days=offset)
        ).select_related("customer", "bank_account")
        for charge in charges.iterator():
            if done >= sample:
                break
            if charge.customer.reminders_opt_out or charge.bank_account.contra_apresentacao:
                continue
            if ReminderLog.objects.filter(charge=charge, step_days=offset, channel="email").exists():
                continue
            log = ReminderLog.objects.create(
                charge=charge, customer=charge.customer, step_days=offset, channel="email", run="naive"
            )
            task.delay([log.pk])
            done += 1
    return (time.perf_counter() - started) / max(done, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charges", type=int, default=100_000)
    parser.add_argument("--baseline-sample", type=int, default=3_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("reminders: set DATABASE_URL to a PostgreSQL database", file=sys.stderr)
        return 2
    if not app.conf.broker_url.startswith("redis"):
        print("reminders: set CELERY_BROKER_URL to a Redis database of your own", file=sys.stderr)
        return 2
    app.loader.import_default_modules()
    day = today()
    ReminderLog.objects.all().delete()
    steps = list(provider_steps(Provider.objects.order_by("id").first()))
    at_steps = Charge.objects.filter(
        state__in=REMINDED_STATES, due_date__in=[day - dt.timedelta(days=offset) for offset in steps]
    ).count()
    if at_steps < args.charges:
        fill(args.charges - at_steps)
    purge_broker()

    started = time.perf_counter()
    summary = services.reminders_queue(today=day)
    ours = time.perf_counter() - started
    queued_messages = purge_broker()
    print(
        f"ours: {summary.queued:,} reminders selected and queued in {ours:.1f} s "
        f"({summary.batches:,} send tasks, {queued_messages:,} broker messages; per step {summary.per_step}); "
        f"target <= {TARGET_SECONDS} s: {'OK' if ours <= TARGET_SECONDS else 'OVER'}"
    )
    started = time.perf_counter()
    again = services.reminders_queue(today=day)
    print(f"second run the same day: {again.queued} queued in {time.perf_counter() - started:.1f} s")

    ReminderLog.objects.all().delete()
    per_charge = naive(args.baseline_sample, day)
    purge_broker()
    ReminderLog.objects.filter(run="naive").delete()
    estimate = per_charge * summary.queued
    print(
        f"baseline (naive loop, {args.baseline_sample:,} charges): {per_charge * 1000:.2f} ms per charge, "
        f"about {estimate:,.0f} s for {summary.queued:,} ({estimate / ours:.1f} x ours)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
