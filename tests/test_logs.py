"""A session that used portal tokens and notification URLs leaves neither in any log: Django's request
warnings, the configured log formats, and gunicorn's access log as deploy/gunicorn.conf.py sets it up."""

from __future__ import annotations

import copy
import io
import logging.config
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.factories import CustomerFactory, JunoAccountFactory, MycontasAccountFactory

BASE_DIR = Path(__file__).resolve().parent.parent


def session(client, *, portal_token: str, public_ids: list[str]) -> None:
    """What a subscriber, a forger and the gateways do: portal pages (found, guessed, too many) and
    notifications to each account's URL, good and bad."""
    assert client.get(f"/portal/{portal_token}/").status_code == 200
    assert client.get(f"/portal/{portal_token}x/").status_code == 404
    for public_id in public_ids:
        for gateway in ("juno", "mycontas"):
            response = client.post(
                f"/api/notifications/{gateway}/{public_id}/",
                data="garbage=1",
                content_type="application/x-www-form-urlencoded",
            )
            assert 400 <= response.status_code < 500


@pytest.mark.django_db
@pytest.mark.parametrize("formatter", ["text", "json"])
@pytest.mark.usefixtures("local_cache")
def test_request_warnings_never_show_a_portal_token_or_a_notification_public_id(client, settings, formatter):
    customer = CustomerFactory(bank_account=JunoAccountFactory())
    mycontas = MycontasAccountFactory()
    secrets = [customer.portal_token, customer.bank_account.public_id, mycontas.public_id]
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"]["formatter"] = formatter
    stream, saved = io.StringIO(), sys.stderr
    sys.stderr = stream  # the console handler writes to the stderr of when it is configured
    try:
        logging.config.dictConfig(config)
        session(client, portal_token=customer.portal_token, public_ids=secrets[1:])
    finally:
        sys.stderr = saved
        logging.config.dictConfig(settings.LOGGING)

    output = stream.getvalue()
    assert "Not Found" in output and "/portal/***/" in output
    assert "/api/notifications/juno/***/" in output and "/api/notifications/mycontas/***/" in output
    assert [secret for secret in secrets if secret in output] == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, data: bytes | None = None) -> int:
    try:
        with urllib.request.urlopen(url, data=data, timeout=30) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
def test_gunicorn_access_and_error_logs_mask_tokens_and_public_ids(tmp_path):
    """gunicorn started exactly as deploy/ does, on a fresh SQLite database: its whole output is read."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CACHE_URL"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": "locmemcache://",
        "CELERY_BROKER_URL": "memory://",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
    }
    python = sys.executable
    subprocess.run(  # noqa: S603 - our interpreter, our arguments
        [python, "manage.py", "migrate", "-v", "0"], cwd=BASE_DIR, env=env, check=True, capture_output=True
    )
    setup = (
        "import django; django.setup()\n"
        "from tests.factories import CustomerFactory, JunoAccountFactory\n"
        "c = CustomerFactory(bank_account=JunoAccountFactory())\n"
        "print(c.portal_token, c.bank_account.public_id)\n"
    )
    made = subprocess.run(  # noqa: S603
        [python, "-c", setup], cwd=BASE_DIR, env=env, check=True, capture_output=True, text=True
    )
    token, public_id = made.stdout.split()[-2:]
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(  # noqa: S603
            [python, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while fetch_or_none(f"{base}/health/") is None:
                assert time.monotonic() < deadline, log_path.read_text()
                assert server.poll() is None, log_path.read_text()
                time.sleep(0.2)
            assert fetch(f"{base}/portal/{token}/") == 200
            assert fetch(f"{base}/portal/{token}x/") == 404
            assert 400 <= fetch(f"{base}/api/notifications/juno/{public_id}/", data=b"garbage=1") < 500
        finally:
            server.terminate()
            server.wait(30)

    output = log_path.read_text()
    assert '"GET /portal/***/ HTTP/1.1" 200' in output, output
    assert '"POST /api/notifications/juno/***/ HTTP/1.1" 4' in output, output
    assert token not in output and public_id not in output


def fetch_or_none(url: str) -> int | None:
    try:
        return fetch(url)
    except OSError:
        return None


def test_nginx_log_format_masks_the_same_paths():
    """The shipped site's map, applied as nginx would (first matching regex wins)."""
    import re

    conf = (BASE_DIR / "deploy" / "nginx" / "cobranca.conf").read_text()
    block = re.search(r"map \$uri \$cobranca_logged_uri \{(.*?)\}", conf, flags=re.DOTALL).group(1)
    rules = []
    for line in block.strip().splitlines():
        pattern, value = line.strip().rstrip(";").rsplit(None, 1)
        if pattern != "default":
            rules.append((re.compile(pattern.strip('"')[1:].replace("(?<", "(?P<")), value))
    assert "$cobranca_logged_uri" in conf.split("log_format cobranca", 1)[1].split(";", 1)[0]

    def logged(uri: str) -> str:
        for pattern, value in rules:
            match = pattern.search(uri)
            if match:
                return re.sub(r"\$(\w+)", lambda name, found=match: found.group(name.group(1)), value)
        return uri

    assert logged("/portal/SECRET-TOKEN/") == "/portal/***"
    assert logged("/api/notifications/juno/SECRET-ID/") == "/api/notifications/juno/***"
    assert logged("/api/notifications/mycontas/SECRET-ID/") == "/api/notifications/mycontas/***"
    assert logged("/admin/") == "/admin/"
