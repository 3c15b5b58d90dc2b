"""Notification throughput under gunicorn on PostgreSQL, against the Juno simulator (not a test).

Run from the project root (PostgreSQL and wrk required; Redis optional, used for the rate-limit
cache when CELERY_BROKER_URL or CACHE_URL is not given)::

    DATABASE_URL=postgres://user:pw@127.0.0.1:5432/cobranca .venv/bin/python bench/notifications.py

It builds a throw-away installation — a fresh database ``cobranca_notifications_bench`` on the
server DATABASE_URL names (the role needs CREATEDB; dropped at the end) — starts the Juno simulator
in this process and the app under gunicorn (``--workers``, gthread ``--threads``, DEBUG off), and
measures with wrk at ``--connections`` (50) concurrent connections:

(a) a bare DRF view on the same stack that only stores the body (bench/views.py, mounted by
    bench/settings.py: the product carries no benchmark view);
(b) ``POST /api/notifications/juno/<id>/`` with distinct payments: charges are issued at the
    simulator beforehand (carnês of 24, one issue call each) and paid there without notification,
    so every POST asks fetch-payment-details and records one payment;
(c) every notification of a fresh set sent three times at once (wrk cycles each body over three
    consecutive requests, which go out on different connections).

It prints requests/s, p50 and p99 for each, the ratio (b)/(a), and checks in the database that every
accepted notification became exactly one payment (none lost, none duplicated). Targets: ratio
>= 0.5, p99 <= 250 ms, zero lost, zero duplicated.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
BENCH_DB = "cobranca_notifications_bench"
FORM = "application/x-www-form-urlencoded"

WRK_SCRIPT = r"""
-- Each wrk thread walks its own slice of the bodies file, each body `repeat` times in a row.
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  bodies = {}
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  repeat_each = tonumber(args[2])
  nthreads = tonumber(args[3])
  path = args[4]
  sent = 0
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  local slot = math.floor(sent / repeat_each)
  local index = slot * nthreads + id
  sent = sent + 1
  if index > #bodies then
    index = ((index - 1) % #bodies) + 1
  end
  return wrk.format("POST", path, nil, bodies[index])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local codes = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, n in pairs(s) do codes[tostring(code)] = (codes[tostring(code)] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(codes) do parts[#parts + 1] = string.format('"%s": %d', code, n) end
  io.write(string.format(
    'WRK-RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status +
    summary.errors.timeout, table.concat(parts, ", ")))
end
"""


# --- the installation ------------------------------------------------------------------------------
def admin_url(database_url: str) -> str:
    parts = urllib.parse.urlsplit(database_url)
    return parts._replace(scheme="postgresql", path="/postgres").geturl()


def recreate_database(database_url: str) -> str:
    import psycopg

    with psycopg.connect(admin_url(database_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return urllib.parse.urlsplit(database_url)._replace(path=f"/{BENCH_DB}").geturl()


def drop_database(database_url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(admin_url(database_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_url(db: int) -> str:
    for name in ("CACHE_URL", "CELERY_BROKER_URL"):
        value = os.environ.get(name, "")
        if value.startswith("redis://"):
            return urllib.parse.urlsplit(value)._replace(path=f"/{db}").geturl()
    return f"redis://127.0.0.1:6379/{db}"


class Gunicorn:
    def __init__(self, env: dict[str, str], workers: int, threads: int, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [
                str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(threads),
                "--backlog",
                "2048",
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
            ],  # fmt: skip
            cwd=BASE_DIR,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/health/", timeout=2)  # noqa: S310 - loopback
                return
            except urllib.error.HTTPError:
                return  # any HTTP answer means it is up
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not start; see {log}")

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


# --- data ------------------------------------------------------------------------------------------
def make_account():
    from decimal import Decimal

    from providers.models import BankAccount

    return BankAccount.objects.create(
        name="Bench",
        gateway="juno",
        sandbox_token="SIM-TOKEN-BENCH",
        requests_per_second=Decimal("9999"),  # the benchmark measures us, not the rate limit
        state="SP",
    )


def issued_installments(account, count: int) -> list:
    """``count`` charges issued at the simulator, as carnês of 24 (one issue-charge each)."""
    import datetime as dt
    from decimal import Decimal

    from billing.models import Charge
    from billing.services.charges import carne_create, charge_issue
    from customers.models import Customer
    from tests.factories import make_cpf

    start = Customer.objects.count()
    carnes = (count + 23) // 24
    first_due = dt.date.today() + dt.timedelta(days=10)
    for n in range(carnes):
        customer = Customer.objects.create(
            name=f"Cliente {start + n}",
            document=make_cpf(500_000_000 + start + n),
            bank_account=account,
            plan_amount=Decimal("99.90"),
            due_day=10,
            city="São Paulo",
            state="SP",
            postcode="01001000",
            street="Rua A",
            number="1",
            neighborhood="Centro",
        )
        carne = carne_create(
            customer=customer,
            installments=24,
            amount=Decimal("99.90"),
            first_due_date=first_due,
            description="Internet [PARCELA]",
            enqueue=False,
        )
        first = carne.installment_charges.order_by("installment_number").first()
        charge_issue(charge_id=first.pk)
    charges = list(Charge.objects.filter(bank_account=account, state="issued").order_by("pk")[:count])
    assert len(charges) == count, f"only {len(charges)} charges issued"
    return charges


def pay_at_simulator(sim, charges: list) -> list[str]:
    """One payment per charge at the simulator, not notified: the bodies wrk will post."""
    bodies = []
    for charge in charges:
        paid = sim.pay({"code": charge.gateway_code, "notify": False})
        bodies.append(
            urllib.parse.urlencode(
                {
                    "paymentToken": paid["paymentToken"],
                    "chargeReference": charge.carne.reference if charge.carne_id else charge.reference,
                    "chargeCode": charge.gateway_code,
                }
            )
        )
    return bodies


# --- load ------------------------------------------------------------------------------------------
def run_wrk(url: str, path: str, bodies: list[str], *, repeat: int, connections: int, threads: int,
            duration: int, tmp: Path) -> dict:  # fmt: skip
    bodies_file = tmp / f"bodies-{time.monotonic_ns()}.txt"
    bodies_file.write_text("\n".join(bodies) + "\n")
    script = tmp / "notifications.lua"
    script.write_text(WRK_SCRIPT)
    command = [
        "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
        "-s", str(script), url, "--", str(bodies_file), str(repeat), str(threads), path,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK-RESULT "))
    result = json.loads(line.removeprefix("WRK-RESULT "))
    seconds = result["duration_us"] / 1e6
    result["rate"] = result["requests"] / seconds
    return result


def show(label: str, result: dict) -> None:
    print(
        f"{label:<46} {result['rate']:8.0f} req/s   p50 {result['p50_us'] / 1000:7.1f} ms   "
        f"p99 {result['p99_us'] / 1000:7.1f} ms   {result['requests']} requests, "
        f"statuses {result['statuses']}"
        + (f", {result['errors']} socket errors/timeouts" if result["errors"] else ""),
        flush=True,
    )


# --- checks ----------------------------------------------------------------------------------------
def check_exactly_once(sim, tokens: set[str]) -> dict:
    """Every token the app accepted (a processed notification) has exactly one payment, and no
    payment exists twice; a payment counts as lost when its notification was accepted without it."""
    from django.db.models import Count

    from billing.models import Notification, NotificationStatus, Payment

    processed = Notification.objects.filter(payment_token__in=tokens, status=NotificationStatus.PROCESSED)
    accepted = set(processed.values_list("payment_token", flat=True))
    ids = {str(sim.payments[token].id) for token in accepted}
    payments = Payment.objects.filter(gateway="juno", gateway_payment_id__in=ids)
    found = set(payments.values_list("gateway_payment_id", flat=True))
    duplicated = (
        Payment.objects.values("gateway", "gateway_payment_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    per_charge = payments.values("charge").annotate(n=Count("id")).filter(n__gt=1).count()
    not_processed = Notification.objects.filter(payment_token__in=tokens).exclude(
        status=NotificationStatus.PROCESSED
    )
    return {
        "notifications": Notification.objects.filter(payment_token__in=tokens).count(),
        "accepted_tokens": len(accepted),
        "payments": len(found),
        "lost": len(ids - found) + processed.filter(payment__isnull=True).count(),
        "duplicated": duplicated + per_charge,
        "not_processed": dict(not_processed.values_list("status").annotate(n=Count("id"))),
        "unpaid_charges": payments.exclude(charge__state="paid").count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--payments", type=int, default=6000, help="distinct payments for (b)")
    parser.add_argument("--triple-payments", type=int, default=1200, help="payments for (c), each sent 3x")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--wrk-threads", type=int, default=2)
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/notifications.py needs DATABASE_URL=postgres://... (a role with CREATEDB)")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is required: apt-get install -y wrk")

    tmp = Path(tempfile.mkdtemp(prefix="notifications-bench-"))
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_ENV": "development",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": recreate_database(database_url),
        "CACHE_URL": redis_url(10),  # databases 12 and 13 belong to bench/issue_throughput.py
        "CELERY_BROKER_URL": redis_url(11),
        "AXES_ENABLED": "false",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from gateways.juno.simulator import API_PREFIX, start_in_thread

    call_command("migrate", verbosity=0)
    server, sim_url = start_in_thread(port=0)
    sim = server.app
    settings.JUNO_SANDBOX_BASE_URL = env["JUNO_SANDBOX_BASE_URL"] = sim_url + API_PREFIX
    gunicorn = None
    try:
        account = make_account()
        print(
            f"notifications bench: PostgreSQL {BENCH_DB}, gunicorn {args.workers} workers x {args.threads} "
            f"threads (gthread), wrk {args.wrk_threads} threads x {args.connections} connections, "
            f"{args.duration} s a run; {os.cpu_count()} CPU cores shared by all of it",
            flush=True,
        )
        started = time.monotonic()
        charges = issued_installments(account, args.payments + args.triple_payments)
        bodies = pay_at_simulator(sim, charges[: args.payments])
        triple_bodies = pay_at_simulator(sim, charges[args.payments :])
        print(f"prepared {len(charges)} issued charges and payments in {time.monotonic() - started:.0f} s")

        gunicorn = Gunicorn(env, args.workers, args.threads, tmp / "gunicorn.log")
        path = f"/api/notifications/juno/{account.public_id}/"
        wrk = {"connections": args.connections, "threads": args.wrk_threads, "tmp": tmp}
        # Warm up both paths (connections, imports), then measure.
        run_wrk(gunicorn.url, "/bench/baseline/", ["warm=1"], repeat=1, duration=2, **wrk)
        baseline = run_wrk(gunicorn.url, "/bench/baseline/", bodies, repeat=1, duration=args.duration, **wrk)
        show("(a) bare DRF view storing the body", baseline)
        juno = run_wrk(gunicorn.url, path, bodies, repeat=1, duration=args.duration, **wrk)
        show("(b) Juno notification, distinct payments", juno)
        if juno["requests"] > len(bodies):
            print(f"    note: {juno['requests'] - len(bodies)} requests re-sent bodies (raise --payments)")
        ratio = juno["rate"] / baseline["rate"]
        print(
            f"ratio (b)/(a) = {ratio:.2f} (target >= 0.5); "
            f"p99 (b) = {juno['p99_us'] / 1000:.0f} ms (target <= 250)"
        )

        from billing.notification_tasks import process_notification  # noqa: F401 - the task exists

        tokens = {urllib.parse.parse_qs(body)["paymentToken"][0] for body in bodies}
        once = check_exactly_once(sim, tokens)
        print(f"exactly once (b): {once}")

        triple = run_wrk(
            gunicorn.url, path, triple_bodies, repeat=3, duration=max(5, args.duration // 2), **wrk
        )
        show("(c) each notification three times at once", triple)
        triple_tokens = {urllib.parse.parse_qs(body)["paymentToken"][0] for body in triple_bodies}
        thrice = check_exactly_once(sim, triple_tokens)
        print(f"exactly once (c): {thrice}")

        ok = (
            ratio >= 0.5
            and juno["p99_us"] <= 250_000
            and once["lost"] == thrice["lost"] == 0
            and once["duplicated"] == thrice["duplicated"] == 0
        )
        print("targets met" if ok else "targets NOT met", flush=True)
    finally:
        if gunicorn is not None:
            gunicorn.stop()
        server.shutdown()
        drop_database(database_url)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
