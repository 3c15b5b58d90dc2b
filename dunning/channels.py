"""The ways a reminder reaches a subscriber, behind one small interface.

A channel takes a rendered :class:`Message` and answers with a :class:`Delivery`; it never raises
for a failed delivery (the outcome is logged and shown to staff instead). E-mail goes through
Django's mail framework, so SMTP in production and the console or file backends in development are
settings, not code. The webhook channel posts the message as JSON to a URL staff configure, which is
how a WhatsApp or SMS provider (or an in-house relay) plugs in without code here; a new channel is
one more class with ``name`` and ``send``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.mail import EmailMessage

logger = logging.getLogger(__name__)

SENT = "sent"
FAILED = "failed"
SKIPPED = "skipped"

EMAIL = "email"
WEBHOOK = "webhook"

#: Seconds the webhook receiver gets to answer; a reminder is not worth holding a worker longer.
WEBHOOK_TIMEOUT = (3.05, 10)
#: What is kept of a receiver's or server's answer in the log.
DETAIL_LIMIT = 500


@dataclass(frozen=True)
class Message:
    """One reminder, rendered: what the subscriber reads, and the facts it was made from."""

    subject: str
    body: str
    email: str = ""
    phone: str = ""
    #: Structured facts (charge reference, amounts as strings, dates ISO, links): what a webhook sends.
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    outcome: str  # SENT, FAILED or SKIPPED
    detail: str = ""


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> Delivery: ...


def _short(text: str) -> str:
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"


class EmailChannel:
    """E-mail through Django's configured backend (``EMAIL_BACKEND``)."""

    name = EMAIL

    def __init__(self, *, from_email: str = "", reply_to: str = "", connection: Any = None) -> None:
        self.from_email = from_email or settings.DEFAULT_FROM_EMAIL
        self.reply_to = [reply_to] if reply_to else []
        #: A Django mail connection; None: the configured backend.
        self.connection = connection

    def send(self, message: Message) -> Delivery:
        if not message.email:
            return Delivery(SKIPPED, "no e-mail address")
        mail = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=self.from_email,
            to=[message.email],
            reply_to=self.reply_to,
            connection=self.connection,
        )
        try:
            mail.send(fail_silently=False)
        except Exception as exc:  # SMTP, socket and backend errors alike: recorded, never raised
            logger.warning("reminder e-mail to %s failed: %s", message.email, exc.__class__.__name__)
            return Delivery(FAILED, _short(f"{exc.__class__.__name__}: {exc}"))
        return Delivery(SENT, _short(f"to {message.email}"))


class WebhookChannel:
    """POSTs ``{"subject", "body", "email", "phone", "data"}`` as JSON; any 2xx answer is delivered."""

    name = WEBHOOK

    def __init__(self, *, url: str, session: requests.Session | None = None) -> None:
        self.url = url
        self.session = session or requests.Session()

    def payload(self, message: Message) -> dict[str, Any]:
        return {
            "subject": message.subject,
            "body": message.body,
            "email": message.email,
            "phone": message.phone,
            "data": dict(message.data),
        }

    def send(self, message: Message) -> Delivery:
        if not self.url:
            return Delivery(SKIPPED, "no webhook URL")
        host = urlsplit(self.url).hostname or ""
        try:
            response = self.session.post(
                self.url,
                data=json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8"),
                headers={"Content-Type": "application/json; charset=utf-8"},
                timeout=WEBHOOK_TIMEOUT,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            logger.warning("reminder webhook to %s failed: %s", host, exc.__class__.__name__)
            return Delivery(FAILED, _short(f"{host}: {exc.__class__.__name__}"))
        if 200 <= response.status_code < 300:
            return Delivery(SENT, f"{host}: HTTP {response.status_code}")
        return Delivery(FAILED, _short(f"{host}: HTTP {response.status_code} {response.text.strip()}"))
