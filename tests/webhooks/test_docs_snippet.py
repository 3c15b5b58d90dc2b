"""The verification snippet in docs/collection-cycle.md works on what a delivery really sends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from webhooks import services, signing
from webhooks.models import Delivery, Endpoint, EventType

DOC = Path(__file__).resolve().parents[2] / "docs" / "collection-cycle.md"
SECRET = "docs-snippet-signing-secret"


def snippet_verify():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    code = next(block for block in blocks if "def verify(" in block)
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


@pytest.mark.django_db
def test_the_documented_check_accepts_a_real_delivery_and_refuses_a_tampered_one(receiver, monkeypatch):
    monkeypatch.setattr(services, "enqueue", lambda *args, **kwargs: None)
    Endpoint.objects.create(name="receiver", url=receiver.url, secret=SECRET)
    event = services.event_record(type=EventType.CUSTOMER_BLOCKED, data={"customer": {"id": 7}})
    services.events_fan_out(event_ids=[event.pk])
    services.delivery_attempt(delivery_id=Delivery.objects.get().pk)
    request = receiver.requests[0]
    header = request.headers[signing.SIGNATURE_HEADER]
    verify = snippet_verify()
    assert verify(SECRET, request.body, header)
    assert not verify(SECRET, request.body.replace(b"7", b"8"), header)
    assert not verify("another-secret", request.body, header)
