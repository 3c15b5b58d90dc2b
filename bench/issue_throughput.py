"""Issuing throughput: a plain loop versus the Celery pipeline, against the Juno simulator.

Not a test: it prints figures. Run from the project root::

    .venv/bin/python bench/issue_throughput.py                # SQLite file + filesystem broker
    DATABASE_URL=postgres://user:pw@127.0.0.1/cobranca CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/issue_throughput.py --n 5000

It builds a throw-away installation (a fresh PostgreSQL database ``cobranca_issue_bench`` on the
server DATABASE_URL names, dropped at the end, or a SQLite file in a temporary folder; Redis database
13 or a temporary filesystem broker; the rate-limit cache in Redis database 12 or a temporary file
cache), starts the Juno simulator in this process with ``--latency-ms`` of latency, and measures:

(a) the cron-script way: ``charge_issue`` in a loop, one charge after another. Only a sample
    (``--loop-sample``, default 40) is timed and the figure extrapolated to N: at 500 ms a call,
    5,000 charges would take 40 minutes;
(b) the pipeline: one ``billing.issue_charge`` task per charge, consumed by one Celery worker
    (``--pool threads --concurrency 64``) started as a subprocess of this script; the clock runs from
    the first enqueue to the last charge issued;
(c) the pipeline again with faults at the simulator (10 % of answers dropped after the charge was
    created, 5 % HTTP 500), then the sweep until every charge is issued;
(d) generation alone: the monthly billing run over ``--customers`` (100,000) customers, no issuing.

SQL queries per charge are counted with ``connection.execute_wrapper`` (in this process for (a)
and (d), inside the worker for (b) and (c)). Duplicates come from the simulator's own count of
charges per reference. Bank accounts get requests_per_second = 5,000 so the rate limit does not
cap the figures (it is exercised, each call takes a slot in the cache). ``--processes 2`` splits the
64 threads over two worker processes (two consumers, two GILs) on machines with two cores or more.

Measured 2026-11-30 on the project's idle 2-core machine, PostgreSQL 15 + Redis on loopback,
``--processes 2`` (2 worker processes x 32 threads):

    (a) loop          1.9 charges/s, 7.00 SQL/charge, 0 duplicates, 0 lost (40 timed, extrapolated)
    (b) pipeline      98.8-100.0 charges/s, 7.00 SQL/charge, 0 duplicates, 0 lost; ratio to (a) 51;
                      77-78 % of 64 / 0.5 s = 128/s (55 % before workers kept their connections)
    (c) with faults   5,000 issued, all by the pipeline (5,936 task runs), 0 duplicates, 0 lost,
                      8.42 SQL/charge (look-ups and retries included), 21.0 charges/s
    (d) generation    100,000 titulos in 18.6 s = 5,388 charges/s, 203 queries in all
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
BENCH_DB = "cobranca_issue_bench"
QUERY_FILE_ENV = "BENCH_QUERY_FILE"


# --- the installation ------------------------------------------------------------------------------
def installation_env(tmp: Path) -> tuple[dict[str, str], str]:
    """Environment for this process and the worker; and a description."""
    env: dict[str, str] = {"DJANGO_ENV": "development", "DJANGO_SETTINGS_MODULE": "config.settings"}
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")):
        parts = urllib.parse.urlsplit(database_url)
        env["DATABASE_URL"] = parts._replace(path=f"/{BENCH_DB}").geturl()
        db = f"PostgreSQL ({parts.hostname}, database {BENCH_DB})"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
        db = "SQLite file"
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if broker_url.startswith("redis://"):
        parts = urllib.parse.urlsplit(broker_url)
        env["CELERY_BROKER_URL"] = parts._replace(path="/13").geturl()
        env["CACHE_URL"] = parts._replace(path="/12").geturl()
        broker = "Redis (database 13), rate-limit cache in Redis (database 12)"
    else:
        env["CELERY_BROKER_URL"] = "filesystem://"
        env["CELERY_BROKER_DIR"] = str(tmp / "broker")
        env["CACHE_URL"] = f"filecache://{tmp / 'cache'}"
        broker = "filesystem broker, file cache"
    return env, f"{db}; {broker}"


def recreate_database(url: str) -> None:
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg

    parts = urllib.parse.urlsplit(url)
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def drop_database(url: str) -> None:
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg
    from django.db import connections

    connections.close_all()
    parts = urllib.parse.urlsplit(url)
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


# --- counting queries ------------------------------------------------------------------------------
class QueryCounter:
    def __init__(self) -> None:
        self._count = itertools.count()
        self.total = 0

    def __call__(self, execute, sql, params, many, context):  # the execute_wrapper signature
        self.total = next(self._count) + 1
        return execute(sql, params, many, context)


def count_every_connection(counter: QueryCounter) -> None:
    """Attach ``counter`` to every database connection this process opens (all threads)."""
    from django.db import connections
    from django.db.backends.signals import connection_created

    def attach(sender, connection, **kwargs):
        if counter not in connection.execute_wrappers:
            connection.execute_wrappers.append(counter)

    connection_created.connect(attach, weak=False)
    for conn in connections.all(initialized_only=True):
        attach(None, conn)


# --- worker mode (a subprocess of the benchmark) ---------------------------------------------------
def run_worker(concurrency: int) -> None:
    import django

    django.setup()
    from celery.signals import task_postrun, worker_shutdown

    from config.celery import app

    counter = QueryCounter()
    count_every_connection(counter)
    tasks_done = itertools.count()
    done = {"n": 0}

    @task_postrun.connect(weak=False)
    def _done(**kwargs):
        done["n"] = next(tasks_done) + 1

    @worker_shutdown.connect(weak=False)
    def _write(**kwargs):
        Path(os.environ[QUERY_FILE_ENV]).write_text(
            json.dumps({"queries": counter.total, "tasks": done["n"]})
        )

    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ]
    )


class Worker:
    """``processes`` Celery worker processes of ``concurrency / processes`` threads each."""

    def __init__(
        self, env: dict[str, str], tmp: Path, concurrency: int, name: str, processes: int = 1
    ) -> None:
        self.parts = []
        for n in range(processes):
            query_file, log = tmp / f"{name}-{n}-queries.json", tmp / f"{name}-{n}.log"
            process = subprocess.Popen(
                [sys.executable, __file__, "--worker", f"--concurrency={concurrency // processes}"],
                cwd=BASE_DIR,
                env={**os.environ, **env, QUERY_FILE_ENV: str(query_file)},
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.parts.append((process, query_file, log))
        deadline = time.monotonic() + 90
        for process, _query_file, log in self.parts:
            while "ready." not in log.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"worker did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)

    def stop(self) -> dict[str, int]:
        totals = {"queries": 0, "tasks": 0}
        for process, _query_file, _log in self.parts:
            os.killpg(process.pid, signal.SIGTERM)
        for process, query_file, _log in self.parts:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            try:
                counted = json.loads(query_file.read_text())
            except (OSError, ValueError):
                continue
            totals["queries"] += counted["queries"]
            totals["tasks"] += counted["tasks"]
        return totals


# --- data ------------------------------------------------------------------------------------------
def make_account(name: str):
    from decimal import Decimal

    from providers.models import BankAccount

    return BankAccount.objects.create(
        name=name,
        gateway="juno",
        sandbox_token="SIM-TOKEN-" + name.upper().replace(" ", "-"),
        requests_per_second=Decimal("5000"),
        state="SP",
    )


def make_customers(account, n: int, seed: int) -> list[int]:
    from decimal import Decimal

    from customers.models import Customer
    from tests.factories import make_cpf

    batch = 5000
    for start in range(0, n, batch):
        Customer.objects.bulk_create(
            [
                Customer(
                    name=f"Cliente {seed + i}",
                    document=make_cpf(seed + i),
                    bank_account=account,
                    plan_amount=Decimal("99.90"),
                    due_day=1 + (i % 28),
                    city="São Paulo",
                    state="SP",
                    postcode="01001000",
                )
                for i in range(start, min(n, start + batch))
            ]
        )
    return list(Customer.objects.filter(bank_account=account).order_by("pk").values_list("pk", flat=True))


def make_charges(account, customer_ids: list[int]) -> list[int]:
    import datetime as dt
    from decimal import Decimal

    from billing.models import Charge
    from billing.services.charges import new_reference

    due = dt.date.today() + dt.timedelta(days=20)
    Charge.objects.bulk_create(
        [
            Charge(
                reference=new_reference("T"),
                customer_id=pk,
                bank_account=account,
                amount=Decimal("99.90"),
                due_date=due,
                description="Internet [MES]/[ANO]",
            )
            for pk in customer_ids
        ],
        batch_size=5000,
    )
    return list(Charge.objects.filter(bank_account=account).order_by("pk").values_list("pk", flat=True))


def sim_snapshot(base_url: str) -> dict:
    with urllib.request.urlopen(f"{base_url}/_sim/charges", timeout=60) as answer:
        return json.loads(answer.read())


def sim_faults(base_url: str, **faults) -> None:
    request = urllib.request.Request(
        f"{base_url}/_sim/faults",
        data=json.dumps(faults).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).read()


def duplicates_for(snapshot: dict, references: set[str]) -> int:
    counts = snapshot["counts_by_reference"]
    return sum(counts[ref] - 1 for ref in references if counts.get(ref, 0) > 1)


# --- the measurements ------------------------------------------------------------------------------
def row(
    label: str, charges: int, seconds: float, queries: float, duplicates: int, lost: int, note=""
) -> dict:
    return {
        "label": label,
        "charges": charges,
        "seconds": seconds,
        "rate": charges / seconds if seconds else 0.0,
        "queries": queries,
        "duplicates": duplicates,
        "lost": lost,
        "note": note,
    }


def measure_loop(account, n: int, sample: int, base_url: str) -> dict:
    from django.db import connection

    from billing.models import Charge
    from billing.services.charges import charge_issue

    ids = make_charges(account, make_customers(account, sample, seed=100_000_000))
    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        for pk in ids:
            charge_issue(charge_id=pk, actor_label="bench-loop")
    seconds = time.perf_counter() - started
    references = set(Charge.objects.filter(pk__in=ids).values_list("reference", flat=True))
    issued = Charge.objects.filter(pk__in=ids, state="issued").count()
    per_charge = seconds / len(ids)
    return row(
        "(a) loop over charge_issue",
        n,
        per_charge * n,
        counter.total / len(ids),
        duplicates_for(sim_snapshot(base_url), references),
        len(ids) - issued,
        note=f"timed {len(ids)} charges ({seconds:.1f} s), extrapolated to {n}",
    )


def wait_issued(ids: list[int], *, quiet: float, timeout: float) -> int:
    """Poll until every charge is issued, or nothing changed for ``quiet`` seconds."""
    from billing.models import Charge

    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    first, last_id = ids[0], ids[-1]
    while time.monotonic() < deadline:
        done = Charge.objects.filter(pk__gte=first, pk__lte=last_id, state="issued").count()
        if done >= len(ids):
            return done
        if done != last:
            last, since = done, time.monotonic()
        elif time.monotonic() - since > quiet:
            return done
        time.sleep(0.25)
    return last


def measure_pipeline(
    env, tmp, account, n: int, concurrency: int, processes: int, base_url: str, label: str, sweep: bool
) -> dict:
    from django.db.models import Count

    from billing.models import Charge
    from billing.services import sweep as sweep_service
    from core import queue

    ids = make_charges(account, make_customers(account, n, seed=200_000_000 + account.pk * 1_000_000))
    references = set(Charge.objects.filter(pk__in=ids).values_list("reference", flat=True))
    worker = Worker(env, tmp, concurrency, name=f"worker-{account.pk}", processes=processes)
    started = time.perf_counter()
    for pk in ids:
        queue.enqueue(queue.ISSUE_CHARGE, pk)  # no transaction here: sent at once
    enqueued = time.perf_counter() - started
    # Retries wait up to 10 s, 20 s ... : give the faulty run time to settle before the sweep.
    done = wait_issued(ids, quiet=25 if sweep else 10, timeout=3600)
    seconds = time.perf_counter() - started
    counted = worker.stop()
    sweeps = 0
    if sweep:
        while Charge.objects.filter(pk__in=ids).exclude(state="issued").exists() and sweeps < 10:
            sweeps += 1
            sweep_service.sweep_run(
                dispatch=sweep_service.inline_dispatch, min_age=dt.timedelta(0), threads=8
            )
        seconds = time.perf_counter() - started
    issued = Charge.objects.filter(pk__in=ids, state="issued").count()
    states = dict(
        Charge.objects.filter(pk__in=ids).exclude(state="issued").values_list("state").annotate(n=Count("pk"))
    )
    queries = counted["queries"] / max(1, done)
    pool = f"threads pool, concurrency {concurrency}" + (
        f" ({processes} worker processes x {concurrency // processes} threads)" if processes > 1 else ""
    )
    note = f"{pool}; enqueue took {enqueued:.1f} s; workers ran {counted['tasks']} tasks"
    if sweep:
        note += f"; issued by the pipeline alone {done}/{n}, then {sweeps} sweep run(s)"
    if states:
        note += f"; not issued: {states}"
    return row(
        label, n, seconds, queries, duplicates_for(sim_snapshot(base_url), references), n - issued, note
    )


def measure_generation(customers: int) -> dict:
    from django.db import connection

    from billing.models import Charge
    from billing.services import billing_run
    from core.dates import today

    account = make_account("Generation")
    t0 = time.perf_counter()
    make_customers(account, customers, seed=400_000_000)
    made = time.perf_counter() - t0
    this = today().replace(day=1)
    month = (this + dt.timedelta(days=62)).replace(day=1)
    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = billing_run.billing_run_generate(month=month, account_id=account.pk)
    seconds = time.perf_counter() - started
    created = Charge.objects.filter(bank_account=account, billing_month=month).count()
    return row(
        f"(d) billing run generation {month:%Y-%m}",
        result.total("created"),
        seconds,
        counter.total / max(1, created),
        0,
        customers - created,
        note=f"{customers} customers (made in {made:.1f} s); no issuing; {counter.total} queries in all",
    )


def print_rows(rows: list[dict]) -> None:
    print(
        f"{'':44} {'charges':>8} {'seconds':>9} {'charges/s':>10} {'SQL/charge':>11} {'dupl.':>6} {'lost':>5}"
    )
    for r in rows:
        print(
            f"{r['label']:44} {r['charges']:>8} {r['seconds']:>9.1f} {r['rate']:>10.1f} {r['queries']:>11.2f}"
            f" {r['duplicates']:>6} {r['lost']:>5}"
        )
        if r["note"]:
            print(f"{'':46}{r['note']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="charges per pipeline run (default 5000)")
    parser.add_argument("--latency-ms", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--processes", type=int, default=1, help="worker processes sharing --concurrency threads (default 1)"
    )
    parser.add_argument("--loop-sample", type=int, default=40)
    parser.add_argument("--customers", type=int, default=100_000, help="customers for the generation run")
    parser.add_argument("--skip-faults", action="store_true")
    parser.add_argument("--skip-generation", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.concurrency)
        return

    tmp = Path(tempfile.mkdtemp(prefix="issue-bench-"))
    env, described = installation_env(tmp)
    os.environ.update(env)
    recreate_database(env["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from gateways.juno.simulator import API_PREFIX, start_in_thread

    print(f"issue throughput: {described}; {os.cpu_count()} CPU cores", flush=True)
    call_command("migrate", verbosity=0)
    if env["CELERY_BROKER_URL"].startswith("redis"):
        from config.celery import app

        app.control.purge()
        from django.core.cache import cache

        cache.clear()
    server, base_url = start_in_thread(port=0, latency_ms=args.latency_ms)
    settings.JUNO_SANDBOX_BASE_URL = base_url + API_PREFIX
    env["JUNO_SANDBOX_BASE_URL"] = settings.JUNO_SANDBOX_BASE_URL
    latency = args.latency_ms / 1000
    rows: list[dict] = []
    try:
        print(f"simulator latency {args.latency_ms} ms; N = {args.n}", flush=True)
        loop = measure_loop(make_account("Loop"), args.n, args.loop_sample, base_url)
        rows.append(loop)
        print_rows([loop])
        pipeline = measure_pipeline(
            env, tmp, make_account("Pipeline"), args.n, args.concurrency, args.processes, base_url,
            "(b) Celery pipeline", sweep=False,
        )  # fmt: skip
        rows.append(pipeline)
        print_rows([pipeline])
        bound = args.concurrency / latency
        ratio, share = pipeline["rate"] / loop["rate"], pipeline["rate"] / bound
        print(f"\nratio (b)/(a) = {ratio:.1f} (target >= 30)", flush=True)
        print(
            f"(b)/(concurrency / latency) = {pipeline['rate']:.1f}/{bound:.0f} = {share:.0%}"
            " (target >= 60 %)\n"
        )
        if not args.skip_faults:
            sim_faults(base_url, drop_rate=0.10, fail_rate=0.05)
            faulty = measure_pipeline(
                env, tmp, make_account("Faults"), args.n, args.concurrency, args.processes, base_url,
                "(c) pipeline, 10 % dropped + 5 % HTTP 500", sweep=True,
            )  # fmt: skip
            sim_faults(base_url, drop_rate=0.0, fail_rate=0.0)
            rows.append(faulty)
            print_rows([faulty])
        if not args.skip_generation:
            generation = measure_generation(args.customers)
            rows.append(generation)
            print_rows([generation])
        print("\nsummary")
        print_rows(rows)
    finally:
        server.shutdown()
        drop_database(env["DATABASE_URL"])


if __name__ == "__main__":
    main()
