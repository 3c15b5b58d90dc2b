"""Start-up refusals: each bad environment stops every process with one line on stderr and a non-zero
exit; production defaults to the real gateways and never starts against a simulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
#: What a production environment must set; each test removes or spoils one thing.
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH",
    "FIELD_ENCRYPTION_KEY": "test-only-field-key",
    "ALLOWED_HOSTS": "cobranca.example.com",
    "DATABASE_URL": "postgres://cobranca:pw@db.example.com:5432/cobranca",
    "PUBLIC_BASE_URL": "https://cobranca.example.com",
    "CELERY_BROKER_URL": "redis://redis.example.com:6379/0",
}
#: Inherited variables that would hide what a test leaves out.
CLEARED = {
    *PRODUCTION,
    "CACHE_URL",
    "JUNO_BASE_URL",
    "JUNO_SANDBOX_BASE_URL",
    "MYCONTAS_URL",
    "ASAAS_BASE_URL",
    "ASAAS_SANDBOX_BASE_URL",
    "DJANGO_SETTINGS_MODULE",
}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in CLEARED}
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        args,
        cwd=BASE_DIR,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def django_setup(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-c", "import django; django.setup(); print('started')"], env)


def assert_refused(result: subprocess.CompletedProcess[str], line: str) -> None:
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [line], result.stderr
    assert "started" not in result.stdout


@pytest.mark.parametrize("missing", ["DATABASE_URL", "PUBLIC_BASE_URL", "CELERY_BROKER_URL"])
def test_production_refuses_to_start_without_its_servers(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    assert_refused(
        django_setup(env), f"cobranca: {missing} must be set in the environment when DJANGO_ENV=production"
    )
    assert_refused(
        django_setup({**env, missing: "  "}),
        f"cobranca: {missing} must be set in the environment when DJANGO_ENV=production",
    )


@pytest.mark.parametrize("environment", ["production", "development"])
def test_a_blank_field_encryption_key_is_refused(environment):
    base = PRODUCTION if environment == "production" else {"DJANGO_ENV": "development"}
    blank = django_setup({**base, "FIELD_ENCRYPTION_KEY": " "})
    if environment == "production":
        assert_refused(
            blank, "cobranca: FIELD_ENCRYPTION_KEY must be set in the environment when DJANGO_ENV=production"
        )
    else:
        assert_refused(
            blank, "cobranca: FIELD_ENCRYPTION_KEY is blank (only whitespace): unset it or give it a value"
        )
    commas = django_setup({**base, "FIELD_ENCRYPTION_KEY": " , ,"})
    assert_refused(commas, "cobranca: FIELD_ENCRYPTION_KEY holds no key (only commas and whitespace)")


def test_a_blank_secret_key_is_refused_in_production():
    assert_refused(
        django_setup({**PRODUCTION, "SECRET_KEY": "   "}),
        "cobranca: SECRET_KEY must be set in the environment when DJANGO_ENV=production",
    )


SHOW_GATEWAYS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.JUNO_BASE_URL, s.JUNO_SANDBOX_BASE_URL, s.MYCONTAS_URL, "
    "s.ASAAS_BASE_URL, s.ASAAS_SANDBOX_BASE_URL]))"
)


def test_production_defaults_to_the_real_gateways():
    result = run([sys.executable, "-c", SHOW_GATEWAYS], PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        "https://www.boletobancario.com/boletofacil/integration/api/v1/",
        "https://sandbox.boletobancario.com/boletofacil/integration/api/v1/",
        "http://www.mycontas.com.br/servicoweb",
        "https://api.asaas.com/v3/",
        "https://api-sandbox.asaas.com/v3/",
    ]


def test_development_defaults_to_the_local_simulators():
    result = run([sys.executable, "-c", SHOW_GATEWAYS], {"DJANGO_ENV": "development"})
    assert result.returncode == 0, result.stderr
    _juno, sandbox, mycontas, _asaas, asaas_sandbox = json.loads(result.stdout.strip().splitlines()[-1])
    assert sandbox.startswith("http://127.0.0.1:8101/") and mycontas.startswith("http://127.0.0.1:8102/")
    assert asaas_sandbox.startswith("http://127.0.0.1:8103/")


LOCAL_URLS = [
    ("MYCONTAS_URL", "http://127.0.0.1:8102/servicoweb", "127.0.0.1"),
    ("JUNO_SANDBOX_BASE_URL", "http://localhost:8101/api/", "localhost"),
    ("JUNO_BASE_URL", "https://10.0.0.7/api/", "10.0.0.7"),
    ("JUNO_BASE_URL", "https://192.168.1.20/api/", "192.168.1.20"),
    ("MYCONTAS_URL", "http://[::1]:8102/servicoweb", "::1"),
    ("MYCONTAS_URL", "http://169.254.1.1/servicoweb", "169.254.1.1"),
    ("ASAAS_SANDBOX_BASE_URL", "http://127.0.0.1:8103/v3/", "127.0.0.1"),
]


@pytest.mark.parametrize(("name", "url", "host"), LOCAL_URLS)
def test_a_local_gateway_url_in_production_is_refused_and_an_error_of_check_deploy(name, url, host):
    env = {**PRODUCTION, name: url}
    assert_refused(
        django_setup(env),
        f"cobranca: {name} points at a loopback or private address ({host}) when DJANGO_ENV=production: "
        "production never talks to a simulator",
    )
    check = run([sys.executable, "manage.py", "check", "--deploy"], env)
    assert check.returncode != 0
    assert re.search(rf"\(cobranca\.E001\) {name} points at a loopback or private address", check.stderr)


def test_public_gateway_urls_pass_check_deploy():
    env = {**PRODUCTION, "MYCONTAS_URL": "https://www.mycontas.com.br/servicoweb"}
    check = run([sys.executable, "manage.py", "check", "--deploy", "--tag", "security"], env)
    assert check.returncode == 0, check.stderr
    assert "cobranca.E001" not in check.stdout + check.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "deploy/gunicorn.conf.py",
            "--bind",
            "127.0.0.1:0",
            "config.wsgi",
        ],
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo"],
        [sys.executable, "-m", "celery", "-A", "config", "beat"],
    ],
    ids=["gunicorn", "celery-worker", "celery-beat"],
)
def test_the_deployed_processes_refuse_to_start_with_one_line(command):
    """As deploy/systemd starts them: the web server, the worker and beat."""
    result = run(command, {**PRODUCTION, "MYCONTAS_URL": "http://127.0.0.1:8102/servicoweb"})
    assert_refused(
        result,
        "cobranca: MYCONTAS_URL points at a loopback or private address (127.0.0.1) when "
        "DJANGO_ENV=production: production never talks to a simulator",
    )


def test_the_deploy_example_names_every_gateway_variable():
    from django.conf import settings

    example = (BASE_DIR / "deploy" / "cobranca.env.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    source = (BASE_DIR / "config" / "settings.py").read_text()
    gateway_section = source.split("# --- Gateways", 1)[1].split("# --- ", 1)[0]
    gateway_variables = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', gateway_section))
    assert set(settings.GATEWAY_URL_SETTINGS) <= gateway_variables
    assert sorted(gateway_variables - named) == []
