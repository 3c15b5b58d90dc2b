"""Security wiring: CSRF exemptions, CSP, login lockout, secrets kept out of logs and error pages."""

from __future__ import annotations

import copy
import io
import json
import logging
import logging.config
import sys
import warnings

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.debug import ExceptionReporter, get_default_exception_reporter_filter

from config.logging import RedactSecretsFilter, SecretsExceptionReporterFilter, attach_redaction, redact
from tests.factories import UserFactory

#: The only places where gateways POST without a session: they must be CSRF-exempt, nothing else,
#: but for the subscriber portal's buttons: the portal's pages send no Referer and an ``Origin: null``
#: (``Referrer-Policy: no-referrer``), and the unguessable token in their URL is itself the credential
#: a forged request would need.
CSRF_EXEMPT_PREFIXES = ("api/notifications/", "retorno/", "portal/<str:token>/")


def walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def effectively_csrf_exempt(callback) -> bool:
    view_class = getattr(callback, "cls", None)
    if view_class is not None and hasattr(view_class, "authentication_classes"):
        # DRF marks every APIView exempt and re-applies CSRF in SessionAuthentication instead.
        from rest_framework.authentication import SessionAuthentication

        initkwargs = getattr(callback, "initkwargs", {}) or {}
        classes = initkwargs.get("authentication_classes", view_class.authentication_classes)
        return not any(issubclass(c, SessionAuthentication) for c in classes)
    return bool(getattr(callback, "csrf_exempt", False))


def test_only_gateway_endpoints_are_csrf_exempt():
    routes = list(walk(get_resolver().url_patterns))
    assert any(route.startswith("admin/") for route, _ in routes)

    exempt = sorted(route for route, callback in routes if effectively_csrf_exempt(callback))

    assert [route for route in exempt if not route.lstrip("^").startswith(CSRF_EXEMPT_PREFIXES)] == []
    # The gateways post without a session or token: their endpoints must accept that.
    assert "retorno/juno_confirma.php" in exempt
    assert any(route.startswith("api/notifications/juno/") for route in exempt)


@pytest.mark.django_db  # the sign-in page is headed with the provider's name
def test_every_page_carries_a_strict_content_security_policy(client):
    response = client.get("/admin/login/")

    policy = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'self'"


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_username_and_address(client, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="operador", is_superuser=True)
    bad = {"username": "operador", "password": "wrong-password", "next": "/admin/"}

    statuses = [client.post("/admin/login/", bad).status_code for _ in range(3)]
    locked = client.post("/admin/login/", {**bad, "password": "s3cret-pass!"})

    assert statuses[:2] == [200, 200]
    assert locked.status_code in (403, 429)
    # Another address is not locked out: the lockout is per user and IP.
    other = client.post("/admin/login/", {**bad, "password": "s3cret-pass!"}, REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 302


@pytest.mark.django_db
def test_superusers_see_lockouts_in_the_admin(client):
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(
        username="operador", ip_address="203.0.113.9", user_agent="x", failures_since_start=5
    )
    client.force_login(UserFactory(username="root", is_superuser=True))

    response = client.get("/admin/axes/accessattempt/")

    assert response.status_code == 200
    assert b"203.0.113.9" in response.content


def test_sessions_expire():
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_HTTPONLY is True


# --- logs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "POST token=ABCDEF123456&dueDate=10/12/2026",
        "params {'token': 'ABCDEF123456', 'amount': '10.00'}",
        '{"sandbox_token": "ABCDEF123456"}',
        "txtCod_senha=ABCDEF123456",
        "Authorization: Bearer ABCDEF123456",
        "broker redis://:ABCDEF123456@10.0.0.5:6379/0",
        "postgres://cobranca:ABCDEF123456@db:5432/cobranca",
    ],
)
def test_redact_masks_credentials(text):
    assert "ABCDEF123456" not in redact(text)


def test_redact_keeps_ordinary_text():
    assert redact("charge T-123 issued for 99.90") == "charge T-123 issued for 99.90"


def test_every_configured_handler_redacts():
    for name, handler in settings.LOGGING["handlers"].items():
        assert "redact" in handler.get("filters", []), name
    config = {"version": 1, "handlers": {"a": {"class": "logging.NullHandler"}}}
    assert attach_redaction(attach_redaction(config))["handlers"]["a"]["filters"] == ["redact"]


@pytest.mark.parametrize("formatter", ["text", "json"])
def test_a_token_in_a_log_message_never_reaches_the_output(formatter):
    stream = io.StringIO()
    config = json.loads(json.dumps({k: v for k, v in settings.LOGGING.items() if k != "root"}))
    config["handlers"] = {
        "out": {"class": "logging.StreamHandler", "formatter": formatter, "stream": "ext://sys.stdout"}
    }
    config["loggers"] = {"redaction-test": {"handlers": ["out"], "level": "INFO", "propagate": False}}
    attach_redaction(config)
    config["disable_existing_loggers"] = False
    saved = sys.stdout
    sys.stdout = stream
    try:
        logging.config.dictConfig(config)
        log = logging.getLogger("redaction-test")
        log.info("calling issue-charge with token=%s and %s", "SECRET-TOKEN-1", {"password": "SECRET-PW-2"})
        log.info("extra fields", extra={"sandbox_token": "SECRET-TOKEN-3", "url": "redis://:SECRET-4@r:6379"})
        try:
            raise ValueError("rejected token=SECRET-TOKEN-5")
        except ValueError:
            log.exception("gateway failed")
    finally:
        sys.stdout = saved
        logging.config.dictConfig(settings.LOGGING)

    output = stream.getvalue()
    assert "calling issue-charge" in output and "gateway failed" in output
    assert "ValueError" in output
    for secret in ("SECRET-TOKEN-1", "SECRET-PW-2", "SECRET-TOKEN-3", "SECRET-4", "SECRET-TOKEN-5"):
        assert secret not in output


def test_the_filter_survives_a_broken_format_string():
    record = logging.makeLogRecord({"msg": "token=%s %s", "args": ("ABC",)})
    assert RedactSecretsFilter().filter(record) is True
    assert "ABC" not in record.getMessage()


# --- error pages --------------------------------------------------------------------------------


SECRETS = [f"HIDDEN-VALUE-{n}" for n in range(1, 11)]


@pytest.fixture
def secret_settings(settings):
    # A copy: the live connection settings must keep their real password for the rest of the run.
    databases = copy.deepcopy(settings.DATABASES)
    databases["default"]["PASSWORD"] = SECRETS[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Overriding setting DATABASES can lead to unexpected behavior"
        settings.DATABASES = databases
    settings.DATABASE_URL = f"postgres://cobranca:{SECRETS[1]}@db:5432/cobranca"
    settings.CELERY_BROKER_URL = f"redis://:{SECRETS[2]}@redis:6379/0"
    settings.CACHES = {"default": {"BACKEND": "x", "LOCATION": f"redis://:{SECRETS[3]}@redis:6379/1"}}
    settings.SALT_KEY = [SECRETS[4]]
    settings.FIELD_ENCRYPTION_KEY = SECRETS[5]
    settings.SENTRY_DSN = f"https://{SECRETS[6]}@sentry.example.com/1"
    settings.SOME_SERVICE_URL = f"https://user:{SECRETS[7]}@example.com/"
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Basic {SECRETS[8]}")
    request.META["CELERY_BROKER_URL"] = f"redis://:{SECRETS[9]}@redis:6379/0"
    return request


def _fail():
    raise RuntimeError("boom")


def test_error_reports_hide_every_secret_setting(secret_settings):
    assert isinstance(get_default_exception_reporter_filter(), SecretsExceptionReporterFilter)
    try:
        _fail()
    except RuntimeError:
        reporter = ExceptionReporter(secret_settings, *sys.exc_info())

    report = reporter.get_traceback_html() + reporter.get_traceback_text()

    assert "boom" in report and "SOME_SERVICE_URL" in report
    assert [secret for secret in SECRETS if secret in report] == []


# --- client address behind the proxy ------------------------------------------------------------


def _seen_address(settings, peer: str, header: str | None) -> str:
    from config.proxy import RealIPMiddleware

    settings.TRUSTED_PROXY_IPS = ["127.0.0.1"]
    extra = {"HTTP_X_REAL_IP": header} if header is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR=peer, **extra)
    RealIPMiddleware(lambda r: r.META["REMOTE_ADDR"])(request)
    return request.META["REMOTE_ADDR"]


def test_the_proxy_header_names_the_client_only_from_a_trusted_proxy(settings):
    assert _seen_address(settings, "127.0.0.1", "203.0.113.7") == "203.0.113.7"
    assert _seen_address(settings, "198.51.100.2", "203.0.113.7") == "198.51.100.2"
    assert _seen_address(settings, "127.0.0.1", "not-an-address") == "127.0.0.1"
    assert _seen_address(settings, "127.0.0.1", None) == "127.0.0.1"
    assert settings.MIDDLEWARE[0] == "config.proxy.RealIPMiddleware"
