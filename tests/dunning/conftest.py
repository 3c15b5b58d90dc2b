"""Loopback mail and webhook servers for the reminder tests."""

from __future__ import annotations

import pytest

from tests.loopback import smtp_server, webhook_receiver


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback; Django's mail goes to it. Yields the inbox."""
    with smtp_server() as (inbox, port):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 5
        yield inbox


@pytest.fixture
def webhook():
    with webhook_receiver() as receiver:
        yield receiver
