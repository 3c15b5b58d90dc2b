"""A real Celery worker, killed mid-run: every charge still ends issued, none twice at the gateway.

The worker is a separate process, so it cannot see pytest-django's database (in memory on SQLite,
inside a transaction otherwise). This test therefore builds its own installation: a SQLite file in a
temporary folder (or, when DATABASE_URL names PostgreSQL, a fresh database on that server, dropped
afterwards), migrated and seeded by ``manage.py`` subprocesses; the broker is a filesystem folder
(or, when CELERY_BROKER_URL names Redis, a database index of its own, purged first). The Juno
simulator runs in this process with latency; the worker and the sweep reach it on loopback.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

# Both tests share one Redis database index and purge it: one test process runs them, in turn.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("celery-worker")]

BASE_DIR = Path(__file__).resolve().parents[2]
CHARGES = 60
LATENCY_MS = 300
WORKER_THREADS = 8
REDIS_TEST_DB = "14"
WORKER_OPTIONS = (
    f"--pool=threads --concurrency={WORKER_THREADS} --without-gossip --without-mingle "
    "--without-heartbeat --loglevel=WARNING"
).split()

SEED = """
import datetime as dt, json
from decimal import Decimal
from providers.models import BankAccount
from billing.models import Charge
from billing.services.charges import new_reference
from billing.tasks import issue_charge
from customers.models import Customer
from tests.factories import make_cpf

account = BankAccount.objects.create(
    name="Worker test", gateway="juno", sandbox_token="SIM-TOKEN-WORKER-TEST",
    requests_per_second=Decimal("1000"), state="SP",
)
due = dt.date.today() + dt.timedelta(days=20)
customers = Customer.objects.bulk_create(
    Customer(name=f"Cliente {n}", document=make_cpf(300000000 + n), bank_account=account,
             plan_amount=Decimal("99.90"), due_day=10, city="São Paulo", state="SP", postcode="01001000")
    for n in range(COUNT)
)
customers = list(Customer.objects.order_by("pk"))
Charge.objects.bulk_create(
    Charge(reference=new_reference("T"), customer=c, bank_account=account, amount=Decimal("99.90"),
           due_date=due, billing_month=due.replace(day=1), description="Internet")
    for c in customers
)
ids = list(Charge.objects.order_by("pk").values_list("pk", flat=True))
for pk in ids:
    issue_charge.delay(pk)
print(json.dumps({"ids": ids}))
"""

CHECK = """
import json
from collections import Counter
from billing.models import Charge, ChargeEvent, GatewayLog
odd = list(Charge.objects.exclude(state="issued").values_list("pk", "reference", "state"))
print(json.dumps({
    "states": dict(Counter(Charge.objects.values_list("state", flat=True))),
    "references": list(Charge.objects.values_list("reference", flat=True)),
    "odd": {
        ref: {
            "state": state,
            "history": [
                f"{e.at:%H:%M:%S.%f} {e.from_state}->{e.to_state} {e.actor_label}: {e.reason}"
                for e in ChargeEvent.objects.filter(charge_id=pk).order_by("at", "pk")
            ],
            "exchanges": [
                f"{g.created_at:%H:%M:%S.%f} {g.endpoint} {g.outcome} {g.error_class} {g.error_message[:300]}"
                for g in GatewayLog.objects.filter(reference=ref).order_by("created_at", "pk")
            ],
        }
        for pk, ref, state in odd
    },
}))
"""


def _database(tmp_path: Path) -> tuple[str, object]:
    """A database URL for the installation and a function that removes it afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{tmp_path / 'worker.sqlite3'}", lambda: None
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = f"cobranca_worker_{secrets.token_hex(4)}"
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return parts._replace(path=f"/{name}").geturl(), drop


def _broker(tmp_path: Path) -> dict[str, str]:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if url.startswith(("redis://", "rediss://")):
        parts = urllib.parse.urlsplit(url)
        # A database index of its own; a short visibility timeout so the killed worker's
        # unacknowledged messages come back within the test (no retry countdown happens here).
        return {
            "CELERY_BROKER_URL": parts._replace(path=f"/{REDIS_TEST_DB}").geturl(),
            "CELERY_BROKER_VISIBILITY_TIMEOUT": "8",
        }
    return {"CELERY_BROKER_URL": "filesystem://", "CELERY_BROKER_DIR": str(tmp_path / "broker")}


class Installation:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def manage(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def script(self, code: str) -> dict:
        result = self.manage("shell", "-c", code)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    def worker(self, log: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and the Celery CLI
            [sys.executable, "-m", "celery", "-A", "config", "worker", *WORKER_OPTIONS],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _sim_snapshot(base_url: str) -> dict:
    with urllib.request.urlopen(f"{base_url}/_sim/charges", timeout=10) as answer:
        return json.loads(answer.read())


def _wait(predicate, *, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def _wait_until_quiet(base_url: str, *, quiet: float, timeout: float) -> int:
    """Wait until the simulator's charge count stops growing for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = _sim_snapshot(base_url)["count"]
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
        time.sleep(0.2)
    return last


def _story(final: dict, swept: str) -> str:
    """What a failure needs to be understood: the states, the sweep's summary, and for each charge
    that did not end issued its history and its exchanges with the gateway."""
    odd = json.dumps(final["odd"], indent=1, ensure_ascii=False)
    return "\n".join([json.dumps(final["states"]), swept, odd])


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def simulator():
    simulator_module = pytest.importorskip("gateways.juno.simulator")
    server, base_url = simulator_module.start_in_thread(port=0, latency_ms=LATENCY_MS, seed=7)
    yield base_url
    server.shutdown()


@pytest.fixture
def installation(tmp_path, simulator):
    from gateways.juno.simulator import API_PREFIX

    database_url, drop = _database(tmp_path)
    env = {
        **os.environ,
        "DJANGO_ENV": "development",
        "DATABASE_URL": database_url,
        "CACHE_URL": f"filecache://{tmp_path / 'cache'}",
        "JUNO_SANDBOX_BASE_URL": simulator + API_PREFIX,
        "GATEWAY_CONNECT_TIMEOUT": "2",
        "GATEWAY_READ_TIMEOUT": "3",
        "SWEEP_ISSUING_MARGIN_SECONDS": "0",
        "PYTHONUNBUFFERED": "1",
        **_broker(tmp_path),
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    site = Installation(env)
    migrated = site.manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    if env["CELERY_BROKER_URL"].startswith("redis"):
        purged = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "config", "purge", "-f"],
            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert purged.returncode == 0, purged.stderr[-2000:]
    try:
        yield site
    finally:
        drop()


def test_killed_worker_loses_nothing_and_duplicates_nothing(installation, simulator, tmp_path):
    seeded = installation.script(textwrap.dedent(SEED).replace("COUNT", str(CHARGES)))
    assert len(seeded["ids"]) == CHARGES
    log = tmp_path / "worker.log"

    worker = installation.worker(log)
    try:
        started = _wait(lambda: _sim_snapshot(simulator)["count"] >= CHARGES // 3, timeout=90)
        assert started, log.read_text()[-3000:]
        os.killpg(worker.pid, signal.SIGKILL)  # mid-run: calls in flight, messages taken
        worker.wait(timeout=10)
        at_kill = _sim_snapshot(simulator)["count"]
        assert at_kill < CHARGES, "the worker finished before it could be killed; raise CHARGES"

        worker = installation.worker(log)
        _wait_until_quiet(simulator, quiet=4, timeout=120)
    finally:
        _stop(worker)

    # Whatever the killed worker left (its messages lost, or charges stuck in `issuing`) is the
    # sweep's: wait past the issuing timeout (2 + 3 + 0 s), then run it like an operator would.
    time.sleep(6)
    swept = installation.manage("sweep", "--min-age", "0", "--threads", "4", "--no-progress")
    assert swept.returncode == 0, swept.stdout + swept.stderr[-3000:]

    final = installation.script(CHECK)
    snapshot = _sim_snapshot(simulator)
    story = _story(final, swept.stdout)
    # A worker killed after marking a charge `issuing` but before its request reached Juno leaves a
    # charge the look-up cannot prove absent (Juno's listings carry no reference): it stays
    # `unknown` for staff, never sent twice. Every other charge is issued, each once at Juno.
    waiting = {ref for ref, odd in final["odd"].items() if odd["state"] == "unknown"}
    assert set(final["states"]) <= {"issued", "unknown"}, story
    assert final["states"].get("issued", 0) + len(waiting) == CHARGES, story
    assert all(ref not in snapshot["counts_by_reference"] for ref in waiting), story
    assert len(waiting) <= WORKER_THREADS, story  # at most one in flight per thread at the kill
    assert snapshot["duplicates"] == []
    assert snapshot["count"] == CHARGES - len(waiting)
    issued = [ref for ref in final["references"] if ref not in waiting]
    assert {ref: snapshot["counts_by_reference"].get(ref) for ref in issued} == dict.fromkeys(issued, 1)


TWO_WORKERS_SEED = SEED.replace(
    "for pk in ids:\n    issue_charge.delay(pk)\n",
    # Every charge reaches the workers up to three times: its own task and two sweeps' tasks.
    "from billing.tasks import run_sweep\nfor pk in ids:\n    issue_charge.delay(pk)\n"
    "run_sweep.delay()\nrun_sweep.delay()\n",
)


def test_two_workers_on_one_sweep_send_no_charge_twice(installation, simulator, tmp_path):
    """Two worker processes share the same queue (Redis and PostgreSQL in CI): the row lock and
    the state check let exactly one of them send each charge, however often it is queued."""
    installation.env["SWEEP_MIN_AGE_SECONDS"] = "0"
    seeded = installation.script(textwrap.dedent(TWO_WORKERS_SEED).replace("COUNT", str(CHARGES)))
    assert len(seeded["ids"]) == CHARGES
    workers = [installation.worker(tmp_path / f"worker{n}.log") for n in (1, 2)]
    try:
        done = _wait(lambda: _sim_snapshot(simulator)["count"] >= CHARGES, timeout=120)
        assert done, (tmp_path / "worker1.log").read_text()[-3000:]
        _wait_until_quiet(simulator, quiet=4, timeout=60)
    finally:
        for worker in workers:
            _stop(worker)
    final = installation.script(CHECK)
    snapshot = _sim_snapshot(simulator)
    assert final["states"] == {"issued": CHARGES}
    assert snapshot["duplicates"] == []
    assert snapshot["count"] == CHARGES
