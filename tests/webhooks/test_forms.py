"""The endpoint form: an address typed without a scheme is taken as HTTPS."""

from __future__ import annotations

from webhooks.forms import EndpointForm

SECRET = "a-long-enough-signing-secret"


def test_an_address_without_a_scheme_is_https(db):
    form = EndpointForm(data={"name": "NOC", "url": "hooks.example.com/cobranca", "secret": SECRET})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["url"] == "https://hooks.example.com/cobranca"


def test_a_plain_http_address_typed_in_full_is_kept(db):
    form = EndpointForm(data={"name": "NOC", "url": "http://127.0.0.1:9000/in", "secret": SECRET})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["url"] == "http://127.0.0.1:9000/in"
