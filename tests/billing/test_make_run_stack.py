"""The embedded default, as `make run` starts it: a notification posted to it turns the charge paid
within seconds.

The stack is bin/dev.py's own commands (runserver, the Juno simulator, the Celery worker with
threads), on free ports, over a fresh installation of the embedded defaults: a SQLite file, the
filesystem broker and the file cache, each in a temporary folder. The simulator's "pay" posts the
notification to the charge's notification URL, as the real gateway does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BASE_DIR = Path(__file__).resolve().parents[2]
#: What "within seconds" means here, with room for a loaded machine (typically 1 to 3 s).
PAID_WITHIN_SECONDS = 15

SEED = """
import datetime as dt, json
from decimal import Decimal
from billing.services.charges import charge_create, charge_issue
from customers.models import Customer
from providers.models import BankAccount
from tests.factories import make_cpf

account = BankAccount.objects.create(name="Demo", gateway="juno", sandbox_token="SIM-TOKEN-STACK", state="SP")
customer = Customer.objects.create(
    name="Cliente", document=make_cpf(123456789), bank_account=account, plan_amount=Decimal("99.90"),
    due_day=10, city="São Paulo", state="SP", postcode="01001000", street="Rua A", number="1",
    neighborhood="Centro",
)
due = dt.date.today() + dt.timedelta(days=10)
charge = charge_create(customer=customer, amount=Decimal("99.90"), due_date=due, description="Internet",
                       enqueue=False)
charge = charge_issue(charge_id=charge.pk)
print(json.dumps({"id": charge.pk, "code": charge.gateway_code, "state": charge.state}))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _dev_children() -> dict[str, list[str]]:
    """bin/dev.py's commands by name (the file is a script, not a module of the package)."""
    spec = importlib.util.spec_from_file_location("cobranca_dev", BASE_DIR / "bin" / "dev.py")
    assert spec is not None and spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, dev)  # its dataclasses look their module up
    spec.loader.exec_module(dev)
    return {child.name: list(child.argv) for child in dev.children()}


def _on_port(argv: list[str], old: str, new: str) -> list[str]:
    assert old in argv, argv
    return [new if arg == old else arg for arg in argv]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _logs(folder: Path) -> str:
    """The end of each process's log: what a failure here needs to be understood."""
    return "\n".join(
        f"--- {name}.log\n" + (folder / f"{name}.log").read_text(errors="replace")[-2000:]
        for name in ("juno", "web", "worker")
        if (folder / f"{name}.log").exists()
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_a_notification_posted_to_the_make_run_stack_turns_the_charge_paid_within_seconds(tmp_path):
    web_port, juno_port = _free_port(), _free_port()
    database = tmp_path / "db.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CACHE_URL", "CELERY_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV": "development",
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": f"sqlite:///{database}",
        "CELERY_BROKER_DIR": str(tmp_path / "broker"),
        "CACHE_URL": f"filecache://{tmp_path / 'cache'}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
        "JUNO_SANDBOX_BASE_URL": f"http://127.0.0.1:{juno_port}/boletofacil/integration/api/v1/",
    }
    commands = _dev_children()
    web = _on_port(commands["web"], "127.0.0.1:8000", f"127.0.0.1:{web_port}")
    juno = _on_port(commands["juno"], "8101", str(juno_port))
    worker = commands["worker"]
    assert "--pool" in worker and "threads" in worker  # the embedded default's worker

    migrate = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    processes = []
    try:
        for name, argv in (("juno", juno), ("web", web), ("worker", worker)):
            log = (tmp_path / f"{name}.log").open("wb")
            processes.append(
                subprocess.Popen(  # noqa: S603 - bin/dev.py's own commands
                    argv, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        assert _wait(lambda: _listening(juno_port) and _listening(web_port), 120), _logs(tmp_path)
        seeded = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "shell", "-c", SEED],
            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert seeded.returncode == 0, seeded.stderr[-3000:] + _logs(tmp_path)
        charge = json.loads(seeded.stdout.strip().splitlines()[-1])
        assert charge["state"] == "issued", (charge, seeded.stderr[-3000:], _logs(tmp_path))
        assert _wait(lambda: "ready" in (tmp_path / "worker.log").read_text(errors="replace"), 120), _logs(
            tmp_path
        )

        def state() -> str:
            with sqlite3.connect(database, timeout=20) as conn:
                return conn.execute(
                    "SELECT state FROM billing_charge WHERE id = ?", (charge["id"],)
                ).fetchone()[0]

        started = time.monotonic()
        request = urllib.request.Request(
            f"http://127.0.0.1:{juno_port}/_sim/pay",
            data=json.dumps({"code": charge["code"]}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # the simulator notifies our URL
            assert answer.status == 200, _logs(tmp_path)
        assert _wait(lambda: state() == "paid", PAID_WITHIN_SECONDS), (state(), _logs(tmp_path))
        took = time.monotonic() - started
        with sqlite3.connect(database, timeout=20) as conn:
            notifications = conn.execute("SELECT status FROM billing_notification").fetchall()
            payments = conn.execute("SELECT COUNT(*) FROM billing_payment").fetchone()[0]
        assert notifications == [("processed",)] and payments == 1, (notifications, payments, _logs(tmp_path))
        print(f"paid {took:.1f} s after the simulator's pay")
    finally:
        for process in reversed(processes):
            _stop(process)
