"""Reminder channels against real servers on loopback: SMTP (aiosmtpd) and a webhook receiver."""

from __future__ import annotations

import pytest

from dunning.channels import EMAIL, FAILED, SENT, SKIPPED, WEBHOOK, EmailChannel, Message, WebhookChannel
from tests.loopback import free_port

MESSAGE = Message(
    subject="Fibra Rápida: seu boleto vence hoje",
    body="Olá, Maria.\nValor a pagar hoje: R$ 99,90\n",
    email="maria@example.com",
    phone="11999990000",
    data={"charge_reference": "T-ABC", "amount_due_today": "99.90"},
)


def test_email_arrives_at_the_smtp_server_as_sent(smtp, settings):
    settings.DEFAULT_FROM_EMAIL = "cobranca@fibrarapida.example"
    delivery = EmailChannel(reply_to="financeiro@fibrarapida.example").send(MESSAGE)

    assert delivery.outcome == SENT
    [received] = smtp.messages
    assert received.rcpt_tos == ["maria@example.com"]
    assert received.mail_from == "cobranca@fibrarapida.example"
    assert received.subject == "Fibra Rápida: seu boleto vence hoje"
    assert "Valor a pagar hoje: R$ 99,90" in received.text
    assert received.message["Reply-To"] == "financeiro@fibrarapida.example"


def test_email_refused_by_the_server_is_a_failed_delivery_not_an_exception(smtp):
    smtp.refuse_with = "554 5.7.1 Rejected"
    delivery = EmailChannel().send(MESSAGE)
    assert delivery.outcome == FAILED and "554" in delivery.detail
    assert smtp.messages == []


def test_email_with_no_server_listening_fails_cleanly(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    assert EmailChannel().send(MESSAGE).outcome == FAILED


def test_email_without_address_is_skipped(smtp):
    delivery = EmailChannel().send(Message(subject="s", body="b"))
    assert delivery.outcome == SKIPPED and smtp.messages == []


def test_webhook_posts_the_message_as_json(webhook):
    delivery = WebhookChannel(url=webhook.url).send(MESSAGE)

    assert delivery.outcome == SENT and "HTTP 200" in delivery.detail
    [request] = webhook.requests
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert request["json"] == {
        "subject": MESSAGE.subject,
        "body": MESSAGE.body,
        "email": "maria@example.com",
        "phone": "11999990000",
        "data": {"charge_reference": "T-ABC", "amount_due_today": "99.90"},
    }


@pytest.mark.parametrize("status", [302, 400, 500])
def test_webhook_answer_other_than_2xx_is_a_failed_delivery(webhook, status):
    webhook.status = status
    delivery = WebhookChannel(url=webhook.url).send(MESSAGE)
    assert delivery.outcome == FAILED and f"HTTP {status}" in delivery.detail


def test_webhook_unreachable_fails_without_leaking_the_url_credentials():
    url = f"http://relay:s3cr3t-token@127.0.0.1:{free_port()}/send?key=abc"
    delivery = WebhookChannel(url=url).send(MESSAGE)
    assert delivery.outcome == FAILED
    assert "s3cr3t" not in delivery.detail and "key=abc" not in delivery.detail


def test_channels_have_the_names_the_log_records():
    assert (EmailChannel.name, WebhookChannel.name) == (EMAIL, WEBHOOK)
    assert WebhookChannel(url="").send(MESSAGE).outcome == SKIPPED
