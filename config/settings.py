"""Settings, read from the environment (django-environ).

Every variable is listed in the table of docs/configuration.md. Development needs none of them:
SQLite, a broker that needs no server and the local gateway simulators are the defaults. Production
(``DJANGO_ENV=production``) refuses to start without its secrets.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"
TESTING = "pytest" in sys.modules or DJANGO_ENV == "test"

_INSECURE_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
_INSECURE_DEV_FIELD_KEY = "dev-only-field-encryption-key"


def _refuse(message: str) -> NoReturn:
    """Stop the process before it starts, with one line on stderr and exit status 1."""
    raise SystemExit(f"cobranca: {message}")


def _required_in_production(name: str, dev_default: str) -> str:
    value = env.str(name, default="")
    if value.strip():
        return value
    if PRODUCTION:
        _refuse(f"{name} must be set in the environment when DJANGO_ENV=production")
    if value:
        _refuse(f"{name} is blank (only whitespace): unset it or give it a value")
    return dev_default


def _set_in_production(name: str) -> None:
    """Production has no sensible default for ``name``: it must be set (the defaults are for one machine)."""
    if PRODUCTION and not env.str(name, default="").strip():
        _refuse(f"{name} must be set in the environment when DJANGO_ENV=production")


SECRET_KEY = _required_in_production("SECRET_KEY", _INSECURE_DEV_SECRET)
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# django-fernet-encrypted-fields derives its Fernet keys from SECRET_KEY and SALT_KEY. The first key
# encrypts; every key in the list decrypts, which is what `rotate_field_key` relies on.
SALT_KEY = [
    key.strip()
    for key in _required_in_production("FIELD_ENCRYPTION_KEY", _INSECURE_DEV_FIELD_KEY).split(",")
    if key.strip()
]
if not SALT_KEY:
    _refuse("FIELD_ENCRYPTION_KEY holds no key (only commas and whitespace)")
_set_in_production("DATABASE_URL")
_set_in_production("PUBLIC_BASE_URL")
_set_in_production("CELERY_BROKER_URL")

DEBUG = env.bool("DEBUG", default=not PRODUCTION and not TESTING)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The address gateways reach this installation at: notification URLs are built from it.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "config.apps.CobrancaAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "localflavor",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "import_export",
    "config.apps.AxesConfig",
    "csp",
    # Ours, from the bottom up: each app imports only from the apps listed before it.
    "core",
    "gateways",
    "providers",
    "customers",
    "billing",
    "webhooks",
    "radius",
    "dunning",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.QueueDeliveryMiddleware",  # inside MessageMiddleware: its warning is stored
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server, the worker and beat share one SQLite file.
    # IMMEDIATE transactions take the write lock when they begin, so a worker thread waits for it
    # (busy timeout) instead of failing with "database is locked" when its read turns into a write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", "Português (Brasil)"), ("en", "English")]
# The project's catalogue first; then the words of the third-party apps the admin shows.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "vendor"]
# config/formats/: short Brazilian dates (10/12/2026) over Django's long pt_BR ones.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "America/Sao_Paulo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True

# --- REST framework and API schema -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "EXCEPTION_HANDLER": "billing.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "cobranca API",
    "DESCRIPTION": "Payment notifications posted by the gateways (Juno / Boleto Fácil, Mycontas).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Celery -------------------------------------------------------------------------------------
# With no broker configured, kombu's filesystem transport under var/ needs no server: good for one
# machine (the demo; run the worker with `--pool threads`). Production and CI set
# CELERY_BROKER_URL=redis://... Every task is idempotent (the services check the state under a row
# lock), so messages are acknowledged only after the task ran and re-delivered if a worker dies.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_IS_REDIS = CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
# Redis re-delivers a message nobody acknowledged within this many seconds. It must exceed every
# retry countdown (billing.tasks.BACKOFF_CAP_SECONDS) and the longest task, or a delayed retry would
# be delivered twice (harmless, the tasks are idempotent, but wasteful).
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=3600)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Gateway calls wait on the network: threads, not processes, are the right pool for them.
CELERY_WORKER_POOL = env.str("CELERY_WORKER_POOL", default="threads")
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=8)
# One message at a time per worker slot: a killed worker strands at most its running tasks.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Celery's Django fixup closes every database connection before and after every task unless this
# is set, which costs a new PostgreSQL connection (a backend fork and an authentication) per task.
# Set high so that it never closes them itself: config.celery recycles connections between tasks
# the way Django does between requests (CONN_MAX_AGE, CONN_HEALTH_CHECKS).
CELERY_DB_REUSE_MAX = 1_000_000_000
if CELERY_BROKER_URL.startswith("filesystem://"):
    _BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
    for _folder in ("queue", "processed", "control"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    # The filesystem transport deletes a message when a worker takes it (it has no "unacked"
    # state): a worker killed mid-task loses its message and the hourly sweep picks the charge up.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The sweep: charges stuck in `issuing` longer than the gateway timeouts plus this margin are
# presumed abandoned by a dead worker and looked up; pending work younger than SWEEP_MIN_AGE is left
# to the tasks already queued for it.
SWEEP_ISSUING_MARGIN_SECONDS = env.int("SWEEP_ISSUING_MARGIN_SECONDS", default=60)
SWEEP_MIN_AGE_SECONDS = env.int("SWEEP_MIN_AGE_SECONDS", default=300)
SWEEP_LEASE_SECONDS = env.int("SWEEP_LEASE_SECONDS", default=600)
# Every rate limit (gateway calls per bank account, portal and notification requests per address) is
# counted by core.ratelimit in the default cache: atomic on Redis, the file cache and local memory
# (docs/security.md). The file cache default counts per machine only; set CACHE_URL=redis://... when
# workers run on several machines so they share one budget. A gateway call waits at most this long.
GATEWAY_RATE_LIMIT_MAX_WAIT_SECONDS = env.float("GATEWAY_RATE_LIMIT_MAX_WAIT_SECONDS", default=10.0)

# --- Gateways -----------------------------------------------------------------------------------
# Production defaults to the real services; development to the local simulators (make run).
JUNO_BASE_URL = env.str(
    "JUNO_BASE_URL", default="https://www.boletobancario.com/boletofacil/integration/api/v1/"
)
JUNO_SANDBOX_BASE_URL = env.str(
    "JUNO_SANDBOX_BASE_URL",
    default="https://sandbox.boletobancario.com/boletofacil/integration/api/v1/"
    if PRODUCTION
    else "http://127.0.0.1:8101/boletofacil/integration/api/v1/",
)
# The web service's address as the Mycontas manual gives it (plain http: the manual names no other).
MYCONTAS_URL = env.str(
    "MYCONTAS_URL",
    default="http://www.mycontas.com.br/servicoweb" if PRODUCTION else "http://127.0.0.1:8102/servicoweb",
)
ASAAS_BASE_URL = env.str("ASAAS_BASE_URL", default="https://api.asaas.com/v3/")
ASAAS_SANDBOX_BASE_URL = env.str(
    "ASAAS_SANDBOX_BASE_URL",
    default="https://api-sandbox.asaas.com/v3/" if PRODUCTION else "http://127.0.0.1:8103/v3/",
)
#: The settings that hold each gateway's service URLs. In production none may be loopback or private:
#: the process refuses to start, and `check --deploy` reports it (core.checks). Links on the origin of
#: a loopback one (a simulator, in development) may be shown (core.links).
GATEWAY_SERVICE_URL_SETTINGS: dict[str, list[str]] = {
    "juno": ["JUNO_BASE_URL", "JUNO_SANDBOX_BASE_URL"],
    "mycontas": ["MYCONTAS_URL"],
    "asaas": ["ASAAS_BASE_URL", "ASAAS_SANDBOX_BASE_URL"],
}
GATEWAY_URL_SETTINGS = [name for names in GATEWAY_SERVICE_URL_SETTINGS.values() for name in names]
if PRODUCTION and sys.argv[1:2] != ["check"]:  # `manage.py check` lists it as error cobranca.E001
    from core.addresses import is_local_url, url_host

    for _name in GATEWAY_URL_SETTINGS:
        _host = url_host(globals()[_name]) or "no host"
        if is_local_url(globals()[_name]):
            _refuse(
                f"{_name} points at a loopback or private address ({_host}) when DJANGO_ENV=production: "
                "production never talks to a simulator"
            )
# The domains (and their subdomains) whose https links each gateway may give us: boleto, checkout and
# carnê pages. Any other link a gateway answer or notification carries is never stored or shown.
JUNO_LINK_DOMAINS = env.list("JUNO_LINK_DOMAINS", default=["boletobancario.com", "juno.com.br"])
MYCONTAS_LINK_DOMAINS = env.list("MYCONTAS_LINK_DOMAINS", default=["mycontas.com.br"])
# www.asaas.com and sandbox.asaas.com: invoice and boleto pages
ASAAS_LINK_DOMAINS = env.list("ASAAS_LINK_DOMAINS", default=["asaas.com"])
GATEWAY_LINK_DOMAINS: dict[str, list[str]] = {
    "juno": JUNO_LINK_DOMAINS,
    "mycontas": MYCONTAS_LINK_DOMAINS,
    "asaas": ASAAS_LINK_DOMAINS,
}
GATEWAY_CONNECT_TIMEOUT = env.float("GATEWAY_CONNECT_TIMEOUT", default=5.0)
GATEWAY_READ_TIMEOUT = env.float("GATEWAY_READ_TIMEOUT", default=30.0)
GATEWAY_LOG_BODY_LIMIT = env.int("GATEWAY_LOG_BODY_LIMIT", default=8192)

# --- Product knobs ------------------------------------------------------------------------------
NOTIFICATION_MAX_BODY_BYTES = env.int("NOTIFICATION_MAX_BODY_BYTES", default=16384)
# Notification intake (docs/notifications.md): posts per window from one address and to one account
# (MK-Auth's path counts as one account) before 429; notifications waiting for verification per
# account before 503; 0 turns a limit off.
NOTIFICATION_LIMIT_WINDOW_SECONDS = env.int("NOTIFICATION_LIMIT_WINDOW_SECONDS", default=60)
NOTIFICATION_ADDRESS_LIMIT = env.int("NOTIFICATION_ADDRESS_LIMIT", default=600)
NOTIFICATION_ACCOUNT_LIMIT = env.int("NOTIFICATION_ACCOUNT_LIMIT", default=600)
NOTIFICATION_WAITING_CAP = env.int("NOTIFICATION_WAITING_CAP", default=1000)
# Each web process remembers a notification URL's account (and its waiting count) this long; 0: never.
NOTIFICATION_ACCOUNT_CACHE_SECONDS = env.int("NOTIFICATION_ACCOUNT_CACHE_SECONDS", default=5)
# A post to a URL that names no account keeps this much of its body (enough to diagnose).
NOTIFICATION_UNKNOWN_ACCOUNT_BODY_BYTES = env.int("NOTIFICATION_UNKNOWN_ACCOUNT_BODY_BYTES", default=1024)
# Invalid, rejected and over-cap notifications older than this are deleted daily; processed ones stay.
NOTIFICATION_RETENTION_DAYS = env.int("NOTIFICATION_RETENTION_DAYS", default=90)
# An account that usually gets notifications and got none for this long is shown to staff.
NOTIFICATION_SILENCE_HOURS = env.int("NOTIFICATION_SILENCE_HOURS", default=48)
# The daily reconciliation compares this many days of payments with each Juno account.
RECONCILIATION_DAYS = env.int("RECONCILIATION_DAYS", default=5)
PORTAL_RATE_LIMIT_PER_MINUTE = env.int("PORTAL_RATE_LIMIT_PER_MINUTE", default=60)
# Second copies asked for from one address per minute (each boleto also gets at most one a day).
PORTAL_SECOND_COPY_LIMIT_PER_MINUTE = 5
# A Mycontas charge still without its number or link this long after it was sent needs staff (the
# return POST did not come); the same delay applies to an unknown one.
MYCONTAS_UNKNOWN_ATTENTION_MINUTES = env.int("MYCONTAS_UNKNOWN_ATTENTION_MINUTES", default=60)
# A charge sent back to pending this many times without reaching its gateway needs staff (the tasks
# and the hourly sweep keep trying).
GATEWAY_UNREACHABLE_ATTEMPTS = env.int("GATEWAY_UNREACHABLE_ATTEMPTS", default=5)

# --- Outbound events and FreeRADIUS (docs/collection-cycle.md) ----------------------------------
# A delivery that keeps failing is retried with backoff for this long, then given up (staff may
# send it again from the delivery log).
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=5.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=10.0)
# FreeRADIUS's own PostgreSQL database (its standard schema): blocking and unblocking a subscriber
# rewrite their rows in radusergroup. Empty: no RADIUS integration.
RADIUS_DATABASE_URL = env.str("RADIUS_DATABASE_URL", default="")

# --- E-mail (reminders, "send boleto by e-mail") --------------------------------------------------
# One URL in django-environ's form: smtp+tls://user:password@host:587 (STARTTLS),
# smtp+ssl://user:password@host:465 (TLS from the start), smtp://host:25, consolemail:// (printed by
# the process that sends) or filemail:////absolute/folder (one file per message). Production without
# it hands mail to the machine's own relay (localhost:25), as Django does; development prints it.
_email = env.email_url("EMAIL_URL", default="smtp://localhost:25" if PRODUCTION else "consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or (
    465 if _email.get("EMAIL_USE_SSL") else 587 if _email.get("EMAIL_USE_TLS") else 25
)
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"] or str(VAR_DIR / "mail")
del _email
# A mail server that stops answering must not hold a worker: a reminder is marked failed instead.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# The sender of reminders and boletos sent by e-mail; use an address of the provider's domain.
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="cobranca@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Logging ------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.logging.RedactSecretsFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own handlers (DEFAULT_LOGGING: a console one under DEBUG, mail_admins, the
        # development server's) would write request paths unredacted: its records go to ours.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
# Every handler, including any added above later, gets the redaction filter.
from config.logging import attach_redaction  # noqa: E402

attach_redaction(LOGGING)
# Celery would otherwise replace the root handlers (and their redaction) with its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Debug pages and error reports hide every secret setting and the password inside any URL.
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.logging.SecretsExceptionReporterFilter"

# --- django-axes, django-csp (tightened for production in the block below) -------------------
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
# Locked per username at an address after AXES_FAILURE_LIMIT failures, and per address (whatever the
# usernames: password spraying) after AXES_ADDRESS_FAILURE_LIMIT (config.axes, docs/security.md).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_ADDRESS_FAILURE_LIMIT = 4 * AXES_FAILURE_LIMIT
AXES_HANDLER = "config.axes.UsernameAndAddressHandler"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

from csp.constants import NONE, SELF  # noqa: E402

# Scripts only from our own origin: no inline script, no eval. Styles keep 'unsafe-inline' because
# Django's admin (and django-import-export's pages) still write style="" attributes; inline styles
# cannot run code, so this is the one relaxation.
CONTENT_SECURITY_POLICY: dict[str, dict[str, list[str] | bool]] = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}

# Reverse proxies whose X-Real-IP header names the client (config.proxy): nginx on loopback in
# production. Axes lockouts, the portal's rate limit and notification sources then see real addresses.
TRUSTED_PROXY_IPS = env.list("TRUSTED_PROXY_IPS", default=["127.0.0.1", "::1"] if PRODUCTION else [])
MIDDLEWARE.insert(0, "config.proxy.RealIPMiddleware")

if PRODUCTION:
    # Behind nginx (deploy/nginx/cobranca.conf), which terminates TLS and sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe /health/ over plain HTTP on the private network.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_COOKIE_HTTPONLY = True
    LANGUAGE_COOKIE_SECURE = True
    LANGUAGE_COOKIE_HTTPONLY = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["upgrade-insecure-requests"] = True
