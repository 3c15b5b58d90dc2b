#!/usr/bin/env python3
"""Runs the whole demo in one terminal: web server, gateway simulators, Celery worker and beat.

A small foreground supervisor: each child's output is prefixed with its name; Ctrl-C (or SIGTERM)
stops them all, and so does any child dying on its own (the others are stopped, and this script
exits with that child's code). Children run in their own process groups, so a stop reaches a
child's own children too (runserver, Celery's threads).

    .venv/bin/python bin/dev.py            # what `make run` ends with
    .venv/bin/python bin/dev.py --only web worker
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from billing import demo  # noqa: E402 - plain constants, importable before Django is set up

VAR_DIR = BASE_DIR / "var"
HOST = "127.0.0.1"
STOP_GRACE_SECONDS = 10
COLOURS = ["\033[36m", "\033[33m", "\033[35m", "\033[32m", "\033[34m", "\033[31m"]
RESET = "\033[0m"


#: After the servers listen, the banner waits for this long a silence in the children's output
#: (their start-up logs are over), but never longer than SETTLE_TIMEOUT_SECONDS.
QUIET_SECONDS = 2.0
SETTLE_TIMEOUT_SECONDS = 60.0


@dataclass
class Child:
    name: str
    argv: list[str]
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    #: A line this child prints once it is ready to work (None: listening on ``port`` is enough).
    ready_marker: str | None = None
    ready: bool = False


def children() -> list[Child]:
    python = sys.executable
    celery = str(Path(python).with_name("celery"))
    return [
        Child("web", [python, "manage.py", "runserver", f"{HOST}:8000", "--noreload"], port=8000),
        Child("juno", [python, "manage.py", "runsimulator", "juno", "--port", "8101"], port=8101),
        Child("mycontas", [python, "manage.py", "runsimulator", "mycontas", "--port", "8102"], port=8102),
        Child(
            "asaas",
            [
                python,
                *("manage.py", "runsimulator", "asaas", "--port", str(demo.ASAAS_SIMULATOR_PORT)),
                *("--webhook", demo.asaas_webhook_spec(f"http://{HOST}:8000")),
            ],
            port=demo.ASAAS_SIMULATOR_PORT,
        ),
        Child(
            "worker",
            [celery, "-A", "config", "worker", "--pool", "threads", "-c", "8", "-l", "info"],
            ready_marker=" ready.",
        ),
        Child(
            "beat",
            [
                celery,
                "-A",
                "config",
                "beat",
                "-l",
                "info",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--pidfile=",
            ],
        ),
    ]


class Supervisor:
    def __init__(self, selected: list[Child], *, colour: bool) -> None:
        self.children = selected
        self.colour = colour
        self.width = max(len(c.name) for c in selected)
        self.stopping = threading.Event()
        self.lock = threading.RLock()  # the signal handler prints too
        self.exit_code = 0
        self.last_output = time.monotonic()

    def say(self, name: str, line: str, index: int = -1) -> None:
        label = name.ljust(self.width)
        if self.colour and index >= 0:
            label = f"{COLOURS[index % len(COLOURS)]}{label}{RESET}"
        with self.lock:
            sys.stdout.write(f"{label} | {line}\n")
            sys.stdout.flush()

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for index, child in enumerate(self.children):
            child.process = subprocess.Popen(  # noqa: S603 - our own commands
                child.argv,
                cwd=BASE_DIR,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            threading.Thread(target=self.pump, args=(child, index), daemon=True).start()

    def pump(self, child: Child, index: int) -> None:
        assert child.process is not None and child.process.stdout is not None
        for raw in iter(child.process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            self.last_output = time.monotonic()
            if child.ready_marker and child.ready_marker in line:
                child.ready = True
            self.say(child.name, line, index)

    def watch(self) -> None:
        """Returns when a stop was asked for or a child ended."""
        while not self.stopping.is_set():
            for child in self.children:
                assert child.process is not None
                code = child.process.poll()
                if code is not None:
                    self.say("dev", f"{child.name} exited with code {code}: stopping everything")
                    self.exit_code = code or 1
                    return
            self.stopping.wait(0.5)

    def stop(self) -> None:
        running = [c for c in self.children if c.process is not None and c.process.poll() is None]
        for child in running:
            self._signal(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("dev", f"{child.name} did not stop in {STOP_GRACE_SECONDS}s: killing it")
                self._signal(child, signal.SIGKILL)
                child.process.wait()

    @staticmethod
    def _signal(child: Child, sig: signal.Signals) -> None:
        assert child.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.process.pid, sig)


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def wait_until_settled(
    supervisor: Supervisor, *, quiet: float = QUIET_SECONDS, timeout: float = SETTLE_TIMEOUT_SECONDS
) -> None:
    """Let the servers come up and finish their start-up logs before the banner.

    Waits until every server listens on its port, every child with a ready line has printed it,
    and the children's output has been silent for ``quiet`` seconds; at most ``timeout`` seconds.
    Printed earlier, the login would scroll away under the worker's and beat's start-up output.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not supervisor.stopping.is_set():
        if any(c.process is not None and c.process.poll() is not None for c in supervisor.children):
            return
        listening = all(c.port is None or port_in_use(c.port) for c in supervisor.children)
        ready = all(c.ready_marker is None or c.ready for c in supervisor.children)
        if listening and ready and time.monotonic() - supervisor.last_output >= quiet:
            return
        supervisor.stopping.wait(0.2)


def banner() -> str:
    password_file = VAR_DIR / "admin-password"
    password = password_file.read_text().strip() if password_file.exists() else "(run bin/ensure_admin.py)"
    return "\n".join(
        [
            "",
            f"  cobranca is running: http://{HOST}:8000/admin/",
            f"  admin login: user 'admin', password '{password}'",
            f"  health: http://{HOST}:8000/health/   simulators: {HOST}:8101 (Juno), {HOST}:8102 (Mycontas), "
            f"{HOST}:{demo.ASAAS_SIMULATOR_PORT} (Asaas)",
            "  Ctrl-C stops everything.",
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    every = children()
    parser.add_argument("--only", nargs="+", choices=[c.name for c in every], help="start only these")
    args = parser.parse_args()

    selected = [c for c in every if not args.only or c.name in args.only]
    supervisor = Supervisor(selected, colour=sys.stdout.isatty())
    for child in selected:
        if child.port is not None and port_in_use(child.port):
            supervisor.say("dev", f"{HOST}:{child.port} is already in use: stop what runs there first")
            return 1

    def on_signal(signum: int, _frame: object) -> None:
        supervisor.say("dev", f"{signal.Signals(signum).name}: stopping everything")
        supervisor.stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    supervisor.start()
    wait_until_settled(supervisor)
    if not supervisor.stopping.is_set():
        with supervisor.lock:
            print(banner(), flush=True)
    supervisor.watch()
    supervisor.stop()
    supervisor.say("dev", "stopped")
    return supervisor.exit_code


if __name__ == "__main__":
    sys.exit(main())
