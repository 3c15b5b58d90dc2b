"""A real FreeRADIUS for the tests, and radclient to ask it.

The server is the one CI started (``RADIUS_TEST_SERVER=host:port`` and ``RADIUS_TEST_SECRET``), or one
started here for the session on a free loopback port, configured by radius.freeradius. Either reads
``RADIUS_TEST_DATABASE_URL`` (default: a ``<name>_radius`` database beside a PostgreSQL
``DATABASE_URL``, created when missing). Without FreeRADIUS, radclient or a PostgreSQL to put its
tables in, the tests that need it are skipped with the reason; under CI (``CI`` set, as ``.ci/run``
does) they fail instead, so a CI machine that lost its FreeRADIUS cannot pass by skipping them.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import environ
import psycopg
import pytest

from radius import freeradius, store

LOCAL_SECRET = "radius-test-secret"  # noqa: S105 - a loopback-only test server's client secret
READY_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class RadiusServer:
    host: str
    port: int
    secret: str
    database_url: str


@dataclass(frozen=True)
class Answer:
    code: str  # "Access-Accept", "Access-Reject", or "" when nothing came back
    attributes: dict[str, list[str]]


def _unavailable(reason: str) -> NoReturn:
    """Skip on a developer's machine; fail under CI, where FreeRADIUS is part of the job."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"CI must run the FreeRADIUS tests: {reason}", pytrace=False)
    pytest.skip(reason)


def _missing_tools() -> str | None:
    if freeradius.executable() is None:
        return "FreeRADIUS is not installed (apt install freeradius freeradius-postgresql)"
    if shutil.which("radclient") is None:
        return "radclient is not installed (apt install freeradius-utils)"
    if not freeradius.SCHEMA.exists():
        return f"{freeradius.SCHEMA} is missing (apt install freeradius-postgresql)"
    return None


def _database_url() -> str | None:
    url = os.environ.get("RADIUS_TEST_DATABASE_URL")
    if url:
        return url
    main = os.environ.get("DATABASE_URL", "")
    if not main.startswith(("postgres://", "postgresql://")):
        return None
    config = environ.Env.db_url_config(main)
    name = f"{config['NAME']}_radius"
    admin = {**store.connection_kwargs(main)}
    with psycopg.connect(**admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    return main.rsplit("/", 1)[0] + "/" + name


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(directory: Path, database_url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_udp_port()
    freeradius.write_config(directory, port=port, secret=LOCAL_SECRET, database_url=database_url)
    daemon = freeradius.executable()
    assert daemon is not None
    process = subprocess.Popen([daemon, "-f", "-d", str(directory)])  # noqa: S603
    log = directory / "log" / "radius.log"
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if log.exists() and "Ready to process requests" in log.read_text(errors="replace"):
            return process, port
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise RuntimeError(f"FreeRADIUS did not start:\n{tail}")


@pytest.fixture(scope="session")
def radius_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadiusServer]:
    reason = _missing_tools()
    if reason:
        _unavailable(reason)
    database_url = _database_url()
    if not database_url:
        _unavailable(
            "no PostgreSQL for FreeRADIUS's tables: set RADIUS_TEST_DATABASE_URL (or a postgres DATABASE_URL)"
        )
    freeradius.ensure_schema(database_url)
    given = os.environ.get("RADIUS_TEST_SERVER")
    if given:
        host, _sep, port = given.rpartition(":")
        yield RadiusServer(host, int(port), os.environ["RADIUS_TEST_SECRET"], database_url)
        return
    process, port = _start(tmp_path_factory.mktemp("freeradius"), database_url)
    try:
        yield RadiusServer("127.0.0.1", port, LOCAL_SECRET, database_url)
    finally:
        process.terminate()
        process.wait(timeout=10)


def access_request(server: RadiusServer, username: str, password: str) -> Answer:
    """One Access-Request through radclient; the answer's code and reply attributes."""
    completed = subprocess.run(  # noqa: S603
        ["radclient", "-x", "-r", "2", "-t", "3", f"{server.host}:{server.port}", "auth", server.secret],  # noqa: S607
        input=f'User-Name = "{username}", User-Password = "{password}"\n',
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    code, attributes = "", {}
    received = False
    for line in completed.stdout.splitlines():
        match = re.match(r"Received (Access-\w+)", line)
        if match:
            code, received = match[1], True
            continue
        if received:
            pair = re.match(r'\s+([\w-]+) = "?(.*?)"?$', line)
            if pair:
                attributes.setdefault(pair[1], []).append(pair[2])
    return Answer(code, attributes)


def seed_user(database_url: str, username: str, password: str) -> None:
    """What the provider's own system keeps in radcheck: the subscriber's PPPoE password."""
    with store.connect(database_url) as conn:
        conn.execute("DELETE FROM radcheck WHERE username = %s", (username,))
        conn.execute(
            "INSERT INTO radcheck (username, attribute, op, value)"
            " VALUES (%s, 'Cleartext-Password', ':=', %s)",
            (username, password),
        )


def seed_group(database_url: str, group: str, replies: dict[str, str]) -> None:
    """The reply attributes of a group (a plan, or the provider's blocked group)."""
    with store.connect(database_url) as conn:
        conn.execute("DELETE FROM radgroupreply WHERE groupname = %s", (group,))
        for attribute, value in replies.items():
            conn.execute(
                "INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES (%s, %s, ':=', %s)",
                (group, attribute, value),
            )


def forget_user(database_url: str, username: str) -> None:
    with store.connect(database_url) as conn:
        conn.execute("DELETE FROM radcheck WHERE username = %s", (username,))
        conn.execute("DELETE FROM radusergroup WHERE username = %s", (username,))
