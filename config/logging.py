"""Logging helpers: a filter that keeps secrets out of every log line."""

from __future__ import annotations

import logging
import re

# Form fields and headers that carry gateway credentials. Values after them are masked wherever a
# message happens to contain a query string, a form body or a repr of a dict.
_SECRET_NAMES = ("token", "txtCod_senha", "password", "senha", "secret", "authorization", "paymentToken")
_PATTERN = re.compile(
    r"(?i)(\b(?:%s)\b['\"]?\s*[:=]\s*['\"]?)([^&'\"\s,}]+)" % "|".join(map(re.escape, _SECRET_NAMES))
)


def redact(text: str) -> str:
    """Mask the value that follows any secret-looking name in free text."""
    return _PATTERN.sub(r"\1***", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites the formatted message so no handler can print a credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not break logging
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
