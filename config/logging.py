"""Keeping secrets out of logs and error reports.

- ``RedactSecretsFilter`` sits on every logging handler (see ``attach_redaction``): the value after any
  secret-looking name (``token=...``, ``"password": "..."``), the password inside a URL
  (``redis://:pw@host``) and the secret segment of our own paths (a subscriber's portal token in
  ``/portal/<token>/``, a bank account's public id in ``/api/notifications/<gateway>/<public id>/``)
  never reach a log line, an exception traceback or a JSON field. Django's request warnings ("Not
  Found: /portal/...") go through it like every other record.
- ``MaskedGunicornLogger`` (``deploy/gunicorn.conf.py``) applies the same masking to gunicorn's access
  log, as nginx's log format does for its own.
- ``SecretsExceptionReporterFilter`` is Django's ``DEFAULT_EXCEPTION_REPORTER_FILTER``: debug pages and
  error reports hide every secret setting and environment variable.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter

MASK = "***"

# Form fields and headers that carry gateway credentials. Values after them are masked wherever a
# message happens to contain a query string, a form body or a repr of a dict.
_SECRET_NAMES = (
    "token",
    "sandbox_token",
    "txtCod_senha",
    "password",
    "account_password",
    "passwd",
    "senha",
    "secret",
    "secret_key",
    "authorization",
    "paymentToken",
    "api_key",
    "apikey",
)
_NAMES = "|".join(map(re.escape, _SECRET_NAMES))
_PATTERN = re.compile(rf"(?i)(\b(?:{_NAMES})\b['\"]?\s*[:=]\s*['\"]?)((?:Bearer |Basic )?[^&'\"\s,}}]+)")
# scheme://user:password@host -> scheme://user:***@host (DATABASE_URL, CELERY_BROKER_URL, CACHE_URL).
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)([^@\s/]+)(@)")
# Path segments that are secrets: whoever has them opens a subscriber's portal or posts as a gateway.
_SECRET_PATH = re.compile(r"(/portal/|/api/notifications/[A-Za-z0-9_-]+/)[^/\s?#'\"<>]+")
_SECRET_ATTRIBUTE = re.compile(r"(?i)token|passw|senha|secret|authorization|api_?key")
# Attributes every LogRecord has: only "extra" fields are inspected by name.
_STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def mask_paths(text: str) -> str:
    """``/portal/<token>/`` -> ``/portal/***/``; ``/api/notifications/juno/<id>/`` -> ``.../juno/***/``."""
    return _SECRET_PATH.sub(rf"\1{MASK}", text)


def redact(text: str) -> str:
    """Mask the value that follows any secret-looking name, passwords inside URLs and secret paths."""
    return mask_paths(_URL_PASSWORD.sub(rf"\1{MASK}\3", _PATTERN.sub(rf"\1{MASK}", text)))


class RedactSecretsFilter(logging.Filter):
    """Rewrites the message, the traceback and any secret "extra" field before a handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not break logging
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            # Formatters (the JSON one included) fall back to exc_text once exc_info is cleared.
            record.exc_text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name in _STANDARD_ATTRIBUTES:
                continue
            if _SECRET_ATTRIBUTE.search(name):
                setattr(record, name, MASK)
            elif isinstance(value, str):
                setattr(record, name, redact(value))
            elif isinstance(value, HttpRequest):
                # Django's request warnings carry the request; formatters that print extra fields
                # (the JSON one) would write its path in full.
                setattr(record, name, redact(repr(value)))
        return True


def attach_redaction(config: dict[str, Any], filter_name: str = "redact") -> dict[str, Any]:
    """Put the redaction filter on every handler of a ``LOGGING`` dict (idempotent); returns it."""
    config.setdefault("filters", {}).setdefault(filter_name, {"()": "config.logging.RedactSecretsFilter"})
    for handler in config.get("handlers", {}).values():
        filters = handler.setdefault("filters", [])
        if filter_name not in filters:
            filters.append(filter_name)
    return config


class SecretsExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, hiding more names and the password inside any URL-valued setting."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|SENHA|SALT|CREDENTIAL|PRIVATE|DSN"
        "|DATABASE_URL|BROKER|CACHE_URL|LOCATION|REDIS|SENTRY",
        flags=re.IGNORECASE,
    )

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):
            text = str(cleansed)
            redacted = redact(text)
            if redacted != text:
                return redacted
        return cleansed


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover - gunicorn is a dependency; absent only in odd installs
    _GunicornLogger = object


class MaskedGunicornLogger(_GunicornLogger):
    """gunicorn's logger whose access-log fields (request line, path, query, referer, headers) are
    redacted like every log record: no portal token or notification public id in the access log."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
