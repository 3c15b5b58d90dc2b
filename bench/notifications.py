"""Notification intake and processing on PostgreSQL + Redis, against the Juno simulator (not a test).

Run from the project root (PostgreSQL, Redis and wrk required)::

    DATABASE_URL=postgres://user:pw@127.0.0.1:5432/cobranca REDIS_URL=redis://127.0.0.1:6379 \\
        .venv/bin/python bench/notifications.py

It builds a throw-away installation — a fresh database ``--database`` (default
``cobranca_notifications_bench``) on the server DATABASE_URL names (the role needs CREATEDB; dropped
at the end), Redis database ``--redis-db`` for the cache and the broker, flushed first — starts the
Juno simulator in this process, the app under gunicorn (``--workers`` x gthread ``--threads``, DEBUG off,
DJANGO_SETTINGS_MODULE=bench.settings so that bench/urls.py mounts the baseline) and, for the end to
end runs, ``--worker-processes`` Celery workers (one per core by default) sharing ``--worker-slots``
threads on the Redis broker.

(a) the baseline: a bare DRF view on the same stack that only stores the body (bench/views.py);
(b) ``POST /api/notifications/juno/<id>/`` with distinct well-formed notifications: the intake
    (limits on Redis, account look-up, form checks, one INSERT, a dispatch task handed to the broker
    at most once per 0.2 s per process).
    The worker is stopped during (a) and (b), so that both runs get the same machine; the intake
    limits and the waiting cap are on, set high enough never to refuse (the worker is stopped, so
    every row waits). (a) and (b) alternate for ``--rounds`` rounds; the figures are the medians of
    the rounds' ratios (one slow moment of a shared machine then spoils one round, not the figure);
(c) end to end: ``--payments`` distinct payments (charges issued at the simulator beforehand and
    paid there without notification) posted once each, as fast as the endpoint takes them, by
    ``--connections`` client threads in a subprocess, while the workers verify them with
    fetch-payment-details, the simulator answering in ``--latency-ms`` (200). The drain rate is
    payments applied per second from the first post to the last payment, against the bound
    (task slots / latency);
(d) ``--dup-payments`` real payments each posted three times plus 20 % forged posts (unknown
    tokens naming real charges), shuffled: 0 forged applied, 0 lost, 0 duplicated.

SQL statements per applied payment are counted two ways: in this process, Django's statements for
one post through the test client plus its dispatch (the claim) and its processing (BEGIN and COMMIT
included: the way the figure of the design that verified before answering, 13, was counted), and in the live stack during
(c) (every statement gunicorn and the workers executed, through ``connection.execute_wrapper``,
which sees no BEGIN or COMMIT), divided by the payments applied.

Targets: (b)/(a) >= 0.7; p99 (b) <= 1.5 x p99 (a); (c) all applied, drain >= 60 % of the bound;
(d) 0 forged applied, 0 lost, 0 duplicated; statements per applied payment <= 13, plus the one
INSERT of the ``charge.paid`` outbound event added since.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
BENCH_DB = "cobranca_notifications_bench"  # the default of --database
FORM = "application/x-www-form-urlencoded"
QUERY_DIR_ENV = "BENCH_QUERY_DIR"
#: Statements per applied payment when the endpoint asked the gateway before answering (counted as
#: in :func:`statements_in_process` on commit 6e21095): the figure not to exceed.
STATEMENTS_BEFORE = 13
#: Added since on purpose: the ``charge.paid`` outbound event, one INSERT in the payment's own
#: transaction (docs/collection-cycle.md).
OUTBOX_EVENT = 1
#: Limits high enough never to refuse a post of this benchmark (they are still counted on Redis).
NEVER_REFUSE = "100000000"

WRK_SCRIPT = r"""
-- Each wrk thread walks its own slice of the bodies file.
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
  nthreads = tonumber(args[2])
  path = args[3]
  sent = 0
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  local index = sent * nthreads + id
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


def recreate_database(database_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url(database_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urllib.parse.urlsplit(database_url)._replace(path=f"/{name}").geturl()


def drop_database(database_url: str, name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    # An autovacuum worker on the database cannot be terminated by a role that is not a superuser:
    # it ends on its own within moments.
    for attempt in range(30):
        try:
            with psycopg.connect(admin_url(database_url), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except psycopg.errors.InsufficientPrivilege:
            if attempt == 29:
                raise
            time.sleep(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_db_url(base: str, db: int) -> str:
    return urllib.parse.urlsplit(base)._replace(path=f"/{db}").geturl()


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


# --- where the CPU goes ----------------------------------------------------------------------------
CPU_KINDS = (
    ("gunicorn", "gunicorn"),
    ("Celery workers", "--worker"),
    ("client", "--post"),
    ("PostgreSQL", "postgres:"),
    ("Redis", "redis-server"),
    ("wrk", "wrk -t"),
)


def cpu_by_kind() -> dict[str, float]:
    """CPU seconds (user + system) used so far by each kind of process, read from /proc (Linux);
    this process (the simulator) as "simulator", and the whole machine's busy time as "machine"."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {kind: 0.0 for kind, _mark in CPU_KINDS}
    used["simulator"] = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        if int(entry.name) == os.getpid():
            used["simulator"] += seconds
            continue
        for kind, mark in CPU_KINDS:
            if mark in command:
                used[kind] += seconds
                break
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(value) for value in first]
    used["machine"] = (sum(values) - values[3] - values[4]) / ticks  # all but idle and iowait
    return used


def cpu_spent(before: dict[str, float], after: dict[str, float], per: int) -> str:
    """Milliseconds of CPU per ``per`` unit of work, by kind (processes that ended in between are lost)."""
    parts = [
        f"{kind} {(after[kind] - before.get(kind, 0.0)) * 1000 / per:.1f}"
        for kind in after
        if after[kind] - before.get(kind, 0.0) > 0
    ]
    return ", ".join(parts)


# --- counting statements in the live stack ----------------------------------------------------------
class StatementCounter:
    def __init__(self) -> None:
        self._count = itertools.count(1)
        self.total = 0

    def __call__(self, execute, sql, params, many, context):  # the execute_wrapper signature
        self.total = next(self._count)
        return execute(sql, params, many, context)


def count_statements_until_exit(label: str):
    """In a gunicorn or Celery worker process: count every statement, write the total at exit.
    Returns the writer (also registered with ``atexit``)."""
    import atexit

    from django.db import connections
    from django.db.backends.signals import connection_created

    folder = os.environ.get(QUERY_DIR_ENV)
    if not folder:
        return None
    counter = StatementCounter()

    def attach(sender, connection, **kwargs):
        if counter not in connection.execute_wrappers:
            connection.execute_wrappers.append(counter)

    connection_created.connect(attach, weak=False)
    for conn in connections.all(initialized_only=True):
        attach(None, conn)

    def write() -> None:
        Path(folder, f"{label}-{os.getpid()}.json").write_text(json.dumps({"statements": counter.total}))

    atexit.register(write)
    return write


def counted_statements(folder: Path) -> int:
    total = 0
    for path in folder.glob("*.json"):
        total += json.loads(path.read_text())["statements"]
        path.unlink()
    return total


GUNICORN_CONF = """
def post_worker_init(worker):
    import sys
    sys.path.insert(0, {base!r})
    from bench.notifications import count_statements_until_exit
    count_statements_until_exit("gunicorn")


def worker_exit(server, worker):
    import atexit
    atexit._run_exitfuncs()
"""


class Gunicorn:
    def __init__(self, env: dict[str, str], workers: int, threads: int, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        conf = tmp / "gunicorn_conf.py"
        conf.write_text(GUNICORN_CONF.format(base=str(BASE_DIR)))
        self.log = (tmp / "gunicorn.log").open("w")
        self.process = subprocess.Popen(
            [
                str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
                "config.wsgi:application",
                "--config",
                str(conf),
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
        self.stop()
        raise SystemExit(f"gunicorn did not start; see {tmp / 'gunicorn.log'}")

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


def run_worker(threads: int) -> None:
    """``--worker`` mode: one Celery worker process (a subprocess of the benchmark)."""
    import django

    django.setup()
    from celery.signals import worker_ready, worker_shutdown

    from config.celery import app

    write = count_statements_until_exit("worker")
    if write is not None:
        worker_shutdown.connect(lambda **kwargs: write(), weak=False)
    ready = Path(os.environ["BENCH_READY_FILE"])
    worker_ready.connect(lambda **kwargs: ready.touch(), weak=False)

    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={threads}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ]  # fmt: skip
    )


class Workers:
    def __init__(self, env: dict[str, str], processes: int, threads: int, tmp: Path) -> None:
        self.parts = []
        for n in range(processes):
            log, ready = tmp / f"worker-{n}.log", tmp / f"worker-{n}-{time.monotonic_ns()}.ready"
            process = subprocess.Popen(
                [sys.executable, __file__, "--worker", f"--worker-threads={threads}"],
                cwd=BASE_DIR,
                env={**os.environ, **env, "BENCH_READY_FILE": str(ready)},
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.parts.append((process, log, ready))
        deadline = time.monotonic() + 90
        for process, log, ready in self.parts:
            while not ready.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"worker did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)

    def stop(self) -> None:
        for process, _log, _ready in self.parts:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, _log, _ready in self.parts:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


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


def bench_customer(account, n: int):
    from decimal import Decimal

    from customers.models import Customer
    from tests.factories import make_cpf

    return Customer.objects.create(
        name=f"Cliente {n}",
        document=make_cpf(500_000_000 + n),
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


def issued_installments(account, count: int) -> list:
    """``count`` charges issued at the simulator, as carnês of 24 (one issue-charge each)."""
    import datetime as dt
    from decimal import Decimal

    from billing.models import Charge
    from billing.services.charges import carne_create, charge_issue
    from customers.models import Customer

    start = Customer.objects.count()
    first_due = dt.date.today() + dt.timedelta(days=10)
    for n in range((count + 23) // 24):
        carne = carne_create(
            customer=bench_customer(account, start + n),
            installments=24,
            amount=Decimal("99.90"),
            first_due_date=first_due,
            description="Internet",
            enqueue=False,
        )
        first = carne.installment_charges.order_by("installment_number").first()
        charge_issue(charge_id=first.pk)
    charges = list(
        Charge.objects.filter(
            bank_account=account, state="issued", payments=None, carne__isnull=False
        ).order_by("pk")[:count]
    )
    assert len(charges) == count, f"only {len(charges)} charges issued"
    return charges


def issued_single_charges(account, count: int) -> list:
    """``count`` charges of their own (títulos, not carnê installments), issued at the simulator."""
    import datetime as dt
    from decimal import Decimal

    from billing.services.charges import charge_create, charge_issue
    from customers.models import Customer

    start = Customer.objects.count()
    charges = []
    for n in range(count):
        charge = charge_create(
            customer=bench_customer(account, start + n),
            amount=Decimal("99.90"),
            due_date=dt.date.today() + dt.timedelta(days=10),
            description="Internet [MES]/[ANO]",
            enqueue=False,
        )
        charges.append(charge_issue(charge_id=charge.pk))
    assert all(charge.state == "issued" for charge in charges), "not every single charge issued"
    return charges


def pay_at_simulator(sim, charges: list) -> list[dict[str, str]]:
    """One payment per charge at the simulator, not notified: the forms to post."""
    forms = []
    for charge in charges:
        paid = sim.pay({"code": charge.gateway_code, "notify": False})
        forms.append(
            {
                "paymentToken": paid["paymentToken"],
                "chargeReference": charge.carne.reference if charge.carne_id else charge.reference,
                "chargeCode": charge.gateway_code,
            }
        )
    return forms


# --- load: wrk for throughput, a client subprocess for "each exactly once" -------------------------
def run_wrk(url: str, path: str, bodies: list[str], *, connections: int, threads: int, duration: int,
            tmp: Path) -> dict:  # fmt: skip
    bodies_file = tmp / f"bodies-{time.monotonic_ns()}.txt"
    bodies_file.write_text("\n".join(bodies) + "\n")
    script = tmp / "notifications.lua"
    script.write_text(WRK_SCRIPT)
    command = [
        "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
        "-s", str(script), url, "--", str(bodies_file), str(threads), path,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK-RESULT "))
    result = json.loads(line.removeprefix("WRK-RESULT "))
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def vacuum_notifications() -> None:
    """The preparation's inserts and deletes vacuumed and analysed now, so that autovacuum does not
    pick one of the measured runs to do it."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("billing_notification", "billing_charge", "billing_payment"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def show(label: str, result: dict) -> None:
    print(
        f"{label:<44} {result['rate']:8.0f} req/s   p50 {result['p50_us'] / 1000:7.1f} ms   "
        f"p99 {result['p99_us'] / 1000:7.1f} ms   {result['requests']} requests, "
        f"statuses {result['statuses']}"
        + (f", {result['errors']} socket errors/timeouts" if result["errors"] else ""),
        flush=True,
    )


def post_each_once(url: str, path: str, bodies: list[str], connections: int, out: str) -> None:
    """``--post`` mode: post every body once over ``connections`` keep-alive connections, as a gateway
    would (a 429 or 503 is sent again after its Retry-After, at most 2 s here); write the statuses."""
    import http.client
    import threading
    from collections import Counter

    host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
    todo = list(reversed(bodies))
    lock = threading.Lock()
    statuses: Counter[int] = Counter()
    resent = 0
    first_at = time.time()

    def one_connection() -> None:
        nonlocal resent
        conn = http.client.HTTPConnection(host, port, timeout=60)
        while True:
            with lock:
                if not todo:
                    return
                body = todo.pop()
            while True:
                try:
                    conn.request("POST", path, body=body, headers={"Content-Type": FORM})
                    response = conn.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=60)
                    continue
                with lock:
                    statuses[response.status] += 1
                if response.status not in (429, 503):
                    break
                with lock:
                    resent += 1
                time.sleep(min(2.0, float(response.getheader("Retry-After") or 1)))

    pool = [threading.Thread(target=one_connection) for _ in range(connections)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    Path(out).write_text(
        json.dumps(
            {"statuses": dict(statuses), "resent": resent, "first_at": first_at, "last_at": time.time()}
        )
    )


def post_all(url: str, path: str, forms: list[dict[str, str]], connections: int, tmp: Path) -> dict:
    bodies_file, out = tmp / f"post-{time.monotonic_ns()}.json", tmp / f"posted-{time.monotonic_ns()}.json"
    bodies_file.write_text(json.dumps([urllib.parse.urlencode(form) for form in forms]))
    subprocess.run(
        [sys.executable, __file__, "--post", url, path, str(bodies_file), str(connections), str(out)],
        cwd=BASE_DIR,
        check=True,
    )
    return json.loads(out.read_text())


# --- checks ----------------------------------------------------------------------------------------
def wait_applied(tokens: set[str], *, quiet: float = 30.0, timeout: float = 1800.0) -> None:
    """Until every notification with these tokens left the queue (or nothing moved for ``quiet`` s)."""
    from billing.models import Notification
    from billing.selectors.notifications import WAITING_STATUSES

    waiting = Notification.objects.filter(payment_token__in=tokens, status__in=WAITING_STATUSES)
    last, moved_at, deadline = None, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = waiting.count()
        if left == 0:
            return
        if left != last:
            last, moved_at = left, time.monotonic()
        elif time.monotonic() - moved_at > quiet:
            from django.db.models import Count

            errors = {(s, e): n for s, e, n in waiting.values_list("status", "error").annotate(n=Count("id"))}
            print(f"    {left} notifications still waiting after {quiet:.0f} s without progress: {errors}")
            return
        time.sleep(0.5)


def check_payments(sim, real_tokens: set[str], forged_tokens: set[str]) -> dict:
    """Every real payment recorded exactly once on its charge, which is paid; nothing forged applied."""
    from django.db.models import Count

    from billing.models import ChargeEvent, Notification, Payment

    ids = {str(sim.payments[token].id) for token in real_tokens}
    payments = Payment.objects.filter(gateway="juno", gateway_payment_id__in=ids)
    found = set(payments.values_list("gateway_payment_id", flat=True))
    duplicated = (
        Payment.objects.values("gateway", "gateway_payment_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
        + payments.values("charge").annotate(n=Count("id")).filter(n__gt=1).count()
        + ChargeEvent.objects.filter(charge__payments__in=payments, to_state="paid")
        .values("charge")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    forged = Notification.objects.filter(payment_token__in=forged_tokens)
    return {
        "payments": len(found),
        "lost": len(ids - found),
        "duplicated": duplicated,
        "unpaid_charges": payments.exclude(charge__state="paid").count(),
        "forged_posts": forged.count(),
        "forged_applied": forged.exclude(payment=None).count() + forged.filter(status="processed").count(),
        "outcomes": dict(
            Notification.objects.filter(payment_token__in=real_tokens | forged_tokens)
            .values_list("status")
            .annotate(n=Count("id"))
        ),
    }


def drain_figures(tokens: set[str]) -> tuple[int, float]:
    """(payments applied, seconds from the first post to the last payment recorded)."""
    from django.db.models import Max, Min

    from billing.models import Notification, Payment

    first = Notification.objects.filter(payment_token__in=tokens).aggregate(t=Min("received_at"))["t"]
    applied = Payment.objects.filter(notification__payment_token__in=tokens)
    last = applied.aggregate(t=Max("created_at"))["t"]
    return applied.count(), (last - first).total_seconds() if first and last else 0.0


def statements_in_process(account, forms: list[dict[str, str]]) -> float:
    """Django's statements for one post (test client), its dispatch and its processing, per payment.

    The dispatch runs here with the broker replaced by a list, so that the processing task it sends
    is run in this process too, and counted.
    """
    from unittest import mock

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from billing.models import Notification
    from billing.services.notifications import dispatch, notification_process
    from core import queue

    client, counts = Client(), []
    path = f"/api/notifications/juno/{account.public_id}/"
    for form in forms:
        sent: list[tuple[str, list]] = []
        with CaptureQueriesContext(connection) as queries:
            response = client.post(path, data=urllib.parse.urlencode(form), content_type=FORM)
            assert response.status_code == 200, response.content
            publish = lambda name, args, countdown, _sent=sent: _sent.append((name, list(args)))  # noqa: E731
            with mock.patch.object(queue, "publish", publish):
                dispatch.notifications_dispatch()
            processed = [args[0] for name, args in sent if name == queue.PROCESS_NOTIFICATION]
            assert processed == [response.json()["notification"]], sent
            notification_process(processed[0], actor_label="task:process_notification")
        counts.append(len(queries.captured_queries))
    processed_rows = Notification.objects.filter(
        payment_token__in=[f["paymentToken"] for f in forms], status="processed"
    )
    assert processed_rows.count() == len(forms), "in-process payments not all processed"
    return sum(counts) / len(counts)


def waiting_cap_cost(account, cap: int, rows: int) -> float:
    """Milliseconds the intake's account look-up takes with ``rows`` notifications waiting, cap ``cap``."""
    from billing.models import Notification
    from billing.selectors.notifications import account_with_waiting

    Notification.objects.bulk_create(
        Notification(gateway="juno", bank_account=account, path="/bench", status="received")
        for _ in range(rows)
    )
    started = time.perf_counter()
    for _ in range(200):
        assert account_with_waiting("juno", account.public_id, cap=cap) is not None
    elapsed = (time.perf_counter() - started) / 200 * 1000
    Notification.objects.filter(path="/bench").delete()
    return elapsed


# --- the run ---------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5, help="(a) then (b), this many times")
    parser.add_argument("--intake-bodies", type=int, default=60000, help="distinct bodies for (a) and (b)")
    parser.add_argument("--payments", type=int, default=5000, help="distinct payments for (c)")
    parser.add_argument(
        "--dup-payments", type=int, default=1000, help="real payments for (d), each posted 3x"
    )
    parser.add_argument("--latency-ms", type=int, default=200, help="the simulator's answer time in (c), (d)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per process")
    parser.add_argument(
        "--worker-processes",
        type=int,
        default=os.cpu_count() or 1,
        help="Celery worker processes (default: one per core, as docs/deployment.md advises)",
    )
    parser.add_argument("--worker-slots", type=int, default=16, help="task slots over all worker processes")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--redis-db", type=int, default=10, help="Redis database for the cache and the broker (flushed)"
    )
    parser.add_argument(
        "--database",
        default=BENCH_DB,
        help="PostgreSQL database to create, use and drop (not the product's!)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs' folder (printed)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker-threads", type=int, default=16, help=argparse.SUPPRESS)
    parser.add_argument("--post", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return run_worker(args.worker_threads)
    args.worker_threads = max(1, args.worker_slots // args.worker_processes)
    if args.post:
        url, path, bodies_file, connections, out = args.post
        return post_each_once(url, path, json.loads(Path(bodies_file).read_text()), int(connections), out)

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/notifications.py needs DATABASE_URL=postgres://... (a role with CREATEDB)")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is required: apt-get install -y wrk")
    redis_base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
    tmp = Path(tempfile.mkdtemp(prefix="notifications-bench-"))
    query_dir = tmp / "statements"
    query_dir.mkdir()
    # One Redis database for the cache and the broker: their keys never meet (the cache's carry its
    # prefix), so the benchmark takes one database number of a shared server.
    cache_url = broker_url = redis_db_url(redis_base, args.redis_db)
    flush_redis(cache_url)
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_ENV": "development",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": recreate_database(database_url, args.database),
        "CACHE_URL": cache_url,
        "CELERY_BROKER_URL": broker_url,
        "AXES_ENABLED": "false",
        "NOTIFICATION_ADDRESS_LIMIT": NEVER_REFUSE,
        "NOTIFICATION_ACCOUNT_LIMIT": NEVER_REFUSE,
        "NOTIFICATION_WAITING_CAP": NEVER_REFUSE,
        QUERY_DIR_ENV: str(query_dir),
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
    gunicorn = workers = None
    try:
        account = make_account()
        path = f"/api/notifications/juno/{account.public_id}/"
        slots = args.worker_processes * args.worker_threads
        print(
            f"notifications bench: PostgreSQL {args.database}, Redis {cache_url} (cache and broker); gunicorn {args.workers} x {args.threads} threads; Celery {args.worker_processes} x "
            f"{args.worker_threads} threads = {slots} task slots; wrk {args.wrk_threads} threads x "
            f"{args.connections} connections, {args.duration} s a run; {load()}",
            flush=True,
        )
        started = time.monotonic()
        rng = random.Random(7)
        charges = issued_installments(account, 10 + args.payments + args.dup_payments)
        singles = issued_single_charges(account, 10)
        forms_sql = pay_at_simulator(sim, singles)
        forms_installments = pay_at_simulator(sim, charges[:10])
        forms_c = pay_at_simulator(sim, charges[10 : 10 + args.payments])
        forms_d = pay_at_simulator(sim, charges[10 + args.payments :])
        print(f"prepared {len(charges)} issued charges and payments in {time.monotonic() - started:.0f} s")

        per_payment = statements_in_process(account, forms_sql)
        per_installment = statements_in_process(account, forms_installments)
        cost_off = waiting_cap_cost(account, 0, 0)
        cost_on = waiting_cap_cost(account, 1000, 1000)
        print(
            f"SQL statements per applied payment, in process (post + dispatch + processing, BEGIN/COMMIT "
            f"counted): "
            f"{per_payment:.1f} for a charge of its own (before: {STATEMENTS_BEFORE}; target <= "
            f"{STATEMENTS_BEFORE} + {OUTBOX_EVENT} for the charge.paid outbound event); {per_installment:.1f} "
            f"for a carnê installment (its carnê read and checked for being paid in full)\n"
            f"intake account look-up: {cost_off:.2f} ms with the waiting cap off, {cost_on:.2f} ms with "
            f"1,000 waiting and the default cap of 1,000 (the cap's cost, not included in (b))",
            flush=True,
        )

        # (a) and (b): the intake alone, no worker running.
        gunicorn = Gunicorn(env, args.workers, args.threads, tmp)
        wrk = {"connections": args.connections, "threads": args.wrk_threads, "tmp": tmp}
        intake_bodies = [
            urllib.parse.urlencode({"paymentToken": f"BENCH{n:08d}", "chargeReference": f"T-BENCH{n:08d}"})
            for n in range(args.intake_bodies)
        ]
        run_wrk(gunicorn.url, "/bench/baseline/", ["warm=1"], duration=2, **wrk)
        run_wrk(gunicorn.url, path, intake_bodies[:50], duration=2, **wrk)
        vacuum_notifications()
        print(f"(a), (b): {args.rounds} rounds of {args.duration} s each, alternated; {load()}")
        rounds = []
        per_round = len(intake_bodies) // args.rounds
        for n in range(args.rounds):
            bodies = intake_bodies[n * per_round : (n + 1) * per_round]
            baseline = run_wrk(gunicorn.url, "/bench/baseline/", bodies, duration=args.duration, **wrk)
            show(f"(a) round {n + 1}: bare DRF view storing the body", baseline)
            juno = run_wrk(gunicorn.url, path, bodies, duration=args.duration, **wrk)
            show(f"(b) round {n + 1}: Juno notification intake", juno)
            if juno["requests"] > len(bodies):
                print(
                    f"    note: {juno['requests'] - len(bodies)} requests re-sent bodies (raise --intake-bodies)"
                )
            rounds.append((juno["rate"] / baseline["rate"], juno["p99_us"] / baseline["p99_us"]))
        print("    (b)/(a) by round: " + ", ".join(f"{rate:.2f} (p99 {p99:.2f})" for rate, p99 in rounds))
        ratio = statistics.median(rate for rate, _p99 in rounds)
        p99_ratio = statistics.median(p99 for _rate, p99 in rounds)
        print(
            f"ratio (b)/(a), median of the rounds = {ratio:.2f} (target >= 0.7); "
            f"p99 (b)/(a) = {p99_ratio:.2f} (target <= 1.5)"
        )
        gunicorn.stop()
        gunicorn = None
        counted_statements(query_dir)  # (a) and (b) are not counted per payment
        from billing.models import Notification

        flush_redis(broker_url)  # what (b) queued is never processed (and the limits' counters go)
        Notification.objects.filter(payment_token__startswith="BENCH").delete()
        Notification.objects.filter(gateway="bench").delete()

        # (c): end to end, each payment posted once, the simulator answering in --latency-ms.
        sim.faults.latency_ms = args.latency_ms
        gunicorn = Gunicorn(env, args.workers, args.threads, tmp)
        workers = Workers(env, args.worker_processes, args.worker_threads, tmp)
        counted_statements(query_dir)
        print(f"(c): {load()}")
        cpu_before = cpu_by_kind()
        posted = post_all(gunicorn.url, path, forms_c, args.connections, tmp)
        post_seconds = posted["last_at"] - posted["first_at"]
        tokens_c = {form["paymentToken"] for form in forms_c}
        wait_applied(tokens_c)
        cpu_c = cpu_spent(cpu_before, cpu_by_kind(), len(forms_c))
        applied, drain_seconds = drain_figures(tokens_c)
        gunicorn.stop()
        workers.stop()
        gunicorn = workers = None
        live_statements = counted_statements(query_dir)
        bound = slots / (args.latency_ms / 1000)
        drain = applied / drain_seconds if drain_seconds else 0.0
        once_c = check_payments(sim, tokens_c, set())
        print(
            f"(c) {len(forms_c)} payments posted once in {post_seconds:.1f} s "
            f"({len(forms_c) / post_seconds:.0f}/s, answers {posted['statuses']}, {posted['resent']} re-sent); "
            f"{applied} applied in {drain_seconds:.1f} s: drain {drain:.1f}/s = {drain / bound:.0%} of the bound "
            f"{slots} / {args.latency_ms / 1000:g} s = {bound:.0f}/s (target >= 60 %)\n"
            f"    {once_c}\n"
            f"    CPU ms per payment (the client's is lost: it ended before): {cpu_c}\n"
            f"    live stack: {live_statements} statements (gunicorn + workers, no BEGIN/COMMIT) = "
            f"{live_statements / max(applied, 1):.1f} per applied payment",
            flush=True,
        )

        # (d): every real payment three times, 20 % of the posts forged, shuffled.
        forged = [
            {
                "paymentToken": f"FORGED{rng.randrange(16**12):012X}",
                "chargeReference": form["chargeReference"],
                "chargeCode": form["chargeCode"],
            }
            for form in rng.sample(forms_d, k=min(len(forms_d), (3 * len(forms_d)) // 4))
        ]
        posts_d = [form for form in forms_d for _ in range(3)] + forged
        rng.shuffle(posts_d)
        gunicorn = Gunicorn(env, args.workers, args.threads, tmp)
        workers = Workers(env, args.worker_processes, args.worker_threads, tmp)
        print(f"(d): {load()}")
        posted_d = post_all(gunicorn.url, path, posts_d, args.connections, tmp)
        tokens_d = {form["paymentToken"] for form in forms_d}
        forged_tokens = {form["paymentToken"] for form in forged}
        wait_applied(tokens_d | forged_tokens)
        gunicorn.stop()
        workers.stop()
        gunicorn = workers = None
        counted_statements(query_dir)
        once_d = check_payments(sim, tokens_d, forged_tokens)
        print(
            f"(d) {len(posts_d)} posts ({len(forms_d)} payments x 3 + {len(forged)} forged = "
            f"{len(forged) / len(posts_d):.0%} forged), answers {posted_d['statuses']}\n    {once_d}",
            flush=True,
        )

        ok = (
            ratio >= 0.7
            and p99_ratio <= 1.5
            and once_c["lost"] == once_c["duplicated"] == 0
            and applied == len(forms_c)
            and drain >= 0.6 * bound
            and once_d["lost"] == once_d["duplicated"] == once_d["forged_applied"] == 0
            and per_payment <= STATEMENTS_BEFORE + OUTBOX_EVENT
        )
        print(f"targets met; {load()}" if ok else f"targets NOT met; {load()}", flush=True)
    finally:
        for running in (gunicorn, workers):
            if running is not None:
                running.stop()
        server.shutdown()
        drop_database(database_url, args.database)
        if args.keep:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
