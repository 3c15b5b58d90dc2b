"""The signature scheme receivers rely on: HMAC-SHA256 over ``<timestamp>.<body>``."""

from __future__ import annotations

import hashlib
import hmac

from webhooks import signing

BODY = b'{"id":"e1","type":"charge.paid"}'


def test_the_header_is_hmac_sha256_over_timestamp_dot_body():
    header = signing.signature_header("s3cret", BODY, timestamp=1_700_000_000)
    expected = hmac.new(b"s3cret", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_verify_accepts_a_fresh_signature_and_refuses_any_change():
    header = signing.signature_header("s3cret", BODY, timestamp=1_700_000_000)
    assert signing.verify("s3cret", BODY, header, now=1_700_000_100)
    assert not signing.verify("other", BODY, header, now=1_700_000_100)
    assert not signing.verify("s3cret", BODY + b" ", header, now=1_700_000_100)
    moved = header.replace("t=1700000000", "t=1700000050")
    assert not signing.verify("s3cret", BODY, moved, now=1_700_000_100)


def test_verify_refuses_an_old_or_future_timestamp():
    header = signing.signature_header("s3cret", BODY, timestamp=1_700_000_000)
    assert not signing.verify("s3cret", BODY, header, now=1_700_000_000 + 301)
    assert not signing.verify("s3cret", BODY, header, now=1_700_000_000 - 301)
    assert signing.verify("s3cret", BODY, header, now=1_700_000_000 + 301, tolerance=600)


def test_verify_refuses_malformed_headers():
    for header in ("", "v1=abc", "t=x,v1=abc", "t=1700000000"):
        assert not signing.verify("s3cret", BODY, header, now=1_700_000_000)


def test_verify_accepts_any_of_several_v1_signatures():
    good = signing.signature("s3cret", 1_700_000_000, BODY)
    header = f"t=1700000000,v1={'0' * 64},v1={good}"
    assert signing.verify("s3cret", BODY, header, now=1_700_000_000)
