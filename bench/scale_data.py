"""Fill PostgreSQL with a large provider's data: 100,000 customers, 1,000,000 charges, 2,000,000
gateway-log rows (the sizes are flags). Bulk inserts with ``INSERT ... SELECT generate_series``:
minutes, not hours.

    DATABASE_URL=postgres://... python bench/scale_data.py [--customers N] [--charges N] [--logs N]

It adds to what is there (run it on a scratch database) and ends with ANALYZE so the planner and
the admin's estimated counts see the new sizes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from providers.models import BankAccount, Gateway  # noqa: E402

STATES = ["pending", "issued", "issued", "issued", "paid", "paid", "paid", "paid", "cancelled", "failed", "unknown"]  # fmt: skip


def ensure_accounts() -> list[int]:
    accounts = list(BankAccount.objects.values_list("pk", flat=True)[:2])
    if len(accounts) < 2:
        for n, gateway in enumerate([Gateway.JUNO, Gateway.MYCONTAS][len(accounts) :]):
            account = BankAccount.objects.create(
                name=f"Scale {gateway} {n}",
                gateway=gateway,
                sandbox_token="scale-sandbox" if gateway == Gateway.JUNO else None,
                account_code="1234567890ABCDEFGHIJ" if gateway == Gateway.MYCONTAS else "",
                account_password="teste123" if gateway == Gateway.MYCONTAS else None,
            )
            accounts.append(account.pk)
    return accounts


def timed(label: str, sql: str, params: list[object]) -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.rowcount
    print(f"{label}: {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--charges", type=int, default=1_000_000)
    parser.add_argument("--logs", type=int, default=2_000_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("scale_data: set DATABASE_URL to a PostgreSQL database", file=sys.stderr)
        return 2
    juno, mycontas = ensure_accounts()
    run = int(time.time())
    # Customers: CPF-shaped unique digits (check digits are not needed for a load test).
    timed(
        "customers",
        """
        INSERT INTO customers_customer (name, document, email, secondary_email, phone, mobile, street, number,
            complement, neighborhood, city, state, postcode, bank_account_id, plan_amount, due_day,
            billing_type, status, portal_token, notes, radius_username, radius_group, status_cause,
            created_at, updated_at)
        SELECT 'Cliente ' || g || ' ' || md5(g::text), lpad((%s::bigint * 1000000 + g)::text, 11, '0'),
            'c' || g || '@example.com', '', '11999990000', '', 'Rua ' || (g %% 500), (g %% 900)::text, '',
            'Centro', 'São Paulo', 'SP', '01001000', CASE WHEN g %% 5 = 0 THEN %s ELSE %s END,
            99.90, 1 + g %% 28, CASE WHEN g %% 3 = 0 THEN 'carne' ELSE 'titulo' END,
            CASE WHEN g %% 20 = 0 THEN 'blocked' ELSE 'active' END, md5(random()::text || g) || md5(g::text),
            '', '', '', '', now() - (g %% 1000) * interval '1 day', now()
        FROM generate_series(1, %s) AS g
        """,
        [run % 100000, mycontas, juno, args.customers],
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM customers_customer")
        low, high = cursor.fetchone()
    span = high - low + 1
    timed(
        "charges",
        """
        INSERT INTO billing_charge (reference, customer_id, bank_account_id, amount, due_date, billing_month,
            attention, description,
            state, state_changed_at, error_message, issue_attempts, paid_after_cancel, gateway_code, link,
            checkout_url, installment_link, linha_digitavel, barcode, gateway_bank_account, our_number,
            gateway_payload, pix_payload, created_at, updated_at)
        SELECT 'S' || %s || '-' || g, %s + (g %% %s), CASE WHEN g %% 5 = 0 THEN %s ELSE %s END,
            (50 + g %% 150)::numeric(12,2), current_date - 700 + (g %% 760),
            date_trunc('month', current_date - 700 + (g %% 760))::date, '', 'Internet',
            (%s::text[])[1 + g %% %s], now(), '', 1, false, (100000000 + g)::text,
            'https://boleto.example/' || g, '', '', repeat('0', 47), repeat('0', 44), '', '', '{}'::jsonb, '',
            now() - (g %% 760) * interval '1 day', now()
        FROM generate_series(1, %s) AS g
        """,
        [run, low, span, mycontas, juno, STATES, len(STATES), args.charges],
    )
    timed(
        "gateway logs",
        """
        INSERT INTO billing_gatewaylog (created_at, bank_account_id, gateway, endpoint, method, url,
            request_params, status_code, duration_ms, response_body, outcome, error_class, error_message,
            reference, gateway_code, charge_id)
        SELECT now() - (g %% 700000) * interval '1 minute', CASE WHEN g %% 5 = 0 THEN %s ELSE %s END,
            CASE WHEN g %% 5 = 0 THEN 'mycontas' ELSE 'juno' END,
            (ARRAY['issue-charge','cancel-charge','fetch-payment-details','list-charges'])[1 + g %% 4], 'POST',
            'https://sandbox.example/api', '{"token": "***"}'::jsonb, CASE WHEN g %% 50 = 0 THEN 400 ELSE 200 END,
            100 + g %% 900, '{"success": true}', CASE WHEN g %% 50 = 0 THEN 'rejected' ELSE 'ok' END, '', '',
            'S' || %s || '-' || (g / 2), (100000000 + g / 2)::text, NULL
        FROM generate_series(1, %s) AS g
        """,
        [mycontas, juno, run, args.logs],
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer, billing_charge, billing_gatewaylog")
    print(f"analyze: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
