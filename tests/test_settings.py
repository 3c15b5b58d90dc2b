"""Settings read from the environment: production refuses to start without its secrets and passes
Django's deployment checks; development needs nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH",
    "FIELD_ENCRYPTION_KEY": "test-only-field-key",
    "ALLOWED_HOSTS": "cobranca.example.com",
    "DATABASE_URL": "postgres://cobranca:pw@db.example.com:5432/cobranca",
    "PUBLIC_BASE_URL": "https://cobranca.example.com",
    "CELERY_BROKER_URL": "redis://redis.example.com:6379/0",
}


def run_python(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "SECRET_KEY", "FIELD_ENCRYPTION_KEY"}
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, *(["-c", code] if code else []), *args],
        cwd=BASE_DIR,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


SHOW_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
d = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SECURE_PROXY_SSL_HEADER": list(settings.SECURE_PROXY_SSL_HEADER or []),
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "SESSION_COOKIE_HTTPONLY": settings.SESSION_COOKIE_HTTPONLY,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SALT_KEY": settings.SALT_KEY,
    "script_src": [str(v) for v in d["script-src"]],
    "formatter": settings.LOGGING["handlers"]["console"]["formatter"],
    "filter": settings.DEFAULT_EXCEPTION_REPORTER_FILTER,
}))
"""


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY"])
def test_production_without_a_secret_exits_with_one_line(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}

    result = run_python("", env, "manage.py", "check")

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == [f"cobranca: {missing} must be set in the environment when DJANGO_ENV=production"]
    assert "Traceback" not in result.stderr


def test_production_settings_are_hardened():
    result = run_python(SHOW_SETTINGS, {**PRODUCTION_ENV, "FIELD_ENCRYPTION_KEY": "new-key, old-key"})

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SESSION_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"]
    assert values["CSRF_COOKIE_SECURE"]
    assert values["SALT_KEY"] == ["new-key", "old-key"]
    assert values["script_src"] == ["'self'"]
    assert values["formatter"] == "json"
    assert values["filter"] == "config.logging.SecretsExceptionReporterFilter"


def test_production_passes_the_deployment_security_checks():
    result = run_python(
        "", PRODUCTION_ENV, "manage.py", "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_needs_no_environment():
    result = run_python(SHOW_SETTINGS, {"DJANGO_ENV": "development"})

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["formatter"] == "text"


def test_the_configuration_page_names_every_environment_variable():
    source = (BASE_DIR / "config" / "settings.py").read_text()
    names = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', source))
    names |= set(re.findall(r'_required_in_production\(\s*"([A-Z][A-Z0-9_]+)"', source))
    page = (BASE_DIR / "docs" / "configuration.md").read_text()
    table = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", page, flags=re.MULTILINE))

    assert {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DATABASE_URL", "JUNO_BASE_URL"} <= names
    assert sorted(names - table) == [], "add these to the table in docs/configuration.md"


SHOW_EMAIL = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in (
    "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS", "EMAIL_USE_SSL", "EMAIL_TIMEOUT", "DEFAULT_FROM_EMAIL")}))
"""


def test_email_url_sets_djangos_mail_settings():
    env = {
        **PRODUCTION_ENV,
        "EMAIL_URL": "smtp+tls://cobranca%40fibra.example:s3cr%2Ft@smtp.fibra.example",
        "DEFAULT_FROM_EMAIL": "Fibra <cobranca@fibra.example>",
    }

    result = run_python(SHOW_EMAIL, env)

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.fibra.example",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "cobranca@fibra.example",
        "EMAIL_HOST_PASSWORD": "s3cr/t",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 10,
        "DEFAULT_FROM_EMAIL": "Fibra <cobranca@fibra.example>",
    }


def test_email_defaults_print_in_development_and_use_the_local_relay_in_production():
    development = run_python(SHOW_EMAIL, {"DJANGO_ENV": "development"})
    production = run_python(SHOW_EMAIL, PRODUCTION_ENV)

    assert development.returncode == 0 and production.returncode == 0, development.stderr + production.stderr
    dev = json.loads(development.stdout.strip().splitlines()[-1])
    prod = json.loads(production.stdout.strip().splitlines()[-1])
    assert dev["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert (prod["EMAIL_BACKEND"], prod["EMAIL_HOST"], prod["EMAIL_PORT"]) == (
        "django.core.mail.backends.smtp.EmailBackend",
        "localhost",
        25,
    )
    assert prod["EMAIL_HOST_PASSWORD"] == "" and prod["EMAIL_USE_TLS"] is False
